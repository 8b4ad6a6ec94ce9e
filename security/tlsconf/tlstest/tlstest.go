// Package tlstest writes throw-away certificates for tests: a CA, a server
// certificate for localhost, 127.0.0.1 and ::1 (plus extra host names) and
// client certificates, as PEM and as PKCS#12 files that both Go and Java
// (javax.net.ssl.keyStore/trustStore with type PKCS12) read. Keys are ECDSA
// P-256 so generation takes milliseconds.
package tlstest

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"fmt"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"time"

	pkcs12 "software.sslmate.com/src/go-pkcs12"
)

// Options says what Generate writes.
type Options struct {
	// Hosts are extra DNS names or IP addresses for the server certificate,
	// beyond localhost, 127.0.0.1 and ::1. The first one, if any, is also
	// its common name (otherwise "localhost").
	Hosts []string
	// Clients are the common names of client certificates to issue.
	Clients []string
	// Password protects every PKCS#12 file; "" means "secret".
	Password string
	// NotAfter ends the validity of the server and client certificates;
	// zero means one year from now. The CA lasts a year longer.
	NotAfter time.Time
	// Prefix is put before every file name, so several sets (for instance
	// two CAs, or two SNI identities) can share a directory.
	Prefix string
}

// Files are the paths Generate wrote.
type Files struct {
	Dir        string
	CA         string // PEM CA certificate
	CAKey      string // PEM CA private key
	ServerCert string // PEM server certificate followed by the CA
	ServerKey  string // PEM server private key (PKCS#8)
	ServerP12  string // PKCS#12 keystore: server key, certificate and CA
	Truststore string // PKCS#12 truststore: the CA as a trusted entry
	Password   string // of every PKCS#12 file

	opts Options
}

// Generate writes a CA, a server certificate and the client certificates
// into dir (created if needed).
func Generate(dir string, o Options) (*Files, error) {
	if o.Password == "" {
		o.Password = "secret"
	}
	if o.NotAfter.IsZero() {
		o.NotAfter = time.Now().AddDate(1, 0, 0)
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("tlstest: %w", err)
	}
	p := func(name string) string { return filepath.Join(dir, o.Prefix+name) }
	f := &Files{
		Dir: dir, CA: p("ca.pem"), CAKey: p("ca-key.pem"),
		ServerCert: p("server.pem"), ServerKey: p("server-key.pem"), ServerP12: p("server.p12"),
		Truststore: p("truststore.p12"), Password: o.Password, opts: o,
	}
	caKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, fmt.Errorf("tlstest: CA key: %w", err)
	}
	cn := "hotgrid test CA " + o.Prefix
	tmpl := &x509.Certificate{
		Subject:               pkix.Name{CommonName: cn, Organization: []string{"hotgrid"}},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              o.NotAfter.AddDate(1, 0, 0),
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageCRLSign | x509.KeyUsageDigitalSignature,
		BasicConstraintsValid: true,
		IsCA:                  true,
	}
	ca, err := sign(tmpl, caKey, nil, caKey)
	if err != nil {
		return nil, err
	}
	if err := writePEM(f.CA, "CERTIFICATE", ca.Raw); err != nil {
		return nil, err
	}
	if err := writeKey(f.CAKey, caKey); err != nil {
		return nil, err
	}
	ts, err := pkcs12.Modern.EncodeTrustStoreEntries([]pkcs12.TrustStoreEntry{{Cert: ca, FriendlyName: "ca"}}, o.Password)
	if err != nil {
		return nil, fmt.Errorf("tlstest: truststore: %w", err)
	}
	if err := writeFile(f.Truststore, ts); err != nil {
		return nil, err
	}
	if err := f.ReissueServer(); err != nil {
		return nil, err
	}
	for _, name := range o.Clients {
		if err := f.issueClient(ca, caKey, name); err != nil {
			return nil, err
		}
	}
	return f, nil
}

// Client returns the PEM certificate, PEM key and PKCS#12 keystore of the
// client certificate issued for name.
func (f *Files) Client(name string) (cert, key, p12 string) {
	p := filepath.Join(f.Dir, f.opts.Prefix+"client-"+name)
	return p + ".pem", p + "-key.pem", p + ".p12"
}

// ClientCertificate loads the client certificate issued for name.
func (f *Files) ClientCertificate(name string) (tls.Certificate, error) {
	cert, key, _ := f.Client(name)
	return tls.LoadX509KeyPair(cert, key)
}

