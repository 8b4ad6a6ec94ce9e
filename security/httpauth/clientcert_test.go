package httpauth

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"math/big"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/hotgrid/hotgrid/security/realm"
)

// issue makes a certificate for cn signed by parent (self-signed when
// parent is nil).
func issue(t *testing.T, cn string, parent *tls.Certificate, ca bool) tls.Certificate {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(time.Now().UnixNano()),
		Subject:      pkix.Name{CommonName: cn},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(time.Hour),
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth},
	}
	if ca {
		tmpl.IsCA, tmpl.BasicConstraintsValid = true, true
		tmpl.KeyUsage |= x509.KeyUsageCertSign
		tmpl.ExtKeyUsage = nil
	}
	signer, signerKey := tmpl, any(key)
	if parent != nil {
		signer, signerKey = parent.Leaf, parent.PrivateKey
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, signer, &key.PublicKey, signerKey)
	if err != nil {
		t.Fatal(err)
	}
	leaf, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key, Leaf: leaf}
}

func TestClientCert(t *testing.T) {
	rlm := writeRealm(t, realm.StorageClear, nil)
	a, err := New(rlm, Options{Mechanisms: []Mechanism{ClientCert, Basic}})
	if err != nil {
		t.Fatal(err)
	}
	ca := issue(t, "test CA", nil, true)
	pool := x509.NewCertPool()
	pool.AddCert(ca.Leaf)
	srv := httptest.NewUnstartedServer(handler(a))
	srv.EnableHTTP2 = true
	srv.TLS = &tls.Config{ClientAuth: tls.VerifyClientCertIfGiven, ClientCAs: pool}
	srv.StartTLS()
	t.Cleanup(srv.Close)

	get := func(cert *tls.Certificate, user, pass string) (int, string) {
		t.Helper()
		tr := srv.Client().Transport.(*http.Transport).Clone()
		if cert != nil {
			tr.TLSClientConfig.Certificates = []tls.Certificate{*cert}
		}
		defer tr.CloseIdleConnections()
		req, _ := http.NewRequest("GET", srv.URL+"/x", nil)
		if user != "" {
			req.SetBasicAuth(user, pass)
		}
		resp, err := (&http.Client{Transport: tr}).Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		if resp.ProtoMajor != 2 {
			t.Errorf("protocol %s", resp.Proto)
		}
		return resp.StatusCode, body(t, resp)
	}
	admin, stranger, noCN := issue(t, "admin", &ca, false), issue(t, "stranger", &ca, false), issue(t, "", &ca, false)
	for _, tc := range []struct {
		name       string
		cert       *tls.Certificate
		user, pass string
		code       int
		body       string
	}{
		{"known user gets groups", &admin, "", "", 200, "admin admin,ops"},
		{"unknown CN, no groups", &stranger, "", "", 200, "stranger "},
		{"no CN", &noCN, "", "", 401, "unauthorized: failed\n"},
		{"no certificate", nil, "", "", 401, "unauthorized: no credentials\n"},
		{"basic without certificate", nil, "alice", "wonderland", 200, "alice reader"},
		{"basic decides over certificate", &admin, "alice", "wonderland", 200, "alice reader"},
		{"wrong basic with certificate", &admin, "alice", "x", 401, "unauthorized: failed\n"},
	} {
		if code, body := get(tc.cert, tc.user, tc.pass); code != tc.code || body != tc.body {
			t.Errorf("%s: %d %q", tc.name, code, body)
		}
	}

	// Without CLIENT_CERT offered a certificate counts for nothing, and
	// over plain HTTP there is none.
	b, err := New(rlm, Options{Mechanisms: []Mechanism{Basic}})
	if err != nil {
		t.Fatal(err)
	}
	r := httptest.NewRequest("GET", "/", nil)
	r.TLS = &tls.ConnectionState{VerifiedChains: [][]*x509.Certificate{{admin.Leaf, ca.Leaf}}}
	if _, res := b.Check(r); res != NoCredentials {
		t.Errorf("not offered: %v", res)
	}
	if id, res := a.Check(r); res != OK || id.Name != "admin" {
		t.Errorf("offered: %v %+v", res, id)
	}
	r.TLS = &tls.ConnectionState{PeerCertificates: []*x509.Certificate{admin.Leaf}}
	if _, res := a.Check(r); res != NoCredentials {
		t.Errorf("unverified: %v", res)
	}
	// CLIENT_CERT adds no challenge.
	h := http.Header{}
	a.Challenge(h, r)
	if got := h.Values("WWW-Authenticate"); len(got) != 1 {
		t.Errorf("challenge %q", got)
	}
}
