package sasl

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"slices"
	"strings"
	"testing"

	"github.com/xdg-go/scram"

	"github.com/hotgrid/hotgrid/security/realm"
)

var scramHashes = []struct {
	mech string
	hash scram.HashGeneratorFcn
}{
	{ScramSHA1, scram.SHA1},
	{ScramSHA256, scram.SHA256},
	{ScramSHA384, scram.HashGeneratorFcn(sha512New384)},
	{ScramSHA512, scram.SHA512},
}

// scramRun drives a server with xdg-go/scram's client and returns the
// server's first message and the error that ended the exchange, if any.
func scramRun(t *testing.T, s Server, h scram.HashGeneratorFcn, user, password, authzid string) (serverFirst string, err error) {
	t.Helper()
	c, cerr := h.NewClient(user, password, authzid)
	if cerr != nil {
		t.Fatal(cerr)
	}
	conv := c.NewConversation()
	c1, cerr := conv.Step("")
	if cerr != nil {
		t.Fatal(cerr)
	}
	s1, done, err := s.Step([]byte(c1))
	if err != nil {
		return "", err
	}
	if done {
		t.Fatal("done after client-first")
	}
	c2, cerr := conv.Step(string(s1))
	if cerr != nil {
		t.Fatalf("client rejects server-first %q: %v", s1, cerr)
	}
	s2, done, err := s.Step([]byte(c2))
	if err != nil {
		if done || s2 != nil {
			t.Fatalf("failure with done %v challenge %q", done, s2)
		}
		return string(s1), err
	}
	if !done || !strings.HasPrefix(string(s2), "v=") {
		t.Fatalf("server-final %q done %v", s2, done)
	}
	if _, cerr := conv.Step(string(s2)); cerr != nil || !conv.Valid() {
		t.Fatalf("client rejects server-final %q: %v", s2, cerr)
	}
	return string(s1), nil
}

func TestScram(t *testing.T) {
	for _, storage := range []realm.Storage{realm.StorageClear, realm.StorageEncrypted} {
		r := newRealm(t, storage)
		for _, h := range scramHashes {
			for _, tc := range []struct {
				name, user, password, authzid string
				err                           error
			}{
				{"ok", "alice", "wonderland", "", nil},
				{"authzid same", "alice", "wonderland", "alice", nil},
				{"odd characters", "bob", testUsers[1].password, "", nil},
				{"unicode", "ünïcode", "pässwörd", "", nil},
				{"wrong password", "alice", "Wonderland", "", errInvalidCredentials},
				{"unknown user", "carol", "wonderland", "", errInvalidCredentials},
				{"authzid other", "alice", "wonderland", "bob", ErrAuthFailed},
			} {
				t.Run(string(storage)+"/"+h.mech+"/"+tc.name, func(t *testing.T) {
					s := mustServer(t, h.mech, r, Options{})
					_, err := scramRun(t, s, h.hash, tc.user, tc.password, tc.authzid)
					checkErr(t, err, tc.err)
					checkNoSecret(t, err)
					if tc.err != nil {
						return
					}
					var groups []string
					for _, u := range testUsers {
						if u.name == tc.user {
							groups = u.groups
						}
					}
					if id := s.Identity(); id.Name != tc.user || !slices.Equal(id.Groups, groups) {
						t.Fatalf("identity %+v", id)
					}
				})
			}
		}
	}
}

// serverFirstShape returns server-first with the nonce removed, and the
// decoded salt length.
func serverFirstShape(t *testing.T, s1 string) (string, int) {
	t.Helper()
	parts := strings.Split(s1, ",")
	if len(parts) != 3 || !strings.HasPrefix(parts[0], "r=") || !strings.HasPrefix(parts[1], "s=") || !strings.HasPrefix(parts[2], "i=") {
		t.Fatalf("server-first %q", s1)
	}
	salt, err := base64.StdEncoding.DecodeString(parts[1][2:])
	if err != nil {
		t.Fatal(err)
	}
	return parts[1] + "," + parts[2], len(salt)
}

// TestScramUnknownUser checks that an unknown user's server-first looks like
// a known user's (salt length, iteration count, stable salt) and that the
// failure is the wrong password's.
func TestScramUnknownUser(t *testing.T) {
	r := newRealm(t, realm.StorageEncrypted)
	secret := []byte("per-server secret")
	run := func(user string) (string, int, string) {
		s := mustServer(t, ScramSHA256, r, Options{Secret: secret})
		s1, err := scramRun(t, s, scram.SHA256, user, "nope", "")
		checkErr(t, err, errInvalidCredentials)
		shape, n := serverFirstShape(t, s1)
		return shape, n, err.Error()
	}
	known, knownLen, knownErr := run("alice")
	unknown, unknownLen, unknownErr := run("carol")
	again, _, _ := run("carol")
	if unknown != again {
		t.Errorf("unknown user's salt changes: %q then %q", unknown, again)
	}
	if known == unknown || knownLen != unknownLen || knownLen != scramSaltSize ||
		known[strings.Index(known, ",i="):] != unknown[strings.Index(unknown, ",i="):] {
		t.Errorf("known %q (%d) vs unknown %q (%d)", known, knownLen, unknown, unknownLen)
	}
	if knownErr != unknownErr {
		t.Errorf("errors differ: %q vs %q", knownErr, unknownErr)
	}
	other, _, _ := run("dave")
	if other == unknown {
		t.Error("two unknown users share a salt")
	}
}

