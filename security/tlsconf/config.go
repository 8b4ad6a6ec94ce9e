package tlsconf

import (
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"os"
	"slices"
	"sync"
	"sync/atomic"
	"time"
)

// Config owns the live server certificates and trusted CAs. It is safe for
// concurrent use; handshakes never block on Reload.
type Config struct {
	opts Options
	mu   sync.Mutex // serialises Reload
	cur  atomic.Pointer[state]
}

// state is one loaded generation of certificates, swapped whole on reload.
type state struct {
	ids         []*loaded
	trusted     []*x509.Certificate
	server      *tls.Config // returned by GetConfigForClient
	stamps      []stamp     // of the files, taken before reading them
	fingerprint [sha256.Size]byte
}

// New loads and validates every file now. Problems that make TLS unusable
// (missing file, wrong password, no key, alias not found, key not matching
// certificate) are errors naming the file; certificates outside their
// validity period are logged as warnings.
func New(o Options) (*Config, error) {
	o = o.withDefaults()
	if err := o.validate(); err != nil {
		return nil, err
	}
	c := &Config{opts: o}
	st, warnings, err := c.load()
	if err != nil {
		return nil, err
	}
	c.warn(warnings)
	c.cur.Store(st)
	return c, nil
}

// TLSConfig returns a server configuration for tls.Server or tls.NewListener.
// Every handshake goes through GetConfigForClient, which reads the current
// certificates and trusted CAs, so reloads apply to new connections without
// rebuilding listeners. The caller must not set Certificates or change
// ClientCAs; it may set other fields on its copy (they are not carried into
// the per-handshake configuration, which fixes MinVersion, NextProtos,
// ClientAuth and ClientCAs from Options).
func (c *Config) TLSConfig() *tls.Config {
	st := c.cur.Load()
	return &tls.Config{
		MinVersion: c.opts.MinVersion,
		NextProtos: slices.Clone(c.opts.NextProtos),
		ClientAuth: c.opts.ClientAuth.tlsClientAuth(),
		ClientCAs:  st.server.ClientCAs,
		GetCertificate: func(hello *tls.ClientHelloInfo) (*tls.Certificate, error) {
			return c.cur.Load().pick(hello.ServerName), nil
		},
		GetConfigForClient: func(*tls.ClientHelloInfo) (*tls.Config, error) {
			return c.cur.Load().server, nil
		},
	}
}

// Certificate returns the certificate currently served for the SNI name
// ("" for the default identity).
func (c *Config) Certificate(serverName string) *tls.Certificate {
	return c.cur.Load().pick(serverName)
}

// Reload reads every file again. On success with different certificates or
// trusted CAs it installs them for new handshakes and reports changed. On
// failure the current certificates stay in use and the error is returned.
func (c *Config) Reload() (changed bool, err error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	st, warnings, err := c.load()
	if err != nil {
		return false, err
	}
	if st.fingerprint == c.cur.Load().fingerprint {
		return false, nil
	}
	c.warn(warnings)
	c.cur.Store(st)
	return true, nil
}

// load reads all files into a new state.
func (c *Config) load() (*state, []string, error) {
	now := time.Now()
	st := &state{stamps: c.stamps()}
	h := sha256.New()
	var warnings []string
	for _, id := range c.opts.Identities {
		l, w, err := loadIdentity(id, now)
		if err != nil {
			return nil, nil, err
		}
		warnings = append(warnings, w...)
		st.ids = append(st.ids, l)
		for _, der := range l.cert.Certificate {
			h.Write(der)
		}
	}
	var pool *x509.CertPool
	if p := c.opts.TruststorePath; p != "" {
		data, err := os.ReadFile(p)
		if err != nil {
			return nil, nil, fmt.Errorf("tlsconf: read truststore: %w", err)
		}
		st.trusted, err = decodeTruststore(data, c.opts.TruststorePassword)
		if err != nil {
			return nil, nil, fmt.Errorf("tlsconf: truststore %s: %w", p, err)
		}
		pool = x509.NewCertPool()
		h.Write([]byte("truststore"))
		for _, cert := range st.trusted {
			pool.AddCert(cert)
			h.Write(cert.Raw)
			if w := validityWarning(cert, now); w != "" {
				warnings = append(warnings, fmt.Sprintf("truststore %s: %s", p, w))
			}
		}
	}
	h.Sum(st.fingerprint[:0])
	st.server = &tls.Config{
		MinVersion: c.opts.MinVersion,
		NextProtos: slices.Clone(c.opts.NextProtos),
		ClientAuth: c.opts.ClientAuth.tlsClientAuth(),
		ClientCAs:  pool,
		GetCertificate: func(hello *tls.ClientHelloInfo) (*tls.Certificate, error) {
			return st.pick(hello.ServerName), nil
		},
	}
	return st, warnings, nil
}

// warn logs load warnings.
func (c *Config) warn(warnings []string) {
	for _, w := range warnings {
		c.opts.Logger.Warn("tls: " + w)
	}
}
