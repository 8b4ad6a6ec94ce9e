package tlsconf

import (
	"crypto/tls"
	"path/filepath"
	"strings"
	"testing"

	"github.com/hotgrid/hotgrid/security/tlsconf/tlstest"
)

// genkey adds a key entry to a PKCS#12 store with keytool, the way the
// Infinispan documentation tells operators to create one.
func genkey(t *testing.T, dir, store, alias, dname, san, alg string) {
	t.Helper()
	args := []string{"-genkeypair", "-keystore", store, "-storetype", "PKCS12", "-storepass", "secret",
		"-alias", alias, "-dname", dname, "-ext", "SAN=" + san, "-validity", "30"}
	if alg == "EC" {
		args = append(args, "-keyalg", "EC", "-groupname", "secp256r1")
	} else {
		args = append(args, "-keyalg", "RSA", "-keysize", "2048")
	}
	keytool(t, dir, args...)
}

func TestKeytoolKeystore(t *testing.T) {
	dir := t.TempDir()
	genkey(t, dir, "one.p12", "server", "CN=localhost", "dns:localhost,ip:127.0.0.1", "EC")
	genkey(t, dir, "two.p12", "server", "CN=localhost", "dns:localhost,ip:127.0.0.1", "EC")
	genkey(t, dir, "two.p12", "other", "CN=other.example", "dns:other.example", "RSA")
	keytool(t, dir, "-exportcert", "-keystore", "one.p12", "-storepass", "secret", "-alias", "server", "-rfc", "-file", "server.crt")
	keytool(t, dir, "-importcert", "-noprompt", "-keystore", "mixed.p12", "-storetype", "PKCS12", "-storepass", "secret", "-alias", "ca", "-file", "server.crt")
	genkey(t, dir, "mixed.p12", "a", "CN=a.example", "dns:a.example", "EC")
	genkey(t, dir, "mixed.p12", "b", "CN=b.example", "dns:b.example", "EC")
	p := func(n string) string { return filepath.Join(dir, n) }

	tests := []struct {
		name    string
		id      Identity
		wantCN  string
		wantErr []string
	}{
		{"single, no alias", Identity{KeystorePath: p("one.p12"), Password: "secret"}, "localhost", nil},
		{"single, alias", Identity{KeystorePath: p("one.p12"), Password: "secret", Alias: "server"}, "localhost", nil},
		{"single, alias any case", Identity{KeystorePath: p("one.p12"), Password: "secret", Alias: "SERVER"}, "localhost", nil},
		{"single, unknown alias", Identity{KeystorePath: p("one.p12"), Password: "secret", Alias: "nope"}, "", []string{"one.p12", `alias "nope" not found`, "server"}},
		{"single, wrong password", Identity{KeystorePath: p("one.p12"), Password: "wrong"}, "", []string{"one.p12", "wrong keystore password"}},
		{"two, first", Identity{KeystorePath: p("two.p12"), Password: "secret"}, "localhost", nil},
		{"two, alias other", Identity{KeystorePath: p("two.p12"), Password: "secret", Alias: "other"}, "other.example", nil},
		{"two, alias server", Identity{KeystorePath: p("two.p12"), Password: "secret", Alias: "server"}, "localhost", nil},
		{"two, unknown alias", Identity{KeystorePath: p("two.p12"), Password: "secret", Alias: "nope"}, "", []string{`alias "nope" not found`, "server", "other"}},
		{"mixed keys and trusted entries", Identity{KeystorePath: p("mixed.p12"), Password: "secret", Alias: "b"}, "", []string{"mixed.p12", "-srcalias"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := New(Options{Identities: []Identity{tt.id}})
			if tt.wantErr != nil {
				if err == nil {
					t.Fatal("New succeeded")
				}
				for _, w := range tt.wantErr {
					if !strings.Contains(err.Error(), w) {
						t.Errorf("error %q does not mention %q", err, w)
					}
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if cn := c.Certificate("").Leaf.Subject.CommonName; cn != tt.wantCN {
				t.Errorf("CN = %q, want %q", cn, tt.wantCN)
			}
		})
	}
}

// TestKeytoolTruststore trusts a tlstest CA through a truststore made by
// keytool -importcert and checks a client certificate from it is accepted.
func TestKeytoolTruststore(t *testing.T) {
	f := generate(t, tlstest.Options{Clients: []string{"alice"}})
	keytool(t, f.Dir, "-importcert", "-noprompt", "-keystore", "kt-trust.p12", "-storetype", "PKCS12",
		"-storepass", "changeit", "-alias", "ca", "-file", f.CA)
	c := newConfig(t, Options{
		Identities:         []Identity{{KeystorePath: f.ServerP12, Password: f.Password}},
		TruststorePath:     filepath.Join(f.Dir, "kt-trust.p12"),
		TruststorePassword: "changeit",
		ClientAuth:         ClientAuthRequired,
	})
	addr := serve(t, c.TLSConfig())
	alice, err := f.ClientCertificate("alice")
	if err != nil {
		t.Fatal(err)
	}
	cfg := clientConfig(t, f, "localhost")
	cfg.Certificates = []tls.Certificate{alice}
	conn, err := roundTrip(addr, cfg)
	if err != nil {
		t.Fatalf("handshake with a trusted client certificate: %v", err)
	}
	conn.Close()
}
