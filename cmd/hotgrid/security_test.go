package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// TestSecuredNodeCLI runs the CLI against a node whose server root holds
// users: without credentials it is refused, an admin (password from
// HOTGRID_PASSWORD) reads, writes and backs up, an observer reads but may
// neither write nor back up, and the server's log holds no password.
func TestSecuredNodeCLI(t *testing.T) {
	root := serverRoot(t, `<security><authorization/></security><local-cache name="c"/>`)
	for _, u := range [][2]string{{"admin", "admin"}, {"observer", "observer"}} {
		if code, _, errOut := user(t, "create", u[0], "-p", u[0]+"-secret", "-g", u[1], "--server-root", root); code != 0 {
			t.Fatalf("user create %s: %s", u[0], errOut)
		}
	}
	p := startProc(t, root, freeTCPPort(t))
	defer p.stop(t)
	cli := func(user string, args ...string) (string, error) {
		cmd := exec.Command(hotgridBinary(t), append([]string{"cli", "--server", p.addr, "--cache", "c"}, args...)...)
		if user != "" {
			cmd.Args = append(cmd.Args[:2], append([]string{"--user", user}, cmd.Args[2:]...)...)
			cmd.Env = append(os.Environ(), "HOTGRID_PASSWORD="+user+"-secret")
		}
		out, err := cmd.CombinedOutput()
		return string(out), err
	}
	if out, err := cli("", "get", "k"); err == nil || !strings.Contains(out, "requires authentication") {
		t.Fatalf("get without credentials: %v %q", err, out)
	}
	if out, err := cli("admin", "put", "k", "v1"); err != nil {
		t.Fatalf("admin put: %v %s", err, out)
	}
	if out, err := cli("observer", "get", "k"); err != nil || strings.TrimSpace(out) != "v1" {
		t.Fatalf("observer get: %v %q", err, out)
	}
	if out, err := cli("observer", "put", "k", "v2"); err == nil || !strings.Contains(out, "ISPN000287") {
		t.Fatalf("observer put: %v %q", err, out)
	}
	archive := filepath.Join(t.TempDir(), "b.zip")
	if out, err := cli("admin", "backup", "b1", "--out", archive); err != nil {
		t.Fatalf("admin backup: %v %s", err, out)
	}
	if out, err := cli("observer", "backup", "b2", "--out", archive+"2"); err == nil {
		t.Fatalf("observer backup succeeded: %s", out)
	}
	if out, err := cli("admin", "restore", archive); err != nil {
		t.Fatalf("admin restore (an upload through Digest): %v %s", err, out)
	}
	if out, err := cli("observer", "get", "k"); err != nil || strings.TrimSpace(out) != "v1" {
		t.Fatalf("after restore: %v %q", err, out)
	}
}
