package sasl

import (
	"crypto/md5"
	"encoding/hex"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/hotgrid/hotgrid/security/realm"
)

// TestDigestKnownAnswer checks digestHash against the exchange of RFC 2831
// section 4 (whose algorithm is md5-sess, qop=auth, no authzid).
func TestDigestKnownAnswer(t *testing.T) {
	urp := md5.Sum([]byte("chris:elwood.innosoft.com:secret"))
	args := func(prefix string) string {
		return digestHash(urp[:], "OA6MG9tEQGm2hh", "OA6MHXh6VqTrRk", "00000001", "auth", "imap/elwood.innosoft.com", "", false, prefix)
	}
	if got := args("AUTHENTICATE"); got != "d388dad90d4bbd760a152321f2143af7" {
		t.Errorf("response %s", got)
	}
	if got := args(""); got != "ea40f60335c427b5527b84dbabcdfffd" {
		t.Errorf("rspauth %s", got)
	}
}

// digestClient is an independent DIGEST-MD5 client computation, written
// from RFC 2831 section 2.1.2.1 with plain string concatenation.
type digestClient struct {
	user, realm, password, cnonce, nc, qop, uri, authzid string
	withAuthzid                                          bool
}

func md5hex(s string) string {
	h := md5.Sum([]byte(s))
	return hex.EncodeToString(h[:])
}

func (c digestClient) value(nonce, a2prefix string) string {
	urp := md5.Sum([]byte(c.user + ":" + c.realm + ":" + c.password))
	a1 := string(urp[:]) + ":" + nonce + ":" + c.cnonce
	if c.withAuthzid {
		a1 += ":" + c.authzid
	}
	a2 := a2prefix + ":" + c.uri
	return md5hex(md5hex(a1) + ":" + nonce + ":" + c.nc + ":" + c.cnonce + ":" + c.qop + ":" + md5hex(a2))
}

// response renders the digest-response to a challenge's nonce.
func (c digestClient) response(nonce string) string {
	var b strings.Builder
	fmt.Fprintf(&b, `charset=utf-8,username=%s,realm=%s,nonce=%s,nc=%s,cnonce=%s,digest-uri=%s,maxbuf=65536,response=%s,qop=%s`,
		quote(c.user), quote(c.realm), quote(nonce), c.nc, quote(c.cnonce), quote(c.uri), c.value(nonce, "AUTHENTICATE"), c.qop)
	if c.withAuthzid {
		fmt.Fprintf(&b, ",authzid=%s", quote(c.authzid))
	}
	return b.String()
}

// challengeNonce extracts and checks a digest-challenge.
func challengeNonce(t *testing.T, challenge []byte, realmName string) string {
	t.Helper()
	ds, err := parseDirectives(challenge)
	if err != nil {
		t.Fatalf("challenge %q: %v", challenge, err)
	}
	m := map[string]string{}
	for _, d := range ds {
		m[d.key] = d.value
	}
	if m["realm"] != realmName || m["qop"] != "auth" || m["charset"] != "utf-8" || m["algorithm"] != "md5-sess" || m["nonce"] == "" {
		t.Fatalf("challenge %q", challenge)
	}
	return m["nonce"]
}

