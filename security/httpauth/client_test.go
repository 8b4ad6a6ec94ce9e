package httpauth

import (
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/hotgrid/hotgrid/security/realm"
)

// TestTransport drives the client Transport against the Authenticator:
// each offered algorithm and Basic, a body that cannot be sent twice, a
// stale nonce, and a wrong password.
func TestTransport(t *testing.T) {
	rlm := writeRealm(t, realm.StorageClear, nil)
	u := testUsers[0]
	for _, tc := range []struct {
		name  string
		mechs []Mechanism
		algs  []Algorithm
	}{
		{"digest-md5", []Mechanism{Digest}, []Algorithm{MD5}},
		{"digest-sha256", []Mechanism{Digest}, []Algorithm{SHA256}},
		{"digest-sha256-sess", []Mechanism{Digest}, []Algorithm{SHA256Sess}},
		{"basic", []Mechanism{Basic}, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			clk := newClock()
			a, err := New(rlm, Options{Mechanisms: tc.mechs, DigestAlgorithms: tc.algs, Now: clk.Now})
			if err != nil {
				t.Fatal(err)
			}
			srv := newServer(t, handler(a))
			hc := &http.Client{Transport: &Transport{User: u.name, Password: u.password}}
			for i := 0; i < 3; i++ {
				resp, err := hc.Get(srv.URL + "/x?y=1")
				if err != nil {
					t.Fatal(err)
				}
				if got := body(t, resp); resp.StatusCode != 200 || !strings.HasPrefix(got, "admin ") {
					t.Fatalf("request %d: %d %q", i, resp.StatusCode, got)
				}
			}
			// An upload whose body can be read once, as the first request
			// of a new Transport: it probes with HEAD and sends the body
			// once.
			pr, pw := io.Pipe()
			go func() { pw.Write([]byte("payload")); pw.Close() }()
			req, _ := http.NewRequest(http.MethodPost, srv.URL+"/upload", pr)
			up := &http.Client{Transport: &Transport{User: u.name, Password: u.password}}
			resp, err := up.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			if got := body(t, resp); resp.StatusCode != 200 {
				t.Fatalf("upload: %d %q", resp.StatusCode, got)
			}
			if tc.mechs[0] == Digest {
				// The kept nonce expires: the Transport takes the new
				// challenge and retries a replayable request.
				clk.Advance(10 * time.Minute)
				resp, err := hc.Get(srv.URL + "/after-expiry")
				if err != nil {
					t.Fatal(err)
				}
				if got := body(t, resp); resp.StatusCode != 200 {
					t.Fatalf("after the nonce expired: %d %q", resp.StatusCode, got)
				}
			}
			bad := &http.Client{Transport: &Transport{User: u.name, Password: "wrong"}}
			resp, err = bad.Get(srv.URL + "/x")
			if err != nil {
				t.Fatal(err)
			}
			body(t, resp)
			if resp.StatusCode != http.StatusUnauthorized {
				t.Fatalf("wrong password: %d", resp.StatusCode)
			}
		})
	}
}
