package sasl

import (
	"crypto/sha512"
	"errors"
	"hash"
	"strings"
	"testing"

	"github.com/hotgrid/hotgrid/security/realm"
	"github.com/hotgrid/hotgrid/security/realm/realmtest"
)

// Test users, created in every test realm.
var testUsers = []struct {
	name, password string
	groups         []string
}{
	{"alice", "wonderland", []string{"admin", "ops"}},
	{"bob", `s3cret, "quoted" \ pass`, nil},
	{"ünïcode", "pässwörd", []string{"reader"}},
}

const testRealmName = "hotgrid-test"

// newRealm writes users and groups files in storage s with the realm's
// own file editor and loads them.
func newRealm(t testing.TB, s realm.Storage) *realm.Realm {
	t.Helper()
	var users []realmtest.User
	for _, u := range testUsers {
		users = append(users, realmtest.User{Name: u.name, Password: u.password, Groups: u.groups})
	}
	r := realmtest.Write(t, t.TempDir(), users, realm.PasswordOptions{Realm: testRealmName, Storage: s})
	if r.Storage() != s || r.Name() != testRealmName {
		t.Fatalf("realm storage %q name %q", r.Storage(), r.Name())
	}
	return r
}

// passwordCreds is a Credentials that hands out clear passwords for every
// mechanism, unlike *realm.Realm, to exercise the mechanisms' own
// derivations.
type passwordCreds map[string]string

func (p passwordCreds) Verify(user, password string) (realm.Identity, bool) {
	pw, ok := p[user]
	if !ok || pw != password {
		return realm.Identity{}, false
	}
	return realm.Identity{Name: user}, true
}

func (p passwordCreds) Credential(user, _ string) (realm.Credential, error) {
	pw, ok := p[user]
	if !ok {
		return realm.Credential{}, realm.ErrNoSuchUser
	}
	return realm.Credential{Password: pw}, nil
}

func (p passwordCreds) Identity(user string) (realm.Identity, bool) {
	_, ok := p[user]
	return realm.Identity{Name: user}, ok
}

func (p passwordCreds) Name() string { return testRealmName }

// fixedRand is a deterministic Options.Rand: every byte it reads is itself.
type fixedRand byte

func (r fixedRand) Read(b []byte) (int, error) {
	for i := range b {
		b[i] = byte(r)
	}
	return len(b), nil
}

// failingRand is an Options.Rand that always fails.
type failingRand struct{}

func (failingRand) Read([]byte) (int, error) { return 0, errors.New("no entropy") }

// mustServer starts a conversation or fails the test.
func mustServer(t testing.TB, mech string, creds Credentials, o Options) Server {
	t.Helper()
	s, err := NewServer(mech, creds, o)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// checkErr checks that err is nil when want is nil, and otherwise wraps
// want (and always ErrAuthFailed).
func checkErr(t testing.TB, err, want error) {
	t.Helper()
	switch {
	case want == nil && err != nil:
		t.Fatalf("unexpected error: %v", err)
	case want != nil && err == nil:
		t.Fatalf("no error, want %v", want)
	case want != nil && (!errors.Is(err, want) || !errors.Is(err, ErrAuthFailed)):
		t.Fatalf("error %v, want %v", err, want)
	}
}

// checkNoSecret fails if an error text contains any test password.
func checkNoSecret(t testing.TB, err error) {
	t.Helper()
	if err == nil {
		return
	}
	for _, u := range testUsers {
		if strings.Contains(err.Error(), u.password) {
			t.Fatalf("error %q contains a password", err)
		}
	}
}

func sha512New384() hash.Hash { return sha512.New384() }