func TestDigestMD5(t *testing.T) {
	good := digestClient{user: "alice", realm: testRealmName, password: "wonderland", cnonce: "OA6MHXh6VqTrRk",
		nc: "00000001", qop: "auth", uri: "hotrod/infinispan"}
	with := func(f func(*digestClient)) digestClient {
		c := good
		f(&c)
		return c
	}
	realms := map[realm.Storage]*realm.Realm{}
	for _, s := range []realm.Storage{realm.StorageClear, realm.StorageEncrypted, realm.StorageDigest} {
		realms[s] = newRealm(t, s)
	}
	for _, tc := range []struct {
		name   string
		client digestClient
		edit   func(string) string // edits the rendered response
		err    error
	}{
		{"ok", good, nil, nil},
		{"other host", with(func(c *digestClient) { c.uri = "hotrod/10.0.0.1" }), nil, nil},
		{"serv-name", with(func(c *digestClient) { c.uri = "hotrod/host/infinispan" }), nil, nil},
		{"authzid same", with(func(c *digestClient) { c.authzid, c.withAuthzid = "alice", true }), nil, nil},
		{"quoted password", with(func(c *digestClient) { c.user, c.password = "bob", testUsers[1].password }), nil, nil},
		{"unicode", with(func(c *digestClient) { c.user, c.password = "ünïcode", "pässwörd" }), nil, nil},
		{"no qop", good, func(s string) string { return strings.Replace(s, ",qop=auth", "", 1) }, nil},
		{"upper-case response", good, func(s string) string {
			i := strings.Index(s, "response=") + len("response=")
			return s[:i] + strings.ToUpper(s[i:i+32]) + s[i+32:]
		}, nil},
		{"wrong password", with(func(c *digestClient) { c.password = "Wonderland" }), nil, errInvalidCredentials},
		{"unknown user", with(func(c *digestClient) { c.user = "carol" }), nil, errInvalidCredentials},
		{"other realm", with(func(c *digestClient) { c.realm = "elsewhere" }), nil, errInvalidCredentials},
		{"no realm", with(func(c *digestClient) { c.realm = "" }), func(s string) string { return strings.Replace(s, `realm="",`, "", 1) }, errInvalidCredentials},
		{"authzid other", with(func(c *digestClient) { c.authzid, c.withAuthzid = "bob", true }), nil, ErrAuthFailed},
		{"other service", with(func(c *digestClient) { c.uri = "imap/infinispan" }), nil, ErrAuthFailed},
		{"nc 2", with(func(c *digestClient) { c.nc = "00000002" }), nil, ErrMalformed},
		{"auth-int", with(func(c *digestClient) { c.qop = "auth-int" }), nil, ErrMalformed},
		{"bad uri", with(func(c *digestClient) { c.uri = "hotrod" }), nil, ErrMalformed},
		{"other nonce", good, func(s string) string { return strings.Replace(s, "nonce=\"", "nonce=\"x", 1) }, ErrMalformed},
		{"no cnonce", good, func(s string) string { return strings.Replace(s, "cnonce=", "xnonce=", 1) }, ErrMalformed},
		{"repeated", good, func(s string) string { return s + `,username="alice"` }, ErrMalformed},
		{"latin-1 charset", good, func(s string) string { return strings.Replace(s, "charset=utf-8", "charset=iso-8859-1", 1) }, ErrMalformed},
		{"short response", good, func(s string) string { return strings.Replace(s, "response=", "response=0,x=", 1) }, ErrMalformed},
		{"garbage", good, func(string) string { return `username="alice` }, ErrMalformed},
	} {
		for _, storage := range []realm.Storage{realm.StorageClear, realm.StorageEncrypted, realm.StorageDigest} {
			t.Run(string(storage)+"/"+tc.name, func(t *testing.T) {
				r := realms[storage]
				s := mustServer(t, DigestMD5, r, Options{Protocol: "hotrod", ServerName: "infinispan"})
				ch, done, err := s.Step(nil)
				if err != nil || done {
					t.Fatalf("initial step: %v %v", done, err)
				}
				nonce := challengeNonce(t, ch, testRealmName)
				resp := tc.client.response(nonce)
				if tc.edit != nil {
					resp = tc.edit(resp)
				}
				ch, done, err = s.Step([]byte(resp))
				checkErr(t, err, tc.err)
				checkNoSecret(t, err)
				if tc.err != nil {
					if done || ch != nil {
						t.Fatalf("failure with done %v challenge %q", done, ch)
					}
					return
				}
				if want := "rspauth=" + tc.client.value(nonce, ""); !done || string(ch) != want {
					t.Fatalf("done %v challenge %q, want %q", done, ch, want)
				}
				var groups []string
				for _, u := range testUsers {
					if u.name == tc.client.user {
						groups = u.groups
					}
				}
				if id := s.Identity(); id.Name != tc.client.user || !slices.Equal(id.Groups, groups) {
					t.Fatalf("identity %+v", id)
				}
				if ch, done, err := s.Step([]byte{}); ch != nil || !done || err != nil {
					t.Fatalf("empty step after success: %q %v %v", ch, done, err)
				}
			})
		}
	}
}

func TestDigestMD5Unusual(t *testing.T) {
	r := newRealm(t, realm.StorageClear)
	t.Run("initial response", func(t *testing.T) {
		_, _, err := mustServer(t, DigestMD5, r, Options{}).Step([]byte("username=\"alice\""))
		checkErr(t, err, ErrMalformed)
	})
	t.Run("no rand", func(t *testing.T) {
		_, _, err := mustServer(t, DigestMD5, r, Options{Rand: failingRand{}}).Step(nil)
		checkErr(t, err, ErrAuthFailed)
	})
	t.Run("deterministic nonce", func(t *testing.T) {
		ch, _, _ := mustServer(t, DigestMD5, r, Options{Rand: fixedRand(0)}).Step(nil)
		want := `realm="hotgrid-test",nonce="AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",qop="auth",charset=utf-8,algorithm=md5-sess`
		if string(ch) != want {
			t.Fatalf("challenge %q, want %q", ch, want)
		}
	})
	t.Run("any protocol", func(t *testing.T) {
		c := digestClient{user: "alice", realm: testRealmName, password: "wonderland", cnonce: "c", nc: "00000001", qop: "auth", uri: "memcached/localhost"}
		s := mustServer(t, DigestMD5, r, Options{})
		ch, _, _ := s.Step(nil)
		if _, done, err := s.Step([]byte(c.response(challengeNonce(t, ch, testRealmName)))); !done || err != nil {
			t.Fatalf("done %v err %v", done, err)
		}
	})
	t.Run("clear password credentials", func(t *testing.T) {
		c := digestClient{user: "alice", realm: testRealmName, password: "wonderland", cnonce: "c", nc: "00000001", qop: "auth", uri: "hotrod/x"}
		s := mustServer(t, DigestMD5, passwordCreds{"alice": "wonderland"}, Options{Protocol: "hotrod"})
		ch, _, _ := s.Step(nil)
		if _, done, err := s.Step([]byte(c.response(challengeNonce(t, ch, testRealmName)))); !done || err != nil {
			t.Fatalf("done %v err %v", done, err)
		}
		if s.Identity().Name != "alice" {
			t.Fatalf("identity %+v", s.Identity())
		}
	})
	t.Run("indistinguishable", func(t *testing.T) {
		var texts []string
		for _, user := range []string{"alice", "carol"} {
			c := digestClient{user: user, realm: testRealmName, password: "nope", cnonce: "c", nc: "00000001", qop: "auth", uri: "hotrod/x"}
			s := mustServer(t, DigestMD5, r, Options{})
			ch, _, _ := s.Step(nil)
			_, _, err := s.Step([]byte(c.response(challengeNonce(t, ch, testRealmName))))
			checkErr(t, err, errInvalidCredentials)
			texts = append(texts, err.Error())
		}
		if texts[0] != texts[1] {
			t.Fatalf("errors differ: %q", texts)
		}
	})
}
