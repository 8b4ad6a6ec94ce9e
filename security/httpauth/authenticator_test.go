package httpauth

import (
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"net/http"
	"net/http/httptest"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/hotgrid/hotgrid/security/realm"
)

var nonceRE = regexp.MustCompile(`nonce="([^"]+)"`)

// challengeNonce asks h for a challenge and returns its nonce.
func challengeNonce(t *testing.T, h http.Handler, uri string) string {
	t.Helper()
	w := do(h, httptest.NewRequest("GET", uri, nil))
	if w.Code != http.StatusUnauthorized {
		t.Fatalf("status %d", w.Code)
	}
	m := nonceRE.FindStringSubmatch(strings.Join(w.Header().Values("WWW-Authenticate"), "\n"))
	if m == nil {
		t.Fatalf("no nonce in %q", w.Header().Values("WWW-Authenticate"))
	}
	return m[1]
}

// digestAuth is the parameters of a Digest Authorization header a test
// builds.
type digestAuth struct {
	alg                               Algorithm
	user, pass, realm, nonce, uri, nc string
	method                            string
	extra                             string
}

func (d digestAuth) header() string {
	if d.alg == "" {
		d.alg = MD5
	}
	if d.nc == "" {
		d.nc = "00000001"
	}
	if d.method == "" {
		d.method = "GET"
	}
	resp := digestResponse(d.alg, userRealmHash(d.alg, d.user, d.realm, d.pass), d.nonce, d.nc, "0a4f113b", "auth", d.method, d.uri)
	return fmt.Sprintf(`Digest username="%s", realm="%s", nonce="%s", uri="%s", algorithm=%s, qop=auth, nc=%s, cnonce="0a4f113b", response="%s"%s`,
		d.user, d.realm, d.nonce, d.uri, d.alg, d.nc, hex.EncodeToString(resp), d.extra)
}

func request(method, uri, authorization string) *http.Request {
	r := httptest.NewRequest(method, uri, nil)
	if authorization != "" {
		r.Header.Set("Authorization", authorization)
	}
	return r
}

func TestChallengeHeaders(t *testing.T) {
	rlm := writeRealm(t, realm.StorageClear, nil)
	a, err := New(rlm, Options{Mechanisms: []Mechanism{Basic, Digest, ClientCert}})
	if err != nil {
		t.Fatal(err)
	}
	h := http.Header{}
	a.Challenge(h, nil)
	got := h.Values("WWW-Authenticate")
	if len(got) != 3 {
		t.Fatalf("challenges %q", got)
	}
	nonce := nonceRE.FindStringSubmatch(got[1])[1]
	want := []string{
		`Basic realm="default", charset="UTF-8"`,
		`Digest realm="default", qop="auth", nonce="` + nonce + `", algorithm=MD5`,
		`Digest realm="default", qop="auth", nonce="` + nonce + `", algorithm=SHA-256`,
	}
	if !slices.Equal(got, want) {
		t.Errorf("challenges\n%q\nwant\n%q", got, want)
	}
	if len(nonce) != 48 {
		t.Errorf("nonce %q", nonce)
	}
	if quote(`a"b\c`+"\n") != `"a\"b\\c_"` {
		t.Errorf("quote %s", quote(`a"b\c`+"\n"))
	}
}

func TestDigest(t *testing.T) {
	for _, tc := range []struct {
		name    string
		storage realm.Storage
		algs    []string
	}{
		{"clear", realm.StorageClear, nil},
		{"encrypted", realm.StorageEncrypted, []string{realm.DigestMD5, realm.DigestSHA256}},
		{"default encrypted", realm.StorageEncrypted, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rlm := writeRealm(t, tc.storage, tc.algs)
			for _, alg := range []Algorithm{MD5, SHA256, MD5Sess, SHA256Sess} {
				a, err := New(rlm, Options{DigestAlgorithms: []Algorithm{alg}})
				if err != nil {
					t.Fatal(err)
				}
				h := handler(a)
				nonce := challengeNonce(t, h, "/rest/v2/caches")
				d := digestAuth{alg: alg, user: "admin", pass: "s3cr:t pass", realm: "default", nonce: nonce, uri: "/rest/v2/caches?action=x"}
				w := do(h, request("GET", "/rest/v2/caches?action=x", d.header()))
				if w.Code != http.StatusOK || w.Body.String() != "admin admin,ops" {
					t.Errorf("%s: %d %q", alg, w.Code, w.Body)
				}
			}
		})
	}
}

