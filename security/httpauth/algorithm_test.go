package httpauth

import (
	"encoding/hex"
	"testing"
)

// TestRFC7616Example checks the request-digest against RFC 7616 section
// 3.9.1.
func TestRFC7616Example(t *testing.T) {
	const (
		user   = "Mufasa"
		pass   = "Circle of Life"
		rlm    = "http-auth@example.org"
		nonce  = "7ypf/xlj9XXwfDPEoM4URrv/xwf94BcCAzFZH4GiTo0v"
		cnonce = "f2/wE4q74E6zIJEtWaHKaf5wv/H5QzzpXusqGemxURZJ"
	)
	for _, tc := range []struct {
		alg  Algorithm
		want string
	}{
		{MD5, "8ca523f5e9506fed4657c9700eebdbec"},
		{SHA256, "753927fa0e85d155564e2e272a28d1802ca10daf4496794697cf8db5856cb6c1"},
	} {
		got := digestResponse(tc.alg, userRealmHash(tc.alg, user, rlm, pass), nonce, "00000001", cnonce, "auth", "GET", "/dir/index.html")
		if hex.EncodeToString(got) != tc.want {
			t.Errorf("%s: response %x, want %s", tc.alg, got, tc.want)
		}
	}
}

// TestSessVariants checks the -sess A1 against a computation spelled out
// from RFC 7616 section 3.4.2.
func TestSessVariants(t *testing.T) {
	for _, alg := range []Algorithm{MD5Sess, SHA256Sess} {
		base := MD5
		if alg == SHA256Sess {
			base = SHA256
		}
		h := func(s string) string {
			d := base.newHash()
			d.Write([]byte(s))
			return hex.EncodeToString(d.Sum(nil))
		}
		ha1 := h(h("u:r:p") + ":n:c")
		ha2 := h("GET:/x")
		want := h(ha1 + ":n:00000001:c:auth:" + ha2)
		got := digestResponse(alg, userRealmHash(alg, "u", "r", "p"), "n", "00000001", "c", "auth", "GET", "/x")
		if hex.EncodeToString(got) != want {
			t.Errorf("%s: %x, want %s", alg, got, want)
		}
	}
}

func TestParseAlgorithm(t *testing.T) {
	for in, want := range map[string]Algorithm{"md5": MD5, "MD5-SESS": MD5Sess, "sha-256": SHA256, "SHA-256-sess": SHA256Sess} {
		if got, ok := parseAlgorithm(in); !ok || got != want {
			t.Errorf("%q: %q %v", in, got, ok)
		}
	}
	for _, in := range []string{"", "SHA-512", "SHA-256-", "MD5 "} {
		if _, ok := parseAlgorithm(in); ok {
			t.Errorf("%q accepted", in)
		}
	}
	if Algorithm("md5").valid() {
		t.Error("non-canonical name valid")
	}
}
