package httpauth

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hotgrid/hotgrid/security/realm"
)

// These tests drive the Authenticator with the clients it must serve:
// curl (--digest, --basic, HTTP/1.1 and h2c) and Python requests'
// HTTPDigestAuth. A missing client fails the test: it is not optional.

// clientEnv keeps proxies out of the way of loopback requests.
func clientEnv() []string {
	return append(os.Environ(), "NO_PROXY=*", "no_proxy=*", "HTTP_PROXY=", "http_proxy=", "HTTPS_PROXY=", "https_proxy=")
}

func run(t *testing.T, name string, args ...string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.Env = clientEnv()
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("%s %q: %v\n%s", name, args, err, out)
	}
	return string(out)
}

func needCurl(t *testing.T) {
	t.Helper()
	if _, err := exec.LookPath("curl"); err != nil {
		t.Fatalf("curl is required for the client tests: %v", err)
	}
}

// needRequests makes sure python3 can import requests, installing it with
// pip if needed.
func needRequests(t *testing.T) {
	t.Helper()
	if _, err := exec.LookPath("python3"); err != nil {
		t.Fatalf("python3 is required for the client tests: %v", err)
	}
	if exec.Command("python3", "-c", "import requests").Run() == nil {
		return
	}
	if out, err := exec.Command("python3", "-m", "pip", "install", "--quiet", "requests").CombinedOutput(); err != nil {
		t.Fatalf("python requests is required and pip could not install it: %v\n%s", err, out)
	}
	if out, err := exec.Command("python3", "-c", "import requests").CombinedOutput(); err != nil {
		t.Fatalf("python requests still missing after pip install: %v\n%s", err, out)
	}
}

// curl runs curl and returns "body\nstatus http_version".
func curl(t *testing.T, args ...string) string {
	t.Helper()
	base := []string{"-sS", "--noproxy", "*", "--max-time", "20", "-w", `\n%{http_code} %{http_version}`}
	return run(t, "curl", append(base, args...)...)
}

// requestsScript fetches url n times in one session with HTTPDigestAuth and
// prints the status, the body and the algorithm it answered with.
const requestsScript = `
import re, sys, requests
from requests.auth import HTTPDigestAuth
url, user, password, n = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
s = requests.Session()
s.auth = HTTPDigestAuth(user, password)
for i in range(n):
    r = s.get(url, timeout=20)
    auth = r.request.headers.get("Authorization", "")
    m = re.search(r'algorithm="?([A-Za-z0-9-]+)', auth)
    print(r.status_code, m.group(1) if m else "-", r.text)
`

func pyRequests(t *testing.T, url, user, password string, n int) []string {
	t.Helper()
	out := run(t, "python3", "-c", requestsScript, url, user, password, string(rune('0'+n)))
	return strings.Split(strings.TrimSpace(out), "\n")
}

