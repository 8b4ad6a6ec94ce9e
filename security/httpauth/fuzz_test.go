package httpauth

import (
	"net/http/httptest"
	"regexp"
	"strings"
	"sync"
	"testing"

	"github.com/hotgrid/hotgrid/security/realm"
)

// FuzzAuthenticate feeds arbitrary Authorization values to Check and
// Challenge, which must neither panic nor accept them.
func FuzzAuthenticate(f *testing.F) {
	rlm := writeRealm(f, realm.StorageClear, nil)
	a, err := New(rlm, Options{Mechanisms: []Mechanism{Basic, Digest, ClientCert},
		DigestAlgorithms: []Algorithm{MD5, SHA256, MD5Sess, SHA256Sess}})
	if err != nil {
		f.Fatal(err)
	}
	nonce := a.newNonce(a.now())
	good := digestAuth{user: "alice", pass: "wonderland", realm: "default", nonce: nonce, uri: "/"}
	f.Add(good.header())
	goodResponse := regexp.MustCompile(`response="([0-9a-f]+)"`).FindStringSubmatch(good.header())[1]
	f.Add("Digest " + validParams)
	f.Add("Basic YWxpY2U6d3Jvbmc=")
	f.Add("Basic " + strings.Repeat("A", 5000))
	f.Add("digest username=\"\\")
	f.Add("Digest ")
	f.Add("")
	f.Fuzz(func(t *testing.T, v string) {
		r := httptest.NewRequest("GET", "/", nil)
		r.Header["Authorization"] = []string{v}
		id, res := a.Check(r)
		// Only the seeded right answer (once per nonce count, in any
		// spelling) can pass.
		if res == OK && !strings.Contains(v, goodResponse) {
			t.Fatalf("accepted %q as %+v", v, id)
		}
		a.Challenge(r.Header, r)
	})
}

// TestConcurrentNonceUse shares one nonce among goroutines, each with its
// own counts, as an HTTP/2 client would: all succeed once, none twice.
func TestConcurrentNonceUse(t *testing.T) {
	rlm := writeRealm(t, realm.StorageClear, nil)
	a, err := New(rlm, Options{})
	if err != nil {
		t.Fatal(err)
	}
	nonce := a.newNonce(a.now())
	const workers, per = 8, 8
	var wg sync.WaitGroup
	var mu sync.Mutex
	counts := map[Result]int{}
	for w := range workers {
		wg.Go(func() {
			for i := range per {
				nc := w*per + i + 1
				d := digestAuth{user: "alice", pass: "wonderland", realm: "default", nonce: nonce, uri: "/", nc: hex8(nc)}
				for range 2 { // the second is a replay
					_, res := a.Check(request("GET", "/", d.header()))
					mu.Lock()
					counts[res]++
					mu.Unlock()
				}
			}
		})
	}
	wg.Wait()
	if counts[OK] != workers*per || counts[Failed] != workers*per {
		t.Errorf("results %v", counts)
	}
}

func hex8(n int) string {
	const digits = "0123456789abcdef"
	b := []byte("00000000")
	for i := 7; n > 0; i-- {
		b[i] = digits[n%16]
		n /= 16
	}
	return string(b)
}
