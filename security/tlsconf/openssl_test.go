package tlsconf

import (
	"context"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/hotgrid/hotgrid/security/tlsconf/tlstest"
)

// TestOpenSSLClient checks a non-Go client: openssl s_client with SNI, ALPN
// and a client certificate.
func TestOpenSSLClient(t *testing.T) {
	openssl, err := exec.LookPath("openssl")
	if err != nil {
		t.Fatalf("openssl is required for this test: %v", err)
	}
	a := generate(t, tlstest.Options{Hosts: []string{"a.example"}, Clients: []string{"alice"}})
	b := generate(t, tlstest.Options{Hosts: []string{"b.example"}})
	c := newConfig(t, Options{
		Identities: []Identity{
			{KeystorePath: a.ServerP12, Password: a.Password},
			{CertFile: b.ServerCert, KeyFile: b.ServerKey, HostNames: []string{"b.example"}},
		},
		NextProtos: []string{"h2", "HR"},
	})
	addr := serve(t, c.TLSConfig())
	required := newConfig(t, Options{
		Identities:         []Identity{{KeystorePath: a.ServerP12, Password: a.Password}},
		TruststorePath:     a.Truststore,
		TruststorePassword: a.Password,
		ClientAuth:         ClientAuthRequired,
		NextProtos:         []string{"HR"},
	})
	requiredAddr := serve(t, required.TLSConfig())
	aliceCert, aliceKey, _ := a.Client("alice")
	for _, tt := range []struct {
		name, addr, sni, alpn, ca string
		extra                     []string
		wantCN, wantProto         string
		fails                     bool
	}{
		{"default identity", addr, "a.example", "HR", a.CA, nil, "a.example", "HR", false},
		{"sni second identity", addr, "b.example", "h2", b.CA, nil, "b.example", "h2", false},
		{"required client certificate", requiredAddr, "a.example", "HR", a.CA, []string{"-cert", aliceCert, "-key", aliceKey}, "a.example", "HR", false},
		// TLS 1.2 so that the rejection happens inside the handshake.
		{"required, none given", requiredAddr, "a.example", "HR", a.CA, []string{"-tls1_2"}, "", "", true},
	} {
		t.Run(tt.name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			args := append([]string{"s_client", "-connect", tt.addr, "-servername", tt.sni, "-alpn", tt.alpn,
				"-CAfile", tt.ca, "-verify_return_error", "-verify_hostname", tt.sni}, tt.extra...)
			cmd := exec.CommandContext(ctx, openssl, args...)
			cmd.Stdin = strings.NewReader("ping\n")
			out, err := cmd.CombinedOutput()
			if tt.fails {
				if err == nil || !strings.Contains(string(out), "alert") {
					t.Fatalf("openssl %v: err %v, want a TLS alert:\n%s", args, err, out)
				}
				return
			}
			if err != nil {
				t.Fatalf("openssl %v: %v\n%s", args, err, out)
			}
			s := string(out)
			for _, want := range []string{"subject=O=hotgrid, CN=" + tt.wantCN, "ALPN protocol: " + tt.wantProto, "Verify return code: 0 (ok)"} {
				if !strings.Contains(strings.ReplaceAll(s, " = ", "="), want) {
					t.Errorf("openssl output lacks %q:\n%s", want, s)
				}
			}
		})
	}
}