func TestClients(t *testing.T) {
	needCurl(t)
	needRequests(t)
	for _, tc := range []struct {
		name    string
		storage realm.Storage
		algs    []string    // realm credentials
		offer   []Algorithm // Digest algorithms offered
		curlAlg string      // the algorithm curl should answer with (first challenge)
		pyAlg   string      // the one requests should answer with (last challenge)
	}{
		{"clear", realm.StorageClear, nil, nil, "MD5", "SHA-256"},
		{"encrypted md5+sha256", realm.StorageEncrypted, []string{realm.ScramSHA256, realm.DigestMD5, realm.DigestSHA256}, nil, "MD5", "SHA-256"},
		{"encrypted sha256 only", realm.StorageEncrypted, []string{realm.DigestSHA256}, []Algorithm{SHA256}, "SHA-256", "SHA-256"},
		{"legacy digest md5 only", realm.StorageDigest, nil, []Algorithm{MD5}, "MD5", "MD5"},
		{"clear sess", realm.StorageClear, nil, []Algorithm{SHA256Sess, MD5Sess}, "SHA-256-sess", "MD5-sess"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rlm := writeRealm(t, tc.storage, tc.algs)
			a, err := New(rlm, Options{Mechanisms: []Mechanism{Digest, Basic}, DigestAlgorithms: tc.offer})
			if err != nil {
				t.Fatal(err)
			}
			const path = "/rest/v2/caches/default?action=keys&limit=10"
			url := newServer(t, handler(a)).URL + path
			h2url := newH2Server(t, handler(a)).URL + path

			// curl --digest, HTTP/1.1 and HTTP/2.
			out := curl(t, "--digest", "-u", "admin:s3cr:t pass", "-v", url)
			if !strings.Contains(out, "\nadmin admin,ops\n200 1.1") {
				t.Errorf("curl --digest:\n%s", out)
			}
			if !regexp.MustCompile(`(?i)Authorization: Digest .*algorithm=` + regexp.QuoteMeta(tc.curlAlg) + `\b`).MatchString(out) {
				t.Errorf("curl did not answer with %s:\n%s", tc.curlAlg, out)
			}
			out = curl(t, "--http2", "-k", "--digest", "-u", "alice:wonderland", h2url)
			if out != "alice reader\n200 2" {
				t.Errorf("curl --http2 --digest:\n%q", out)
			}
			out = curl(t, "--http2", "-k", "--basic", "-u", "alice:wonderland", h2url)
			if tc.storage != realm.StorageDigest && out != "alice reader\n200 2" {
				t.Errorf("curl --http2 --basic:\n%s", out)
			}
			out = curl(t, "--digest", "-u", "admin:wrong", url)
			if out != "unauthorized: failed\n\n401 1.1" {
				t.Errorf("curl --digest wrong password:\n%s", out)
			}
			if tc.storage != realm.StorageDigest {
				// A digest-only realm cannot check a clear password.
				out = curl(t, "--basic", "-u", "admin:s3cr:t pass", url)
				if out != "admin admin,ops\n200 1.1" {
					t.Errorf("curl --basic:\n%s", out)
				}
			}
			out = curl(t, "--basic", "-u", "admin:wrong", url)
			if out != "unauthorized: failed\n\n401 1.1" {
				t.Errorf("curl --basic wrong password:\n%s", out)
			}

			// Python requests: three requests share one nonce, nc 1..3.
			lines := pyRequests(t, url, "admin", "s3cr:t pass", 3)
			want := "200 " + tc.pyAlg + " admin admin,ops"
			if len(lines) != 3 || lines[0] != want || lines[1] != want || lines[2] != want {
				t.Errorf("requests: %q, want 3 x %q", lines, want)
			}
			lines = pyRequests(t, url, "alice", "wrong", 1)
			if len(lines) != 1 || !strings.HasPrefix(lines[0], "401 ") {
				t.Errorf("requests wrong password: %q", lines)
			}
		})
	}
}

// TestClientsStale: curl and requests, reusing a nonce that has gone stale
// meanwhile, get stale=true and retry with a fresh one.
func TestClientsStale(t *testing.T) {
	needCurl(t)
	needRequests(t)
	rlm := writeRealm(t, realm.StorageClear, nil)
	clk := newClock()
	a, err := New(rlm, Options{Now: clk.Now, NonceLifetime: time.Minute})
	if err != nil {
		t.Fatal(err)
	}
	// Every success ages the clock past the nonce lifetime, so the next
	// request reusing the nonce finds it stale.
	var mu sync.Mutex
	results := map[Result]int{}
	srv := newServer(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		id, res := a.Check(r)
		mu.Lock()
		results[res]++
		mu.Unlock()
		if res != OK {
			a.ChallengeFor(w.Header(), res)
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		clk.Advance(2 * time.Minute)
		fmt.Fprint(w, id.Name)
	}))
	lines := pyRequests(t, srv.URL+"/p", "alice", "wonderland", 3)
	if want := []string{"200 SHA-256 alice", "200 SHA-256 alice", "200 SHA-256 alice"}; !slices.Equal(lines, want) {
		t.Errorf("requests: %q", lines)
	}
	mu.Lock()
	if results[Stale] != 2 || results[OK] != 3 || results[Failed] != 0 {
		t.Errorf("requests: server saw %v", results)
	}
	clear(results)
	mu.Unlock()

	// curl 7.88 starts each URL of a command line with an unauthenticated
	// request, so it never meets a stale nonce; it must still get through.
	out := curl(t, "--digest", "-u", "alice:wonderland", srv.URL+"/a", srv.URL+"/b")
	mu.Lock()
	defer mu.Unlock()
	if out != "alice\n200 1.1alice\n200 1.1" || results[OK] != 2 || results[Failed] != 0 {
		t.Errorf("curl: %q, server saw %v", out, results)
	}
}