// scramFinal computes a SCRAM-SHA-256 client-final for a client-first-bare,
// server-first and gs2 header, independently of xdg-go/scram (RFC 5802
// section 3).
func scramFinal(t *testing.T, password, gs2, c1bare, s1 string) string {
	t.Helper()
	fields := strings.Split(s1, ",")
	nonce := fields[0][2:]
	salt, _ := base64.StdEncoding.DecodeString(fields[1][2:])
	var iters int
	for _, c := range fields[2][2:] {
		iters = iters*10 + int(c-'0')
	}
	// Hi(password, salt, i) by hand.
	mac := func(key []byte, msg []byte) []byte {
		m := hmac.New(sha256.New, key)
		m.Write(msg)
		return m.Sum(nil)
	}
	u := mac([]byte(password), append(slices.Clone(salt), 0, 0, 0, 1))
	salted := slices.Clone(u)
	for range iters - 1 {
		u = mac([]byte(password), u)
		for i := range salted {
			salted[i] ^= u[i]
		}
	}
	clientKey := mac(salted, []byte("Client Key"))
	stored := sha256.Sum256(clientKey)
	withoutProof := "c=" + base64.StdEncoding.EncodeToString([]byte(gs2)) + ",r=" + nonce
	sig := mac(stored[:], []byte(c1bare+","+s1+","+withoutProof))
	for i := range clientKey {
		clientKey[i] ^= sig[i]
	}
	return withoutProof + ",p=" + base64.StdEncoding.EncodeToString(clientKey)
}

func TestScramFlags(t *testing.T) {
	r := newRealm(t, realm.StorageClear)
	for _, tc := range []struct {
		name, gs2 string
		err       error
	}{
		{"n", "n,,", nil},
		{"y", "y,,", nil},
		{"authzid", "n,a=alice,", nil},
		{"p", "p=tls-unique,,", ErrAuthFailed},
		{"p exporter", "p=tls-exporter,,", ErrAuthFailed},
		{"bad flag", "x,,", ErrMalformed},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := mustServer(t, ScramSHA256, r, Options{Rand: fixedRand(7)})
			c1bare := "n=alice,r=clientnonce"
			s1, done, err := s.Step([]byte(tc.gs2 + c1bare))
			if tc.err != nil {
				checkErr(t, err, tc.err)
				return
			}
			if err != nil || done {
				t.Fatalf("client-first: %v %v", done, err)
			}
			if !strings.HasPrefix(string(s1), "r=clientnonceBwcHBwcH") {
				t.Fatalf("server-first %q does not carry the nonce from Rand", s1)
			}
			s2, done, err := s.Step([]byte(scramFinal(t, "wonderland", tc.gs2, c1bare, string(s1))))
			if err != nil || !done || !strings.HasPrefix(string(s2), "v=") {
				t.Fatalf("client-final: %q %v %v", s2, done, err)
			}
		})
	}
}

func TestScramUnusual(t *testing.T) {
	r := newRealm(t, realm.StorageClear)
	t.Run("empty initial response", func(t *testing.T) {
		s := mustServer(t, ScramSHA1, r, Options{})
		ch, done, err := s.Step(nil)
		if err != nil || done || ch == nil || len(ch) != 0 {
			t.Fatalf("%q %v %v", ch, done, err)
		}
		if _, err := scramRun(t, s, scram.SHA1, "alice", "wonderland", ""); err != nil {
			t.Fatal(err)
		}
	})
	t.Run("two empty messages", func(t *testing.T) {
		s := mustServer(t, ScramSHA1, r, Options{})
		s.Step(nil)
		_, _, err := s.Step(nil)
		checkErr(t, err, ErrMalformed)
	})
	t.Run("clear password credentials", func(t *testing.T) {
		for _, h := range scramHashes {
			s := mustServer(t, h.mech, passwordCreds{"alice": "wonderland"}, Options{})
			if _, err := scramRun(t, s, h.hash, "alice", "wonderland", ""); err != nil {
				t.Fatalf("%s: %v", h.mech, err)
			}
			s = mustServer(t, h.mech, passwordCreds{"alice": "wonderland"}, Options{})
			_, err := scramRun(t, s, h.hash, "alice", "x", "")
			checkErr(t, err, errInvalidCredentials)
		}
	})
	t.Run("no rand", func(t *testing.T) {
		_, _, err := mustServer(t, ScramSHA256, r, Options{Rand: failingRand{}}).Step([]byte("n,,n=alice,r=abc"))
		checkErr(t, err, ErrAuthFailed)
	})
	t.Run("bad client-final", func(t *testing.T) {
		s := mustServer(t, ScramSHA256, r, Options{})
		if _, _, err := s.Step([]byte("n,,n=alice,r=abc")); err != nil {
			t.Fatal(err)
		}
		_, _, err := s.Step([]byte("c=biws,r=abc,p=AAAA"))
		checkErr(t, err, ErrMalformed)
	})
	t.Run("too long", func(t *testing.T) {
		_, _, err := mustServer(t, ScramSHA256, r, Options{}).Step([]byte("n,,n=" + strings.Repeat("a", maxMessage) + ",r=abc"))
		checkErr(t, err, ErrMalformed)
	})
}
