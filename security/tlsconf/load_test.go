package tlsconf

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/hotgrid/hotgrid/security/tlsconf/tlstest"
)

func TestLoadForms(t *testing.T) {
	f := generate(t, tlstest.Options{Password: "pw"})
	combined := filepath.Join(f.Dir, "combined.pem")
	cert, _ := os.ReadFile(f.ServerCert)
	key, _ := os.ReadFile(f.ServerKey)
	if err := os.WriteFile(combined, append(key, cert...), 0o600); err != nil {
		t.Fatal(err)
	}
	for name, id := range map[string]Identity{
		"pem pair":     {CertFile: f.ServerCert, KeyFile: f.ServerKey},
		"pem keystore": {KeystorePath: combined},
		"pkcs12":       {KeystorePath: f.ServerP12, Password: "pw"},
	} {
		t.Run(name, func(t *testing.T) {
			c := newConfig(t, Options{Identities: []Identity{id}})
			got := c.Certificate("")
			if got.Leaf.Subject.CommonName != "localhost" {
				t.Errorf("CN = %q", got.Leaf.Subject.CommonName)
			}
			if len(got.Certificate) != 2 {
				t.Errorf("chain length %d, want leaf + CA", len(got.Certificate))
			}
		})
	}
}

func TestLoadErrors(t *testing.T) {
	f := generate(t, tlstest.Options{Password: "pw"})
	other := generate(t, tlstest.Options{Password: "pw"})
	empty := filepath.Join(f.Dir, "empty.pem")
	os.WriteFile(empty, []byte("-----BEGIN NOTHING-----\n-----END NOTHING-----\n"), 0o600)
	tests := []struct {
		name string
		o    Options
		want []string // substrings of the error
	}{
		{"no identity", Options{}, []string{"no server identity"}},
		{"wrong password", Options{Identities: []Identity{{KeystorePath: f.ServerP12, Password: "bad"}}},
			[]string{f.ServerP12, "wrong keystore password"}},
		{"missing file", Options{Identities: []Identity{{KeystorePath: filepath.Join(f.Dir, "nope.p12")}}},
			[]string{"nope.p12", "no such file"}},
		{"key mismatch", Options{Identities: []Identity{{CertFile: f.ServerCert, KeyFile: other.ServerKey}}},
			[]string{f.ServerCert, other.ServerKey, "does not match"}},
		{"no key", Options{Identities: []Identity{{CertFile: f.ServerCert, KeyFile: f.ServerCert}}},
			[]string{"no private key"}},
		{"no certificate", Options{Identities: []Identity{{KeystorePath: empty}}},
			[]string{empty, "no CERTIFICATE"}},
		{"alias on tlstest store", Options{Identities: []Identity{{KeystorePath: f.Truststore, Password: "pw"}}},
			[]string{f.Truststore, "private key missing"}},
		{"both forms", Options{Identities: []Identity{{KeystorePath: f.ServerP12, CertFile: f.ServerCert}}},
			[]string{"mutually exclusive"}},
		{"client auth without truststore", Options{Identities: []Identity{{KeystorePath: f.ServerP12, Password: "pw"}}, ClientAuth: ClientAuthRequired},
			[]string{"needs a truststore"}},
		{"truststore wrong password", Options{Identities: []Identity{{KeystorePath: f.ServerP12, Password: "pw"}}, TruststorePath: f.Truststore, TruststorePassword: "bad"},
			[]string{f.Truststore, "wrong truststore password"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := New(tt.o)
			if err == nil {
				t.Fatal("New succeeded")
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not mention %q", err, w)
				}
			}
			if strings.Contains(err.Error(), "bad") && tt.name != "no identity" {
				t.Errorf("error %q leaks the password", err)
			}
		})
	}
}

func TestExpiredCertificateWarns(t *testing.T) {
	f := generate(t, tlstest.Options{NotAfter: time.Now().Add(-time.Minute)})
	log, buf := testLogger()
	c := newConfig(t, Options{Identities: []Identity{{CertFile: f.ServerCert, KeyFile: f.ServerKey}}, Logger: log})
	if c.Certificate("") == nil {
		t.Fatal("no certificate")
	}
	if !strings.Contains(buf.String(), "expired") || !strings.Contains(buf.String(), "level=WARN") {
		t.Errorf("no expiry warning in log:\n%s", buf)
	}
}

func TestTruststoreForms(t *testing.T) {
	f := generate(t, tlstest.Options{Password: "pw"})
	for name, o := range map[string]Options{
		"pkcs12 truststore": {TruststorePath: f.Truststore, TruststorePassword: "pw"},
		"pem bundle":        {TruststorePath: f.CA},
		"pkcs12 keystore":   {TruststorePath: f.ServerP12, TruststorePassword: "pw"},
	} {
		t.Run(name, func(t *testing.T) {
			o.Identities = []Identity{{KeystorePath: f.ServerP12, Password: "pw"}}
			c := newConfig(t, o)
			if len(c.cur.Load().trusted) == 0 {
				t.Fatal("no trusted certificate")
			}
		})
	}
}

func TestParseClientAuth(t *testing.T) {
	for in, want := range map[string]ClientAuth{"": ClientAuthNone, "NONE": ClientAuthNone, "requested": ClientAuthRequested, "REQUIRED": ClientAuthRequired} {
		got, err := ParseClientAuth(in)
		if err != nil || got != want {
			t.Errorf("ParseClientAuth(%q) = %v, %v; want %v", in, got, err, want)
		}
	}
	if _, err := ParseClientAuth("WANT"); err == nil {
		t.Error("ParseClientAuth(WANT) succeeded")
	}
}

func TestWildcardMatch(t *testing.T) {
	for _, tt := range []struct {
		pattern, name string
		want          bool
	}{
		{"*.example.com", "a.example.com", true},
		{"*.example.com", "a.b.example.com", false},
		{"*.example.com", "example.com", false},
		{"*.example.com", ".example.com", false},
		{"a.example.com", "a.example.com", false},
	} {
		if got := wildcardMatch(tt.pattern, tt.name); got != tt.want {
			t.Errorf("wildcardMatch(%q, %q) = %v", tt.pattern, tt.name, got)
		}
	}
}
