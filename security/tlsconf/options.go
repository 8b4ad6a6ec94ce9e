package tlsconf

import (
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"
)

// DefaultReloadInterval is how often Watch checks the files when
// Options.ReloadInterval is zero.
const DefaultReloadInterval = 5 * time.Second

// Identity is one server certificate source: the ssl server identity of one
// security realm.
type Identity struct {
	// KeystorePath is a PKCS#12 file (.p12/.pfx) or a PEM file holding a
	// certificate chain and its private key. Mutually exclusive with
	// CertFile/KeyFile.
	KeystorePath string
	// Password opens a PKCS#12 keystore. Encrypted PEM keys are not
	// supported.
	Password string
	// Alias is the PKCS#12 friendly name of the key entry to use; "" takes
	// the first key entry. See the package documentation for its limits.
	Alias string
	// CertFile and KeyFile are a PEM certificate chain (leaf first or in any
	// order) and its PEM private key.
	CertFile, KeyFile string
	// HostNames this identity serves for SNI: exact names or wildcards such
	// as "*.example.com" (one label). Empty means the identity is only chosen
	// by its certificate's names or as the default.
	HostNames []string
}

// ClientAuth says whether the server asks for client certificates.
type ClientAuth int

// Client authentication modes, as Infinispan's endpoint client-auth attribute
// names them (NONE, REQUESTED, REQUIRED).
const (
	ClientAuthNone ClientAuth = iota
	ClientAuthRequested
	ClientAuthRequired
)

// String returns the Infinispan name of the mode.
func (a ClientAuth) String() string {
	switch a {
	case ClientAuthNone:
		return "NONE"
	case ClientAuthRequested:
		return "REQUESTED"
	case ClientAuthRequired:
		return "REQUIRED"
	}
	return fmt.Sprintf("ClientAuth(%d)", int(a))
}

// ParseClientAuth maps Infinispan's client-auth attribute value (any case)
// to a ClientAuth; "" is ClientAuthNone.
func ParseClientAuth(s string) (ClientAuth, error) {
	switch strings.ToUpper(s) {
	case "", "NONE":
		return ClientAuthNone, nil
	case "REQUESTED":
		return ClientAuthRequested, nil
	case "REQUIRED":
		return ClientAuthRequired, nil
	}
	return 0, fmt.Errorf("tlsconf: unknown client-auth %q (want NONE, REQUESTED or REQUIRED)", s)
}

// tlsClientAuth maps the mode to crypto/tls.
func (a ClientAuth) tlsClientAuth() tls.ClientAuthType {
	switch a {
	case ClientAuthRequested:
		return tls.VerifyClientCertIfGiven
	case ClientAuthRequired:
		return tls.RequireAndVerifyClientCert
	}
	return tls.NoClientCert
}

// Options configures a Config.
type Options struct {
	// Identities are the server certificates; the first is the default.
	// SNI picks by Identity.HostNames (exact, then wildcard), then by the
	// certificates' DNS/IP names, then falls back to the default.
	Identities []Identity
	// TruststorePath is a PKCS#12 truststore or a PEM bundle of CA
	// certificates used to verify client certificates.
	TruststorePath     string
	TruststorePassword string
	// ClientAuth needs a truststore unless it is ClientAuthNone.
	ClientAuth ClientAuth
	// NextProtos are the ALPN protocol ids offered, in server preference
	// order, e.g. "h2", "http/1.1", "HR".
	NextProtos []string
	// MinVersion is the lowest TLS version accepted; 0 means TLS 1.2.
	MinVersion uint16
	// ReloadInterval is how often Watch checks the files' size and
	// modification time: 0 means DefaultReloadInterval, negative disables
	// Watch.
	ReloadInterval time.Duration
	// Logger receives reload and warning messages; nil means slog.Default().
	Logger *slog.Logger
}

// withDefaults returns o with zero fields replaced by their defaults.
func (o Options) withDefaults() Options {
	if o.MinVersion == 0 {
		o.MinVersion = tls.VersionTLS12
	}
	if o.ReloadInterval == 0 {
		o.ReloadInterval = DefaultReloadInterval
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	return o
}

// validate checks the shape of the options; file contents are checked when
// they are loaded.
func (o Options) validate() error {
	if len(o.Identities) == 0 {
		return errors.New("tlsconf: no server identity configured")
	}
	for i, id := range o.Identities {
		pem := id.CertFile != "" || id.KeyFile != ""
		switch {
		case id.KeystorePath != "" && pem:
			return fmt.Errorf("tlsconf: identity %d: keystore %s and certificate/key files are mutually exclusive", i, id.KeystorePath)
		case id.KeystorePath == "" && !pem:
			return fmt.Errorf("tlsconf: identity %d: neither keystore nor certificate/key files given", i)
		case pem && (id.CertFile == "" || id.KeyFile == ""):
			return fmt.Errorf("tlsconf: identity %d: certificate file and key file must both be given", i)
		}
	}
	switch o.MinVersion {
	case tls.VersionTLS10, tls.VersionTLS11, tls.VersionTLS12, tls.VersionTLS13:
	default:
		return fmt.Errorf("tlsconf: unknown minimum TLS version 0x%04x", o.MinVersion)
	}
	switch o.ClientAuth {
	case ClientAuthNone:
	case ClientAuthRequested, ClientAuthRequired:
		if o.TruststorePath == "" {
			return fmt.Errorf("tlsconf: client-auth %s needs a truststore", o.ClientAuth)
		}
	default:
		return fmt.Errorf("tlsconf: unknown client auth %d", int(o.ClientAuth))
	}
	return nil
}