// CertPool returns a pool holding the CA, for clients verifying the server.
func (f *Files) CertPool() (*x509.CertPool, error) {
	data, err := os.ReadFile(f.CA)
	if err != nil {
		return nil, fmt.Errorf("tlstest: %w", err)
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(data) {
		return nil, fmt.Errorf("tlstest: no certificate in %s", f.CA)
	}
	return pool, nil
}

// ReissueServer writes a new server key and certificate (new serial) signed
// by the same CA, replacing server.pem, server-key.pem and server.p12 by
// rename so readers never see a half-written file.
func (f *Files) ReissueServer() error {
	ca, caKey, err := f.loadCA()
	if err != nil {
		return err
	}
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return fmt.Errorf("tlstest: server key: %w", err)
	}
	cn := "localhost"
	if len(f.opts.Hosts) > 0 {
		cn = f.opts.Hosts[0]
	}
	tmpl := &x509.Certificate{
		Subject:     pkix.Name{CommonName: cn, Organization: []string{"hotgrid"}},
		NotBefore:   time.Now().Add(-time.Hour),
		NotAfter:    f.opts.NotAfter,
		KeyUsage:    x509.KeyUsageDigitalSignature,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		DNSNames:    []string{"localhost"},
		IPAddresses: []net.IP{net.IPv4(127, 0, 0, 1), net.IPv6loopback},
	}
	for _, h := range f.opts.Hosts {
		if ip := net.ParseIP(h); ip != nil {
			tmpl.IPAddresses = append(tmpl.IPAddresses, ip)
		} else {
			tmpl.DNSNames = append(tmpl.DNSNames, h)
		}
	}
	cert, err := sign(tmpl, key, ca, caKey)
	if err != nil {
		return err
	}
	return writeIdentity(f.ServerCert, f.ServerKey, f.ServerP12, cert, key, ca, f.Password)
}

// issueClient writes client-NAME.pem, client-NAME-key.pem and client-NAME.p12.
func (f *Files) issueClient(ca *x509.Certificate, caKey *ecdsa.PrivateKey, name string) error {
	if name == "" {
		return errors.New("tlstest: empty client name")
	}
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return fmt.Errorf("tlstest: client key: %w", err)
	}
	tmpl := &x509.Certificate{
		Subject:     pkix.Name{CommonName: name, Organization: []string{"hotgrid"}},
		NotBefore:   time.Now().Add(-time.Hour),
		NotAfter:    f.opts.NotAfter,
		KeyUsage:    x509.KeyUsageDigitalSignature,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth},
	}
	cert, err := sign(tmpl, key, ca, caKey)
	if err != nil {
		return err
	}
	c, k, p := f.Client(name)
	return writeIdentity(c, k, p, cert, key, ca, f.Password)
}

// loadCA reads the CA certificate and key back.
func (f *Files) loadCA() (*x509.Certificate, *ecdsa.PrivateKey, error) {
	pair, err := tls.LoadX509KeyPair(f.CA, f.CAKey)
	if err != nil {
		return nil, nil, fmt.Errorf("tlstest: load CA: %w", err)
	}
	key, ok := pair.PrivateKey.(*ecdsa.PrivateKey)
	if !ok {
		return nil, nil, fmt.Errorf("tlstest: CA key in %s is %T, want ECDSA", f.CAKey, pair.PrivateKey)
	}
	return pair.Leaf, key, nil
}

// sign issues tmpl with a random serial; parent nil means self-signed.
func sign(tmpl *x509.Certificate, key *ecdsa.PrivateKey, parent *x509.Certificate, parentKey *ecdsa.PrivateKey) (*x509.Certificate, error) {
	serial, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 127))
	if err != nil {
		return nil, fmt.Errorf("tlstest: serial: %w", err)
	}
	tmpl.SerialNumber = serial
	if parent == nil {
		parent = tmpl
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, parent, &key.PublicKey, parentKey)
	if err != nil {
		return nil, fmt.Errorf("tlstest: sign %q: %w", tmpl.Subject.CommonName, err)
	}
	return x509.ParseCertificate(der)
}

// writeIdentity writes a certificate (followed by its CA) and key as PEM and
// as a PKCS#12 keystore.
func writeIdentity(certPath, keyPath, p12Path string, cert *x509.Certificate, key *ecdsa.PrivateKey, ca *x509.Certificate, password string) error {
	chain := append(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: cert.Raw}),
		pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: ca.Raw})...)
	if err := writeFile(certPath, chain); err != nil {
		return err
	}
	if err := writeKey(keyPath, key); err != nil {
		return err
	}
	p12, err := pkcs12.Modern.Encode(key, cert, []*x509.Certificate{ca}, password)
	if err != nil {
		return fmt.Errorf("tlstest: encode %s: %w", p12Path, err)
	}
	return writeFile(p12Path, p12)
}

func writeKey(path string, key *ecdsa.PrivateKey) error {
	der, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return fmt.Errorf("tlstest: marshal key: %w", err)
	}
	return writePEM(path, "PRIVATE KEY", der)
}

func writePEM(path, typ string, der []byte) error {
	return writeFile(path, pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: der}))
}

// writeFile replaces path atomically (temporary file and rename).
func writeFile(path string, data []byte) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), ".tmp-"+filepath.Base(path))
	if err != nil {
		return fmt.Errorf("tlstest: %w", err)
	}
	_, werr := tmp.Write(data)
	cerr := tmp.Close()
	if err := errors.Join(werr, cerr); err != nil {
		os.Remove(tmp.Name())
		return fmt.Errorf("tlstest: write %s: %w", path, err)
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		os.Remove(tmp.Name())
		return fmt.Errorf("tlstest: %w", err)
	}
	return nil
}