func TestDigestRejects(t *testing.T) {
	rlm := writeRealm(t, realm.StorageEncrypted, []string{realm.DigestMD5, realm.DigestSHA256})
	clk := newClock()
	a, err := New(rlm, Options{Now: clk.Now})
	if err != nil {
		t.Fatal(err)
	}
	h := handler(a)
	nonce := challengeNonce(t, h, "/")
	good := digestAuth{user: "alice", pass: "wonderland", realm: "default", nonce: nonce, uri: "/k"}
	tampered := []byte(nonce)
	tampered[10] ^= 1
	mod := func(f func(*digestAuth)) string {
		d := good
		f(&d)
		return d.header()
	}
	for _, tc := range []struct{ name, method, uri, auth string }{
		{"wrong password", "GET", "/k", mod(func(d *digestAuth) { d.pass = "wonderlan" })},
		{"unknown user", "GET", "/k", mod(func(d *digestAuth) { d.user = "bob" })},
		{"tampered nonce", "GET", "/k", mod(func(d *digestAuth) { d.nonce = string(tampered) })},
		{"made-up nonce", "GET", "/k", mod(func(d *digestAuth) { d.nonce = strings.Repeat("A", 48) })},
		{"wrong uri", "GET", "/other", good.header()},
		{"wrong method", "PUT", "/k", good.header()},
		{"wrong realm", "GET", "/k", mod(func(d *digestAuth) { d.realm = "other" })},
		{"algorithm not offered", "GET", "/k", mod(func(d *digestAuth) { d.alg = MD5Sess })},
		{"nc zero", "GET", "/k", mod(func(d *digestAuth) { d.nc = "00000000" })},
		{"nc short", "GET", "/k", mod(func(d *digestAuth) { d.nc = "1" })},
		{"userhash", "GET", "/k", mod(func(d *digestAuth) { d.extra = ", userhash=true" })},
		{"duplicate", "GET", "/k", mod(func(d *digestAuth) { d.extra = `, realm="default"` })},
		{"qop auth-int", "GET", "/k", strings.Replace(good.header(), "qop=auth", "qop=auth-int", 1)},
		{"response short", "GET", "/k", regexp.MustCompile(`response="[0-9a-f]+"`).ReplaceAllString(good.header(), `response="abcd"`)},
		{"RFC 2069 form", "GET", "/k", regexp.MustCompile(`, (qop|nc|cnonce)=[^,]+`).ReplaceAllString(good.header(), "")},
	} {
		if _, res := a.Check(request(tc.method, tc.uri, tc.auth)); res != Failed {
			t.Errorf("%s: %v", tc.name, res)
		}
	}
	// Nothing above touched the replay cache: only right responses do.
	if n := a.replay.len(); n != 0 {
		t.Errorf("replay cache holds %d nonces", n)
	}
	// Two Authorization headers are ambiguous.
	r := request("GET", "/k", good.header())
	r.Header.Add("Authorization", good.header())
	if _, res := a.Check(r); res != Failed {
		t.Errorf("two headers: %v", res)
	}
	if _, res := a.Check(request("GET", "/k", good.header())); res != OK {
		t.Fatalf("good: %v", res)
	}
}

func TestDigestReplay(t *testing.T) {
	rlm := writeRealm(t, realm.StorageClear, nil)
	a, err := New(rlm, Options{})
	if err != nil {
		t.Fatal(err)
	}
	nonce := challengeNonce(t, handler(a), "/")
	check := func(nc string) Result {
		d := digestAuth{user: "alice", pass: "wonderland", realm: "default", nonce: nonce, uri: "/", nc: nc}
		_, res := a.Check(request("GET", "/", d.header()))
		return res
	}
	for _, step := range []struct {
		nc   string
		want Result
	}{
		{"00000001", OK},
		{"00000001", Failed}, // replay
		{"00000003", OK},
		{"00000002", OK},     // overtaken, inside the window
		{"00000002", Failed}, // replay
		{"00000100", OK},
		{"00000003", Failed}, // below the window
		{"000000c1", OK},     // 0x100-0xc1 = 63: just inside
		{"000000c0", Failed}, // 64 below: outside
		{"000000ff", OK},
		{"000000FF", Failed}, // same count in upper case
	} {
		if got := check(step.nc); got != step.want {
			t.Errorf("nc %s: %v, want %v", step.nc, got, step.want)
		}
	}
}

