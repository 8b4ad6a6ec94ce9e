package sasl

import (
	"bytes"
	"errors"
	"testing"

	"github.com/xdg-go/scram"

	"github.com/hotgrid/hotgrid/security/realm"
)

// FuzzDirectives checks that the DIGEST-MD5 list parser never panics, and
// that what it accepts survives rendering with quote and parsing again.
func FuzzDirectives(f *testing.F) {
	for _, s := range []string{
		`realm="elwood.innosoft.com",nonce="OA6MG9tEQGm2hh",qop="auth",algorithm=md5-sess,charset=utf-8`,
		`username="chris",realm="elwood.innosoft.com",nonce="OA6MG9tEQGm2hh",nc=00000001,cnonce="OA6MHXh6VqTrRk",digest-uri="imap/elwood.innosoft.com",response=d388dad90d4bbd760a152321f2143af7,qop=auth`,
		` , a = "x\"y\\z" ,, b=c ,`, `a="`, `a=`, `=b`, `a b=c`, "a=\"\xff\"",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		ds, err := parseDirectives(b)
		if err != nil {
			if !errors.Is(err, ErrMalformed) {
				t.Fatalf("error %v does not wrap ErrMalformed", err)
			}
			return
		}
		var out bytes.Buffer
		for i, d := range ds {
			if i > 0 {
				out.WriteByte(',')
			}
			out.WriteString(d.key + "=" + quote(d.value))
		}
		again, err := parseDirectives(out.Bytes())
		if err != nil || len(again) != len(ds) {
			t.Fatalf("re-parse of %q: %v %v", out.Bytes(), again, err)
		}
		for i := range ds {
			if ds[i] != again[i] {
				t.Fatalf("re-parse of %q: %+v, want %+v", out.Bytes(), again[i], ds[i])
			}
		}
	})
}

// fuzzRealm is a clear realm shared by the fuzz targets; SCRAM credentials
// derived from it are cached, so an execution costs no PBKDF2.
func fuzzRealm(f *testing.F) *realm.Realm {
	r := newRealm(f, realm.StorageClear)
	r.Credential("alice", ScramSHA256)
	return r
}

// checkStep checks the invariants of one Step.
func checkStep(t *testing.T, s Server, msg []byte) bool {
	t.Helper()
	ch, done, err := s.Step(msg)
	if err != nil {
		if !errors.Is(err, ErrAuthFailed) || done || ch != nil {
			t.Fatalf("error %v with done %v challenge %q", err, done, ch)
		}
		checkNoSecret(t, err)
		if _, _, err := s.Step(nil); err == nil {
			t.Fatal("step after failure succeeded")
		}
		return false
	}
	return true
}

// FuzzDigestMD5 feeds arbitrary digest-responses to a conversation whose
// nonce is fixed, so that the seeds can carry a valid one.
func FuzzDigestMD5(f *testing.F) {
	r := fuzzRealm(f)
	nonce := "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"
	good := digestClient{user: "alice", realm: testRealmName, password: "wonderland", cnonce: "cn", nc: "00000001", qop: "auth", uri: "hotrod/infinispan"}
	f.Add([]byte(good.response(nonce)))
	f.Add([]byte(`username="alice",nonce="` + nonce + `",cnonce="x",nc=00000001,digest-uri="hotrod/h",response=00000000000000000000000000000000`))
	f.Add([]byte(""))
	f.Fuzz(func(t *testing.T, msg []byte) {
		s := mustServer(t, DigestMD5, r, Options{Protocol: "hotrod", Rand: fixedRand(0)})
		if !checkStep(t, s, nil) {
			t.Fatal("challenge failed")
		}
		if checkStep(t, s, msg) {
			if s.Identity().Name != "alice" {
				t.Fatalf("authenticated as %+v from %q", s.Identity(), msg)
			}
		}
		// The same bytes as an initial response.
		checkStep(t, mustServer(t, DigestMD5, r, Options{Protocol: "hotrod", Rand: fixedRand(0)}), msg)
	})
}

// FuzzScram feeds arbitrary client-first and client-final messages to a
// SCRAM-SHA-256 conversation whose server nonce is fixed.
func FuzzScram(f *testing.F) {
	r := fuzzRealm(f)
	c, _ := scram.SHA256.NewClient("alice", "wonderland", "")
	conv := c.WithNonceGenerator(func() string { return "fuzz" }).NewConversation()
	c1, _ := conv.Step("")
	s := mustServer(f, ScramSHA256, r, Options{Rand: fixedRand(1)})
	s1, _, err := s.Step([]byte(c1))
	if err != nil {
		f.Fatal(err)
	}
	c2, err := conv.Step(string(s1))
	if err != nil {
		f.Fatal(err)
	}
	f.Add([]byte(c1), []byte(c2))
	f.Add([]byte("y,a=alice,n=alice,r=fuzz"), []byte("c=eSxhPWFsaWNlLA==,r=fuzzAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEB,p=AAAA"))
	f.Add([]byte("p=tls-unique,,n=alice,r=x"), []byte(""))
	f.Add([]byte("n,,n=carol,r=x,m=ext"), []byte("c=biws,r=x"))
	f.Fuzz(func(t *testing.T, first, final []byte) {
		s := mustServer(t, ScramSHA256, r, Options{Rand: fixedRand(1)})
		if checkStep(t, s, first) && checkStep(t, s, final) {
			if id := s.Identity(); id.Name != "" && id.Name != "alice" {
				t.Fatalf("authenticated as %+v", id)
			}
		}
	})
}

// FuzzPlain feeds arbitrary PLAIN messages.
func FuzzPlain(f *testing.F) {
	r := fuzzRealm(f)
	for _, s := range []string{"\x00alice\x00wonderland", "alice\x00alice\x00wonderland", "\x00\x00", "", "a\x00b"} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, msg []byte) {
		s := mustServer(t, Plain, r, Options{})
		if checkStep(t, s, msg) && s.Identity().Name != "" && s.Identity().Name != "alice" {
			t.Fatalf("authenticated as %+v", s.Identity())
		}
	})
}
