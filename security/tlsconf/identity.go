package tlsconf

import (
	"bytes"
	"crypto"
	"crypto/tls"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"os"
	"time"
)

// loaded is one identity ready to serve.
type loaded struct {
	cert      *tls.Certificate // Leaf is set
	hostNames []string         // lower-case, from Identity.HostNames
	source    string           // file name(s), for messages
}

// loadIdentity reads one identity's files and checks the key matches the
// certificate. Validity problems come back as warnings, not errors, so an
// expired certificate is served (as Infinispan does) but reported.
func loadIdentity(id Identity, now time.Time) (l *loaded, warnings []string, err error) {
	var (
		key    crypto.PrivateKey
		certs  []*x509.Certificate
		source string
	)
	if id.KeystorePath != "" {
		source = id.KeystorePath
		data, err := os.ReadFile(id.KeystorePath)
		if err != nil {
			return nil, nil, fmt.Errorf("tlsconf: read keystore: %w", err)
		}
		if isPEM(data) {
			key, certs, err = parsePEMKeyPair(data, data)
		} else {
			var w string
			key, certs, w, err = decodePKCS12Keystore(data, id.Password, id.Alias)
			if w != "" {
				warnings = append(warnings, fmt.Sprintf("keystore %s: %s", source, w))
			}
		}
		if err != nil {
			return nil, nil, fmt.Errorf("tlsconf: keystore %s: %w", id.KeystorePath, err)
		}
	} else {
		source = id.CertFile + " + " + id.KeyFile
		certPEM, err := os.ReadFile(id.CertFile)
		if err != nil {
			return nil, nil, fmt.Errorf("tlsconf: read certificate: %w", err)
		}
		keyPEM, err := os.ReadFile(id.KeyFile)
		if err != nil {
			return nil, nil, fmt.Errorf("tlsconf: read private key: %w", err)
		}
		key, certs, err = parsePEMKeyPair(certPEM, keyPEM)
		if err != nil {
			return nil, nil, fmt.Errorf("tlsconf: certificate %s, key %s: %w", id.CertFile, id.KeyFile, err)
		}
	}
	cert, err := assemble(key, certs)
	if err != nil {
		return nil, nil, fmt.Errorf("tlsconf: %s: %w", source, err)
	}
	if w := validityWarning(cert.Leaf, now); w != "" {
		warnings = append(warnings, fmt.Sprintf("%s: %s", source, w))
	}
	l = &loaded{cert: cert, source: source}
	for _, h := range id.HostNames {
		l.hostNames = append(l.hostNames, normalizeHost(h))
	}
	return l, warnings, nil
}

// isPEM reports whether data looks like PEM text rather than DER.
func isPEM(data []byte) bool {
	return bytes.Contains(data, []byte("-----BEGIN "))
}

// parsePEMKeyPair takes the certificates from certPEM and the one private
// key from keyPEM (they may be the same bytes).
func parsePEMKeyPair(certPEM, keyPEM []byte) (crypto.PrivateKey, []*x509.Certificate, error) {
	certs, err := parsePEMCertificates(certPEM)
	if err != nil {
		return nil, nil, err
	}
	if len(certs) == 0 {
		return nil, nil, errors.New("no CERTIFICATE block found")
	}
	var key crypto.PrivateKey
	for rest := keyPEM; ; {
		var b *pem.Block
		b, rest = pem.Decode(rest)
		if b == nil {
			break
		}
		var err error
		switch b.Type {
		case "PRIVATE KEY":
			key, err = x509.ParsePKCS8PrivateKey(b.Bytes)
		case "RSA PRIVATE KEY":
			if b.Headers["DEK-Info"] != "" {
				return nil, nil, errors.New("encrypted PEM private keys are not supported")
			}
			key, err = x509.ParsePKCS1PrivateKey(b.Bytes)
		case "EC PRIVATE KEY":
			if b.Headers["DEK-Info"] != "" {
				return nil, nil, errors.New("encrypted PEM private keys are not supported")
			}
			key, err = x509.ParseECPrivateKey(b.Bytes)
		case "ENCRYPTED PRIVATE KEY":
			return nil, nil, errors.New("encrypted PEM private keys are not supported")
		default:
			continue
		}
		if err != nil {
			return nil, nil, fmt.Errorf("parse %s: %w", b.Type, err)
		}
		break
	}
	if key == nil {
		return nil, nil, errors.New("no private key block found")
	}
	return key, certs, nil
}

// assemble finds the certificate matching key among certs and orders the
// chain leaf first, following issuers; certificates not on the chain (other
// entries of a keystore) are left out.
func assemble(key crypto.PrivateKey, certs []*x509.Certificate) (*tls.Certificate, error) {
	signer, ok := key.(crypto.Signer)
	if !ok {
		return nil, fmt.Errorf("unsupported private key type %T", key)
	}
	pub, ok := signer.Public().(interface{ Equal(crypto.PublicKey) bool })
	if !ok {
		return nil, fmt.Errorf("unsupported public key type %T", signer.Public())
	}
	var leaf *x509.Certificate
	for _, c := range certs {
		if pub.Equal(c.PublicKey) {
			leaf = c
			break
		}
	}
	if leaf == nil {
		return nil, fmt.Errorf("private key does not match the certificate (subject %q)", certs[0].Subject.String())
	}
	chain := []*x509.Certificate{leaf}
	for cur := leaf; len(chain) <= len(certs); {
		if bytes.Equal(cur.RawIssuer, cur.RawSubject) {
			break // self-signed: the root
		}
		var next *x509.Certificate
		for _, c := range certs {
			if c != cur && bytes.Equal(c.RawSubject, cur.RawIssuer) && cur.CheckSignatureFrom(c) == nil {
				next = c
				break
			}
		}
		if next == nil {
			break
		}
		chain = append(chain, next)
		cur = next
	}
	out := &tls.Certificate{PrivateKey: key, Leaf: leaf}
	for _, c := range chain {
		out.Certificate = append(out.Certificate, c.Raw)
	}
	return out, nil
}

// validityWarning describes a certificate outside its validity period.
func validityWarning(c *x509.Certificate, now time.Time) string {
	switch {
	case now.After(c.NotAfter):
		return fmt.Sprintf("certificate %q expired on %s", c.Subject.String(), c.NotAfter.UTC().Format(time.RFC3339))
	case now.Before(c.NotBefore):
		return fmt.Sprintf("certificate %q is not valid before %s", c.Subject.String(), c.NotBefore.UTC().Format(time.RFC3339))
	}
	return ""
}