func TestDigestStale(t *testing.T) {
	rlm := writeRealm(t, realm.StorageClear, nil)
	clk := newClock()
	a, err := New(rlm, Options{Now: clk.Now, NonceLifetime: time.Minute})
	if err != nil {
		t.Fatal(err)
	}
	h := twoCallHandler(a)
	nonce := challengeNonce(t, h, "/")
	good := digestAuth{user: "alice", pass: "wonderland", realm: "default", nonce: nonce, uri: "/"}
	if w := do(h, request("GET", "/", good.header())); w.Code != http.StatusOK {
		t.Fatalf("fresh: %d", w.Code)
	}
	clk.Advance(time.Minute + time.Second)
	good.nc = "00000002"
	w := do(h, request("GET", "/", good.header()))
	chal := w.Header().Values("WWW-Authenticate")
	if w.Code != http.StatusUnauthorized || len(chal) != 3 || !strings.HasSuffix(chal[0], ", stale=true") || !strings.HasSuffix(chal[1], ", stale=true") || strings.Contains(chal[2], "stale") {
		t.Errorf("stale: %d %q", w.Code, chal)
	}
	if _, res := a.Check(request("GET", "/", good.header())); res != Stale {
		t.Errorf("Check: %v", res)
	}
	// A stale nonce with a wrong password is a plain failure.
	bad := good
	bad.pass = "x"
	w = do(h, request("GET", "/", bad.header()))
	if w.Code != http.StatusUnauthorized || strings.Contains(strings.Join(w.Header().Values("WWW-Authenticate"), " "), "stale") {
		t.Errorf("stale with wrong password: %d %q", w.Code, w.Header().Values("WWW-Authenticate"))
	}
	// The new nonce works.
	good.nonce = nonceRE.FindStringSubmatch(chal[1])[1]
	good.nc = "00000001"
	if w := do(h, request("GET", "/", good.header())); w.Code != http.StatusOK {
		t.Errorf("new nonce: %d", w.Code)
	}
	// A nonce from the future (clock stepped back a lot) is refused.
	clk.Advance(-time.Hour)
	if _, res := a.Check(request("GET", "/", good.header())); res != Failed {
		t.Errorf("future nonce: %v", res)
	}
}

func TestReplayCacheEviction(t *testing.T) {
	rlm := writeRealm(t, realm.StorageClear, nil)
	clk := newClock()
	a, err := New(rlm, Options{Now: clk.Now, ReplayCacheSize: 4})
	if err != nil {
		t.Fatal(err)
	}
	var nonces []string
	for range 6 {
		nonces = append(nonces, challengeNonce(t, handler(a), "/"))
		clk.Advance(time.Second)
	}
	use := func(nonce, nc string) Result {
		d := digestAuth{user: "alice", pass: "wonderland", realm: "default", nonce: nonce, uri: "/", nc: nc}
		_, res := a.Check(request("GET", "/", d.header()))
		return res
	}
	for i, n := range nonces[:4] {
		if res := use(n, "00000001"); res != OK {
			t.Fatalf("nonce %d: %v", i, res)
		}
	}
	// The fifth nonce evicts the older half (nonces 0-2, at or below the
	// median) and makes them stale.
	if res := use(nonces[4], "00000001"); res != OK {
		t.Fatalf("nonce 4: %v", res)
	}
	if n := a.replay.len(); n != 2 {
		t.Errorf("cache holds %d", n)
	}
	for i, n := range nonces[:3] {
		if res := use(n, "00000002"); res != Stale {
			t.Errorf("evicted nonce %d: %v", i, res)
		}
	}
	if res := use(nonces[3], "00000001"); res != Failed {
		t.Errorf("kept nonce replay: %v", res)
	}
	if res := use(nonces[5], "00000001"); res != OK {
		t.Errorf("nonce 5: %v", res)
	}
	// When the cache is full again, expired nonces go first and the floor
	// stays.
	clk.Advance(DefaultNonceLifetime)
	floor := a.replay.floor
	for i := range 2 {
		fresh := challengeNonce(t, handler(a), "/")
		if res := use(fresh, "00000001"); res != OK {
			t.Errorf("fresh %d: %v", i, res)
		}
	}
	if n := a.replay.len(); n != 2 || a.replay.floor != floor {
		t.Errorf("after expiry cache holds %d, floor moved %v", n, a.replay.floor != floor)
	}
}

