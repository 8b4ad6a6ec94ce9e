package sasl

import (
	"slices"
	"testing"

	"github.com/hotgrid/hotgrid/security/realm"
)

func TestPlain(t *testing.T) {
	for _, storage := range []realm.Storage{realm.StorageClear, realm.StorageEncrypted, realm.StorageDigest} {
		r := newRealm(t, storage)
		for _, tc := range []struct {
			name, msg string
			user      string
			groups    []string
			err       error
		}{
			{"ok", "\x00alice\x00wonderland", "alice", []string{"admin", "ops"}, nil},
			{"authzid same", "alice\x00alice\x00wonderland", "alice", []string{"admin", "ops"}, nil},
			{"quoted password", "\x00bob\x00" + testUsers[1].password, "bob", nil, nil},
			{"unicode", "\x00ünïcode\x00pässwörd", "ünïcode", []string{"reader"}, nil},
			{"wrong password", "\x00alice\x00Wonderland", "", nil, errInvalidCredentials},
			{"unknown user", "\x00carol\x00wonderland", "", nil, errInvalidCredentials},
			{"authzid other", "bob\x00alice\x00wonderland", "", nil, ErrAuthFailed},
			{"two fields", "alice\x00wonderland", "", nil, ErrMalformed},
			{"four fields", "\x00alice\x00wonderland\x00", "", nil, ErrMalformed},
			{"empty password", "\x00alice\x00", "", nil, ErrMalformed},
			{"empty user", "\x00\x00wonderland", "", nil, ErrMalformed},
			{"not utf-8", "\x00al\xffice\x00wonderland", "", nil, ErrMalformed},
		} {
			t.Run(string(storage)+"/"+tc.name, func(t *testing.T) {
				s := mustServer(t, Plain, r, Options{})
				ch, done, err := s.Step([]byte(tc.msg))
				checkErr(t, err, tc.err)
				checkNoSecret(t, err)
				if tc.err != nil {
					return
				}
				if !done || ch != nil {
					t.Fatalf("done %v challenge %q", done, ch)
				}
				if id := s.Identity(); id.Name != tc.user || !slices.Equal(id.Groups, tc.groups) {
					t.Fatalf("identity %+v", id)
				}
			})
		}
	}
}

// TestPlainIndistinguishable checks that an unknown user and a wrong
// password give the same error.
func TestPlainIndistinguishable(t *testing.T) {
	r := newRealm(t, realm.StorageEncrypted)
	var texts []string
	for _, msg := range []string{"\x00alice\x00nope", "\x00nobody\x00nope"} {
		_, _, err := mustServer(t, Plain, r, Options{}).Step([]byte(msg))
		checkErr(t, err, errInvalidCredentials)
		texts = append(texts, err.Error())
	}
	if texts[0] != texts[1] {
		t.Fatalf("errors differ: %q", texts)
	}
}

// TestPlainEmptyInitialResponse checks that an empty initial response gets
// an empty challenge, once.
func TestPlainEmptyInitialResponse(t *testing.T) {
	r := newRealm(t, realm.StorageClear)
	s := mustServer(t, Plain, r, Options{})
	ch, done, err := s.Step(nil)
	if err != nil || done || ch == nil || len(ch) != 0 {
		t.Fatalf("empty initial response: %q %v %v", ch, done, err)
	}
	if _, done, err := s.Step([]byte("\x00alice\x00wonderland")); !done || err != nil {
		t.Fatalf("done %v err %v", done, err)
	}

	s = mustServer(t, Plain, r, Options{})
	s.Step(nil)
	_, _, err = s.Step([]byte{})
	checkErr(t, err, ErrMalformed)
}
