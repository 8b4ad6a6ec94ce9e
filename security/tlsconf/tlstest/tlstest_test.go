package tlstest

import (
	"crypto/x509"
	"os"
	"testing"

	pkcs12 "software.sslmate.com/src/go-pkcs12"
)

func TestGenerate(t *testing.T) {
	f, err := Generate(t.TempDir(), Options{Hosts: []string{"node1.example", "10.0.0.7"}, Clients: []string{"alice"}, Password: "pw", Prefix: "x-"})
	if err != nil {
		t.Fatal(err)
	}
	pool, err := f.CertPool()
	if err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(f.ServerP12)
	if err != nil {
		t.Fatal(err)
	}
	_, leaf, cas, err := pkcs12.DecodeChain(data, "pw")
	if err != nil || len(cas) != 1 {
		t.Fatalf("server.p12: %v, %d CA certificates", err, len(cas))
	}
	for _, h := range []string{"localhost", "127.0.0.1", "::1", "node1.example", "10.0.0.7"} {
		if _, err := leaf.Verify(x509.VerifyOptions{Roots: pool, DNSName: h}); err != nil {
			t.Errorf("server certificate for %s: %v", h, err)
		}
	}
	data, err = os.ReadFile(f.Truststore)
	if err != nil {
		t.Fatal(err)
	}
	if certs, err := pkcs12.DecodeTrustStore(data, "pw"); err != nil || len(certs) != 1 || !certs[0].IsCA {
		t.Fatalf("truststore.p12: %v, %d certificates", err, len(certs))
	}
	cert, err := f.ClientCertificate("alice")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := cert.Leaf.Verify(x509.VerifyOptions{Roots: pool, KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}}); err != nil {
		t.Errorf("client certificate: %v", err)
	}
	_, _, p12 := f.Client("alice")
	data, err = os.ReadFile(p12)
	if err != nil {
		t.Fatal(err)
	}
	if _, c, _, err := pkcs12.DecodeChain(data, "pw"); err != nil || c.Subject.CommonName != "alice" {
		t.Fatalf("client p12: %v", err)
	}
	before := leaf.SerialNumber
	if err := f.ReissueServer(); err != nil {
		t.Fatal(err)
	}
	data, _ = os.ReadFile(f.ServerP12)
	if _, leaf, _, err = pkcs12.DecodeChain(data, "pw"); err != nil || leaf.SerialNumber.Cmp(before) == 0 {
		t.Fatalf("reissued certificate: %v, same serial %v", err, leaf.SerialNumber.Cmp(before) == 0)
	}
}