func TestBasic(t *testing.T) {
	rlm := writeRealm(t, realm.StorageEncrypted, nil)
	a, err := New(rlm, Options{Mechanisms: []Mechanism{Basic}})
	if err != nil {
		t.Fatal(err)
	}
	b64 := func(s string) string { return "Basic " + base64.StdEncoding.EncodeToString([]byte(s)) }
	for _, tc := range []struct {
		auth string
		want Result
		id   string
	}{
		{b64("admin:s3cr:t pass"), OK, "admin"},
		{"bAsIc  " + base64.StdEncoding.EncodeToString([]byte("alice:wonderland")), OK, "alice"},
		{b64("admin:s3cr:t pas"), Failed, ""},
		{b64("admin"), Failed, ""},
		{b64(":x"), Failed, ""},
		{b64("nobody:x"), Failed, ""},
		{"Basic !!!", Failed, ""},
		{"Basic", Failed, ""},
		{"Digest " + validParams, NoCredentials, ""}, // not offered
		{"Bearer abc", NoCredentials, ""},
		{"", NoCredentials, ""},
	} {
		id, res := a.Check(request("GET", "/", tc.auth))
		if res != tc.want || id.Name != tc.id {
			t.Errorf("%q: %v %+v", tc.auth, res, id)
		}
	}
	h := http.Header{}
	a.Challenge(h, request("GET", "/", "Digest "+validParams))
	if got := h.Values("WWW-Authenticate"); !slices.Equal(got, []string{`Basic realm="default", charset="UTF-8"`}) {
		t.Errorf("challenge %q", got)
	}
}

func TestNewOptions(t *testing.T) {
	rlm := writeRealm(t, realm.StorageClear, nil)
	for _, o := range []Options{
		{Mechanisms: []Mechanism{"NEGOTIATE"}},
		{Mechanisms: []Mechanism{Basic, Basic}},
		{DigestAlgorithms: []Algorithm{"SHA-512"}},
		{DigestAlgorithms: []Algorithm{"md5"}},
		{DigestAlgorithms: []Algorithm{MD5, MD5}},
		{DigestAlgorithms: []Algorithm{}},
		{NonceLifetime: -1},
		{ReplayCacheSize: -1},
		{Rand: strings.NewReader("short")},
	} {
		if _, err := New(rlm, o); err == nil {
			t.Errorf("%+v accepted", o)
		}
	}
	if _, err := New(nil, Options{}); err == nil {
		t.Error("nil credentials accepted")
	}
	a, err := New(rlm, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if got := a.Mechanisms(); !slices.Equal(got, []Mechanism{Digest, Basic}) {
		t.Errorf("default mechanisms %v", got)
	}
}

// TestNonceRandFailure: a random source that runs dry after the key still
// yields unique, valid nonces.
func TestNonceRandFailure(t *testing.T) {
	rlm := writeRealm(t, realm.StorageClear, nil)
	a, err := New(rlm, Options{Rand: strings.NewReader(strings.Repeat("k", 32))})
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	n1, n2 := a.newNonce(now), a.newNonce(now)
	if n1 == n2 {
		t.Error("equal nonces")
	}
	for _, n := range []string{n1, n2} {
		if issued, ok := a.openNonce(n); !ok || !issued.Equal(now) {
			t.Errorf("nonce %q: %v %v", n, issued, ok)
		}
	}
}
