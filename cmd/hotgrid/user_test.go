package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/hotgrid/hotgrid/security/realm"
)

// user runs `hotgrid user ARGS` in-process and returns status and output.
func user(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	var out, errb bytes.Buffer
	code := runUser(args, &out, &errb)
	return code, out.String(), errb.String()
}

func TestUserCommands(t *testing.T) {
	root := t.TempDir()
	s := "--server-root=" + root
	mustUser := func(args ...string) string {
		t.Helper()
		code, out, errs := user(t, args...)
		if code != 0 {
			t.Fatalf("hotgrid user %q: %d %s", args, code, errs)
		}
		return out
	}
	mustUser("create", "admin", "-p", "changeme", "-g", "admin,ops", s)
	mustUser("add", "-s", root, "reader", "--password=r3ad:er", "-a", "scram-sha-256,digest-sha-256")
	conf := filepath.Join(root, "conf")
	r, err := realm.Load(filepath.Join(conf, "users.properties"), filepath.Join(conf, "groups.properties"))
	if err != nil {
		t.Fatal(err)
	}
	if id, ok := r.Verify("admin", "changeme"); !ok || strings.Join(id.Groups, ",") != "admin,ops" {
		t.Errorf("admin %+v %v", id, ok)
	}
	if _, ok := r.Verify("reader", "r3ad:er"); !ok {
		t.Error("reader")
	}
	if out := mustUser("ls", s); out != "[\"admin\",\"reader\"]\n" {
		t.Errorf("ls: %q", out)
	}
	if out := mustUser("ls", "--groups", s); out != "[\"admin\",\"ops\"]\n" {
		t.Errorf("ls --groups: %q", out)
	}
	if out := mustUser("describe", "admin", s); out != "{ username: \"admin\", realm: \"default\", groups = [admin, ops] }\n" {
		t.Errorf("describe: %q", out)
	}
	mustUser("groups", "reader", "-g", "readers", s)
	mustUser("password", "admin", "-p", "n3w", s)
	mustUser("rm", "reader", s)
	if changed, err := r.Reload(); !changed || err != nil {
		t.Fatalf("reload %v %v", changed, err)
	}
	if _, ok := r.Verify("admin", "n3w"); !ok {
		t.Error("new password")
	}
	if _, ok := r.Verify("reader", "r3ad:er"); ok {
		t.Error("removed user verified")
	}
	for _, f := range []string{"users.properties", "groups.properties"} {
		fi, err := os.Stat(filepath.Join(conf, f))
		if err != nil || fi.Mode().Perm() != 0o600 {
			t.Errorf("%s: %v", f, err)
		}
	}

	// Errors: exit status, a message, and never the password.
	for _, tc := range []struct {
		args []string
		code int
		msg  string
	}{
		{[]string{"create", "admin", "-p", "s3cr3t!", s}, 1, "already exists"},
		{[]string{"create", "x", "-p", "s3cr3t!", "--plain", s}, 1, "incompatible"},
		{[]string{"create", "x", s}, 1, "password is required"},
		{[]string{"create", "x", "-p", "s3cr3t!", "-a", "rot13", s}, 1, "unknown password algorithm"},
		{[]string{"password", "nobody", "-p", "s3cr3t!", s}, 1, "no such user"},
		{[]string{"remove", s}, 1, "one user name"},
		{[]string{"frobnicate"}, 2, "unknown command"},
		{[]string{"ls", "--bogus"}, 2, "bogus"},
	} {
		code, _, errs := user(t, tc.args...)
		if code != tc.code || !strings.Contains(errs, tc.msg) || strings.Contains(errs, "s3cr3t!") {
			t.Errorf("%q: %d %q", tc.args, code, errs)
		}
	}
}

func TestUserPlainThenEncryptAll(t *testing.T) {
	root := t.TempDir()
	s := "-s=" + root
	for _, args := range [][]string{
		{"create", "alice", "-p", "one", "--plain-text", "--realm-name", "myrealm", s},
		{"create", "bob", "-p", "two", s, "-r", "myrealm"},
	} {
		if code, _, errs := user(t, args...); code != 0 {
			t.Fatalf("%q: %s", args, errs)
		}
	}
	users := filepath.Join(root, "conf", "users.properties")
	data, _ := os.ReadFile(users)
	if !strings.Contains(string(data), "#$ALGORITHM=clear$") || !strings.Contains(string(data), "alice=one\n") {
		t.Fatalf("clear file:\n%s", data)
	}
	if code, _, errs := user(t, "encrypt-all", s); code != 0 {
		t.Fatal(errs)
	}
	data, _ = os.ReadFile(users)
	if !strings.Contains(string(data), "#$REALM_NAME=myrealm$\n#$ALGORITHM=encrypted$") || strings.Contains(string(data), "=one") {
		t.Fatalf("encrypted file:\n%s", data)
	}
	r, err := realm.Load(users, "")
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := r.Verify("alice", "one"); !ok {
		t.Error("alice")
	}

	// --digest and a users file outside SERVER_ROOT/conf.
	abs := filepath.Join(t.TempDir(), "legacy.properties")
	if code, _, errs := user(t, "create", "carol", "-p", "pw", "--digest", "-f", abs, "-w", "legacy-groups.properties", s); code != 0 {
		t.Fatal(errs)
	}
	r, err = realm.Load(abs, filepath.Join(root, "conf", "legacy-groups.properties"))
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := r.Verify("carol", "pw"); !ok || r.Storage() != realm.StorageDigest {
		t.Error("digest carol")
	}
}
