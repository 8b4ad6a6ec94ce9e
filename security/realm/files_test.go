package realm

import (
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

func TestFilesLifecycle(t *testing.T) {
	dir := t.TempDir()
	users, groups := Paths(dir, "", "")
	f, err := Open(users, groups)
	if err != nil {
		t.Fatal(err)
	}
	f.now = func() time.Time { return time.Date(2024, 7, 31, 8, 32, 8, 0, time.UTC) }
	if err := f.Create("admin", "changeme", []string{"admin", "ops"}, PasswordOptions{}); err != nil {
		t.Fatal(err)
	}
	if err := f.Create("we:ird = name", "p=w:d#1", nil, PasswordOptions{Algorithms: []string{ScramSHA256, DigestMD5}}); err != nil {
		t.Fatal(err)
	}
	if err := f.Create("admin", "x", nil, PasswordOptions{}); !errors.Is(err, ErrUserExists) {
		t.Errorf("duplicate: %v", err)
	}
	if err := f.Create("x", "y", nil, PasswordOptions{Storage: StorageClear}); !errors.Is(err, ErrIncompatible) {
		t.Errorf("clear into encrypted: %v", err)
	}
	if err := f.Create("x", "y", nil, PasswordOptions{Realm: "other"}); !errors.Is(err, ErrWrongRealm) {
		t.Errorf("other realm: %v", err)
	}
	if err := f.Create("x", "y", nil, PasswordOptions{Algorithms: []string{"bcrypt"}}); !errors.Is(err, ErrUnknownAlgorithm) {
		t.Errorf("bad algorithm: %v", err)
	}
	if err := f.Save(); err != nil {
		t.Fatal(err)
	}
	data, _ := os.ReadFile(users)
	if !strings.HasPrefix(string(data), "#$REALM_NAME=default$\n#$ALGORITHM=encrypted$\n#Wed Jul 31 08:32:08 UTC 2024\nadmin=scram-sha-1\\:BYGcIA") {
		t.Errorf("users file:\n%s", data)
	}
	if !strings.Contains(string(data), "\nwe\\:ird\\ \\=\\ name=scram-sha-256\\:") {
		t.Errorf("escaping:\n%s", data)
	}
	for _, p := range []string{users, groups} {
		if fi, err := os.Stat(p); err != nil || fi.Mode().Perm() != 0o600 {
			t.Errorf("%s: %v %v", p, fi.Mode(), err)
		}
	}
	if entries, _ := os.ReadDir(filepath.Dir(users)); len(entries) != 2 {
		t.Errorf("left-over files: %v", entries)
	}

	r, err := Load(users, groups)
	if err != nil {
		t.Fatal(err)
	}
	if id, ok := r.Verify("admin", "changeme"); !ok || !slices.Equal(id.Groups, []string{"admin", "ops"}) {
		t.Errorf("admin %+v", id)
	}
	if _, ok := r.Verify("we:ird = name", "p=w:d#1"); !ok {
		t.Error("weird name")
	}

	f, _ = Open(users, groups)
	if err := f.SetPassword("admin", "newpass", PasswordOptions{}); err != nil {
		t.Fatal(err)
	}
	if err := f.SetGroups("admin", []string{"readers"}); err != nil {
		t.Fatal(err)
	}
	if err := f.Remove("we:ird = name"); err != nil {
		t.Fatal(err)
	}
	if err := f.Remove("nobody"); !errors.Is(err, ErrNoSuchUser) {
		t.Errorf("remove nobody: %v", err)
	}
	if err := f.Save(); err != nil {
		t.Fatal(err)
	}
	if changed, err := r.Reload(); !changed || err != nil {
		t.Fatalf("reload %v %v", changed, err)
	}
	if id, ok := r.Verify("admin", "newpass"); !ok || !slices.Equal(id.Groups, []string{"readers"}) {
		t.Errorf("after edit %+v %v", id, ok)
	}
	if _, ok := r.Verify("admin", "changeme"); ok {
		t.Error("old password still works")
	}
	if got := r.Users(); !slices.Equal(got, []string{"admin"}) {
		t.Errorf("users %q", got)
	}
}

func TestFilesClearThenEncryptAll(t *testing.T) {
	dir := t.TempDir()
	users, groups := filepath.Join(dir, "u.properties"), filepath.Join(dir, "g.properties")
	f, _ := Open(users, groups)
	if err := f.Create("alice", "secret one", []string{"a"}, PasswordOptions{Storage: StorageClear, Realm: "myrealm"}); err != nil {
		t.Fatal(err)
	}
	if err := f.Create("bob", "two", nil, PasswordOptions{}); err != nil {
		t.Fatal(err)
	}
	if err := f.Save(); err != nil {
		t.Fatal(err)
	}
	data, _ := os.ReadFile(users)
	if !strings.Contains(string(data), "#$REALM_NAME=myrealm$\n#$ALGORITHM=clear$\n") || !strings.Contains(string(data), "alice=secret one\n") {
		t.Errorf("clear file:\n%s", data)
	}
	f, _ = Open(users, groups)
	if got := f.Groups(); !slices.Equal(got, []string{"a"}) {
		t.Errorf("groups %q", got)
	}
	if err := f.EncryptAll(nil); err != nil {
		t.Fatal(err)
	}
	if err := f.Save(); err != nil {
		t.Fatal(err)
	}
	r, err := Load(users, groups)
	if err != nil {
		t.Fatal(err)
	}
	if r.Storage() != StorageEncrypted || r.Name() != "myrealm" {
		t.Errorf("%s %s", r.Storage(), r.Name())
	}
	for u, p := range map[string]string{"alice": "secret one", "bob": "two"} {
		if _, ok := r.Verify(u, p); !ok {
			t.Errorf("%s after encrypt-all", u)
		}
	}
	if c, _ := r.Credential("alice", "DIGEST-MD5"); c.DigestRealm != "myrealm" {
		t.Errorf("realm %q", c.DigestRealm)
	}

	// Digest storage.
	users2 := filepath.Join(dir, "d.properties")
	f, _ = Open(users2, "")
	if err := f.Create("carol", "pw", nil, PasswordOptions{Storage: StorageDigest}); err != nil {
		t.Fatal(err)
	}
	if err := f.Save(); err != nil {
		t.Fatal(err)
	}
	if err := f.EncryptAll(nil); !errors.Is(err, ErrIncompatible) {
		t.Errorf("encrypt digest: %v", err)
	}
	r, err = Load(users2, "")
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := r.Verify("carol", "pw"); !ok || r.Storage() != StorageDigest {
		t.Error("digest carol")
	}
}
