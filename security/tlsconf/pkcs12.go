package tlsconf

import (
	"crypto"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"strings"

	pkcs12 "software.sslmate.com/src/go-pkcs12"
)

// decodePKCS12Keystore returns the private key of the entry named alias (or
// the only or first key entry when alias is "") and every certificate of
// the store; assemble then picks the leaf and chain. warning is set when the
// alias could not be checked.
func decodePKCS12Keystore(data []byte, password, alias string) (key crypto.PrivateKey, certs []*x509.Certificate, warning string, err error) {
	key, leaf, cas, err := pkcs12.DecodeChain(data, password)
	if errors.Is(err, pkcs12.ErrIncorrectPassword) || errors.Is(err, pkcs12.ErrDecryption) {
		return nil, nil, "", fmt.Errorf("wrong keystore password: %w", err)
	}
	if err == nil {
		certs = append([]*x509.Certificate{leaf}, cas...)
		if alias == "" {
			return key, certs, "", nil
		}
		// One key entry: check its friendly name. ToPEM is the only part of
		// go-pkcs12 that exposes friendly names, and it rejects stores with
		// attributes it does not know (Java's trusted-certificate marker).
		names, perr := keyAliases(data, password)
		switch {
		case perr != nil:
			return key, certs, fmt.Sprintf("cannot check alias %q (%v); using the store's only key", alias, perr), nil
		case len(names) == 0 || names[0] == "":
			return key, certs, fmt.Sprintf("key entry has no alias to check %q against; using the store's only key", alias), nil
		case !strings.EqualFold(names[0], alias):
			return nil, nil, "", fmt.Errorf("alias %q not found (key entries: %s)", alias, strings.Join(names, ", "))
		}
		return key, certs, "", nil
	}
	// DecodeChain handles one key entry only; ToPEM returns every bag with
	// its friendly name, which is enough to pick an entry.
	//lint:ignore SA1019 ToPEM is the only go-pkcs12 call exposing friendly names; its key encoding quirk is handled by parseRawPrivateKey.
	blocks, perr := pkcs12.ToPEM(data, password)
	if perr != nil {
		return nil, nil, "", fmt.Errorf("%w; cannot list its entries either (%v): a store holding several keys must hold only key entries, or export the wanted one with keytool -importkeystore -srcalias NAME", err, perr)
	}
	found := false
	var names []string
	for _, b := range blocks {
		switch b.Type {
		case "CERTIFICATE":
			c, err := x509.ParseCertificate(b.Bytes)
			if err != nil {
				return nil, nil, "", fmt.Errorf("parse certificate: %w", err)
			}
			certs = append(certs, c)
		case "PRIVATE KEY":
			name := b.Headers["friendlyName"]
			names = append(names, name)
			if found || (alias != "" && !strings.EqualFold(name, alias)) {
				continue
			}
			// ToPEM labels PKCS#1 and SEC 1 keys "PRIVATE KEY".
			if key, err = parseRawPrivateKey(b.Bytes); err != nil {
				return nil, nil, "", fmt.Errorf("key entry %q: %w", name, err)
			}
			found = true
		}
	}
	if !found {
		if alias == "" {
			return nil, nil, "", errors.New("no key entry")
		}
		return nil, nil, "", fmt.Errorf("alias %q not found (key entries: %s)", alias, strings.Join(names, ", "))
	}
	return key, certs, "", nil
}

// keyAliases lists the friendly names of the store's key entries.
func keyAliases(data []byte, password string) ([]string, error) {
	//lint:ignore SA1019 ToPEM is the only go-pkcs12 call exposing friendly names.
	blocks, err := pkcs12.ToPEM(data, password)
	if err != nil {
		return nil, err
	}
	var names []string
	for _, b := range blocks {
		if b.Type == "PRIVATE KEY" {
			names = append(names, b.Headers["friendlyName"])
		}
	}
	return names, nil
}

// parseRawPrivateKey parses a PKCS#1, SEC 1 or PKCS#8 private key.
func parseRawPrivateKey(der []byte) (crypto.PrivateKey, error) {
	if k, err := x509.ParseECPrivateKey(der); err == nil {
		return k, nil
	}
	if k, err := x509.ParsePKCS1PrivateKey(der); err == nil {
		return k, nil
	}
	k, err := x509.ParsePKCS8PrivateKey(der)
	if err != nil {
		return nil, fmt.Errorf("unsupported private key encoding: %w", err)
	}
	return k, nil
}

// decodeTruststore returns the trusted certificates of a PKCS#12 or PEM
// truststore.
func decodeTruststore(data []byte, password string) ([]*x509.Certificate, error) {
	if isPEM(data) {
		certs, err := parsePEMCertificates(data)
		if err != nil {
			return nil, err
		}
		if len(certs) == 0 {
			return nil, errors.New("no CERTIFICATE block found")
		}
		return certs, nil
	}
	certs, err := pkcs12.DecodeTrustStore(data, password)
	if errors.Is(err, pkcs12.ErrIncorrectPassword) || errors.Is(err, pkcs12.ErrDecryption) {
		return nil, fmt.Errorf("wrong truststore password: %w", err)
	}
	if err == nil {
		if len(certs) == 0 {
			return nil, errors.New("no trusted certificate entries")
		}
		return certs, nil
	}
	// A keystore used as truststore: Java trusts its certificates too.
	_, leaf, cas, kerr := pkcs12.DecodeChain(data, password)
	if kerr != nil {
		return nil, fmt.Errorf("not a truststore (%v) nor a keystore (%v)", err, kerr)
	}
	return append([]*x509.Certificate{leaf}, cas...), nil
}

// parsePEMCertificates returns every CERTIFICATE block of data.
func parsePEMCertificates(data []byte) ([]*x509.Certificate, error) {
	var certs []*x509.Certificate
	for rest := data; ; {
		var b *pem.Block
		b, rest = pem.Decode(rest)
		if b == nil {
			return certs, nil
		}
		if b.Type != "CERTIFICATE" {
			continue
		}
		c, err := x509.ParseCertificate(b.Bytes)
		if err != nil {
			return nil, fmt.Errorf("parse certificate: %w", err)
		}
		certs = append(certs, c)
	}
}
