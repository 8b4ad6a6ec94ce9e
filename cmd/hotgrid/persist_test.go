package main

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/hotgrid/hotgrid/client"
)

var (
	binOnce sync.Once
	binPath string
	binErr  error
)

// hotgridBinary builds the binary once per test run (or uses HOTGRID_BIN).
func hotgridBinary(t *testing.T) string {
	t.Helper()
	if b := os.Getenv("HOTGRID_BIN"); b != "" {
		return b
	}
	binOnce.Do(func() {
		dir, err := os.MkdirTemp("", "hotgrid-bin")
		if err != nil {
			binErr = err
			return
		}
		binPath = filepath.Join(dir, "hotgrid")
		if out, err := exec.Command("go", "build", "-o", binPath, ".").CombinedOutput(); err != nil {
			binErr = fmt.Errorf("build: %v\n%s", err, out)
		}
	})
	if binErr != nil {
		t.Fatal(binErr)
	}
	return binPath
}

// proc is a server process on a server root.
type proc struct {
	cmd  *exec.Cmd
	addr string
	done chan error
}

// startProc starts the server on root and waits for "started in".
func startProc(t *testing.T, root string, port int) *proc {
	t.Helper()
	cmd := exec.Command(hotgridBinary(t), "server", "-s", root, "-c", "hotgrid.xml", "-p", strconv.Itoa(port))
	stderr, _ := cmd.StderrPipe()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	p := &proc{cmd: cmd, addr: "127.0.0.1:" + strconv.Itoa(port), done: make(chan error, 1)}
	started := make(chan struct{})
	var log strings.Builder
	var logMu sync.Mutex
	go func() {
		sc := bufio.NewScanner(stderr)
		once := false
		for sc.Scan() {
			logMu.Lock()
			log.WriteString(sc.Text() + "\n")
			logMu.Unlock()
			if !once && strings.Contains(sc.Text(), "started in") {
				once = true
				close(started)
			}
		}
		p.done <- cmd.Wait()
	}()
	select {
	case <-started:
	case err := <-p.done:
		logMu.Lock()
		defer logMu.Unlock()
		t.Fatalf("server exited before it started: %v\n%s", err, log.String())
	case <-time.After(60 * time.Second):
		cmd.Process.Kill()
		t.Fatal("server did not start within 60 s")
	}
	return p
}

func (p *proc) kill() { p.cmd.Process.Kill(); <-p.done }
func (p *proc) stop(t *testing.T) {
	p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case err := <-p.done:
		if err != nil {
			t.Fatalf("exit after SIGTERM: %v", err)
		}
	case <-time.After(30 * time.Second):
		p.cmd.Process.Kill()
		t.Fatal("no exit within 30 s of SIGTERM")
	}
}

func freeTCPPort(t *testing.T) int {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}

func serverRoot(t *testing.T, caches string) string {
	root := t.TempDir()
	os.MkdirAll(filepath.Join(root, "conf"), 0o755)
	doc := `<infinispan><cache-container name="default">` + caches + `</cache-container>
<server><interfaces><interface name="public"><loopback/></interface></interfaces>
<socket-bindings default-interface="public" port-offset="0"><socket-binding name="default" port="11222"/></socket-bindings>
<endpoints socket-binding="default"/></server></infinispan>`
	if err := os.WriteFile(filepath.Join(root, "conf", "hotgrid.xml"), []byte(doc), 0o644); err != nil {
		t.Fatal(err)
	}
	return root
}

// TestCrashKeepsAcknowledgedWrites kills the server with SIGKILL while
// clients write to a cache whose file store fsyncs every write; after each
// restart every write the server acknowledged must be there.
func TestCrashKeepsAcknowledgedWrites(t *testing.T) {
	root := serverRoot(t, `<local-cache name="durable"><persistence><file-store><data sync-writes="true"/></file-store></persistence></local-cache>`)
	port := freeTCPPort(t)
	ctx := context.Background()
	acked := map[string]string{}
	var mu sync.Mutex
	const rounds = 5
	for round := 0; round <= rounds; round++ {
		p := startProc(t, root, port)
		cl, err := client.New(ctx, client.Options{Servers: []string{p.addr}, PoolSize: 4})
		if err != nil {
			p.kill()
			t.Fatal(err)
		}
		c := cl.Cache("durable")
		mu.Lock()
		for k, v := range acked {
			got, ok, err := c.Get(ctx, []byte(k))
			if err != nil || !ok || string(got) != v {
				mu.Unlock()
				p.kill()
				t.Fatalf("round %d: acknowledged write %s=%s is %q (present %v, err %v)", round, k, v, got, ok, err)
			}
		}
		n := len(acked)
		mu.Unlock()
		if round == rounds {
			t.Logf("%d acknowledged writes survived %d kill -9 restarts", n, rounds)
			cl.Close()
			p.stop(t)
			return
		}
		var wg sync.WaitGroup
		for w := 0; w < 4; w++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for i := 0; ; i++ {
					k := fmt.Sprintf("r%d-w%d-%d", round, w, i)
					v := fmt.Sprintf("%d", rand.Int64())
					if err := c.Set(ctx, []byte(k), []byte(v)); err != nil {
						return // the server is gone
					}
					mu.Lock()
					acked[k] = v
					mu.Unlock()
				}
			}()
		}
		time.Sleep(time.Duration(200+rand.IntN(400)) * time.Millisecond)
		p.kill()
		cl.Close()
		wg.Wait()
	}
}

// TestGracefulRestartKeepsEverything creates a persistent cache at runtime,
// writes expiring and immortal entries, stops the server with SIGTERM and
// checks that the cache, its entries and their remaining lifespans are back.
func TestGracefulRestartKeepsEverything(t *testing.T) {
	root := serverRoot(t, `<local-cache name="configured"><persistence passivation="true"><file-store/></persistence><memory max-count="10"/></local-cache>`)
	port := freeTCPPort(t)
	ctx := context.Background()
	p := startProc(t, root, port)
	cl, err := client.New(ctx, client.Options{Servers: []string{p.addr}})
	if err != nil {
		t.Fatal(err)
	}
	runtimeCfg := `<distributed-cache><encoding media-type="application/octet-stream"/><persistence><file-store><property name="durability">group</property></file-store></persistence></distributed-cache>`
	if err := cl.CreateCache(ctx, "runtime", runtimeCfg); err != nil {
		t.Fatal(err)
	}
	rt, conf := cl.Cache("runtime"), cl.Cache("configured")
	for i := 0; i < 200; i++ {
		k := []byte(strconv.Itoa(i))
		if err := rt.Set(ctx, k, k); err != nil {
			t.Fatal(err)
		}
		if err := conf.Set(ctx, k, k); err != nil {
			t.Fatal(err)
		}
	}
	if err := rt.Set(ctx, []byte("mortal"), []byte("m"), client.Lifespan(time.Hour)); err != nil {
		t.Fatal(err)
	}
	_, before, _, err := rt.GetWithMetadata(ctx, []byte("mortal"))
	if err != nil {
		t.Fatal(err)
	}
	cl.Close()
	p.stop(t)

	p = startProc(t, root, port)
	defer p.stop(t)
	cl, err = client.New(ctx, client.Options{Servers: []string{p.addr}})
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	rt, conf = cl.Cache("runtime"), cl.Cache("configured")
	for name, c := range map[string]*client.Cache{"runtime": rt, "configured": conf} {
		for i := 0; i < 200; i++ {
			k := []byte(strconv.Itoa(i))
			v, ok, err := c.Get(ctx, k)
			if err != nil || !ok || string(v) != string(k) {
				t.Fatalf("%s: entry %d after restart: %q %v %v", name, i, v, ok, err)
			}
		}
	}
	_, after, ok, err := rt.GetWithMetadata(ctx, []byte("mortal"))
	if err != nil || !ok {
		t.Fatalf("expiring entry lost: %v %v", ok, err)
	}
	if !after.Created.Equal(before.Created) || after.Lifespan != time.Hour {
		t.Fatalf("lifespan not kept: created %v→%v, lifespan %v", before.Created, after.Created, after.Lifespan)
	}
	if n, err := rt.Size(ctx); err != nil || n != 201 {
		t.Fatalf("runtime cache size %d %v, want 201", n, err)
	}
}

// TestPostgresStore runs a cache on Infinispan's string-keyed JDBC store
// element against a real PostgreSQL (HOTGRID_TEST_POSTGRES, started by
// scripts/test): entries written over Hot Rod are in the table and come
// back after a restart.
func TestPostgresStore(t *testing.T) {
	pg := os.Getenv("HOTGRID_TEST_POSTGRES")
	if pg == "" {
		if testing.Short() {
			t.Skip("-short: no PostgreSQL")
		}
		t.Fatal("HOTGRID_TEST_POSTGRES is not set: start one with `test/postgres/start DIR PORT`")
	}
	u, err := url.Parse(pg)
	if err != nil {
		t.Fatal(err)
	}
	pass, _ := u.User.Password()
	name := fmt.Sprintf("pg%d", os.Getpid())
	root := serverRoot(t, fmt.Sprintf(`<local-cache name="%s"><persistence><string-keyed-jdbc-store>
<connection-pool connection-url="jdbc:postgresql://%s%s" username="%s" password="%s" driver="org.postgresql.Driver"/>
<string-keyed-table prefix="HOTGRID" create-on-start="true" drop-on-exit="false"/>
</string-keyed-jdbc-store></persistence></local-cache>`, name, u.Host, u.Path, u.User.Username(), pass))
	port := freeTCPPort(t)
	ctx := context.Background()
	for round := 0; round < 2; round++ {
		p := startProc(t, root, port)
		cl, err := client.New(ctx, client.Options{Servers: []string{p.addr}})
		if err != nil {
			p.kill()
			t.Fatal(err)
		}
		c := cl.Cache(name)
		for i := 0; i < 50; i++ {
			k := []byte(fmt.Sprintf("k%d", i))
			if round == 0 {
				err = c.Set(ctx, k, k)
			} else {
				var v []byte
				var ok bool
				v, ok, err = c.Get(ctx, k)
				if err == nil && (!ok || string(v) != string(k)) {
					err = fmt.Errorf("entry %s after restart: %q %v", k, v, ok)
				}
			}
			if err != nil {
				cl.Close()
				p.kill()
				t.Fatal(err)
			}
		}
		cl.Close()
		p.stop(t)
	}
}

// TestBackupRestoreCLI backs a node up with `hotgrid cli backup`, restores
// the archive into a fresh node with `hotgrid cli restore` and reads every
// entry and the runtime-created cache back, lifespans included.
func TestBackupRestoreCLI(t *testing.T) {
	caches := `<local-cache name="configured"/>`
	ctx := context.Background()
	portA, portB := freeTCPPort(t), freeTCPPort(t)
	a := startProc(t, serverRoot(t, caches), portA)
	defer a.stop(t)
	cl, err := client.New(ctx, client.Options{Servers: []string{a.addr}})
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	if err := cl.CreateCache(ctx, "made-at-runtime", `<local-cache><persistence><file-store/></persistence></local-cache>`); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"configured", "made-at-runtime"} {
		c := cl.Cache(name)
		for i := 0; i < 300; i++ {
			k := []byte(fmt.Sprintf("%s-%d", name, i))
			if err := c.Set(ctx, k, k, client.Lifespan(time.Hour)); err != nil {
				t.Fatal(err)
			}
		}
	}
	_, before, _, _ := cl.Cache("configured").GetWithMetadata(ctx, []byte("configured-9"))

	archive := filepath.Join(t.TempDir(), "node.zip")
	out, err := exec.Command(hotgridBinary(t), "cli", "--server", a.addr, "backup", "b1", "--out", archive).CombinedOutput()
	if err != nil {
		t.Fatalf("cli backup: %v\n%s", err, out)
	}
	t.Logf("%s", strings.TrimSpace(string(out)))

	b := startProc(t, serverRoot(t, caches), portB)
	defer b.stop(t)
	out, err = exec.Command(hotgridBinary(t), "cli", "--server", b.addr, "restore", archive).CombinedOutput()
	if err != nil {
		t.Fatalf("cli restore: %v\n%s", err, out)
	}
	t.Logf("%s", strings.TrimSpace(string(out)))
	clB, err := client.New(ctx, client.Options{Servers: []string{b.addr}})
	if err != nil {
		t.Fatal(err)
	}
	defer clB.Close()
	for _, name := range []string{"configured", "made-at-runtime"} {
		c := clB.Cache(name)
		if n, err := c.Size(ctx); err != nil || n != 300 {
			t.Fatalf("%s after restore: %d entries, %v", name, n, err)
		}
	}
	_, after, ok, err := clB.Cache("configured").GetWithMetadata(ctx, []byte("configured-9"))
	if err != nil || !ok || !after.Created.Equal(before.Created) || after.Lifespan != time.Hour {
		t.Fatalf("restored metadata %+v (before %+v) %v %v", after, before, ok, err)
	}
}

// TestFullDisk puts a node's server root on a small tmpfs, writes until the
// file system is full, and checks that the clients get errors in their
// protocols' terms (Hot Rod, RESP, memcached, REST), that the node keeps
// serving, and that a copy of the data directory opens with every
// acknowledged write.
// It needs root (mount); it fails, rather than skips, without it.
func TestFullDisk(t *testing.T) {
	if testing.Short() {
		t.Skip("-short: needs a tmpfs mount")
	}
	mnt := t.TempDir()
	if out, err := exec.Command("mount", "-t", "tmpfs", "-o", "size=16m", "tmpfs", mnt).CombinedOutput(); err != nil {
		t.Fatalf("mount a small tmpfs (this test needs root): %v %s", err, out)
	}
	defer exec.Command("umount", "-l", mnt).Run()
	cachesXML := `<local-cache name="full"><persistence><file-store><data sync-writes="true"/></file-store></persistence></local-cache>
<local-cache name="respCache"><encoding media-type="application/octet-stream"/><persistence><file-store/></persistence></local-cache>
<local-cache name="memcachedCache"><encoding media-type="application/octet-stream"/><persistence><file-store/></persistence></local-cache>
<local-cache name="rest"><encoding media-type="text/plain"/><persistence><file-store/></persistence></local-cache>`
	src := serverRoot(t, cachesXML)
	root := filepath.Join(mnt, "root")
	if out, err := exec.Command("cp", "-r", src, root).CombinedOutput(); err != nil {
		t.Fatalf("%v %s", err, out)
	}
	port := freeTCPPort(t)
	ctx := context.Background()
	p := startProc(t, root, port)
	cl, err := client.New(ctx, client.Options{Servers: []string{p.addr}})
	if err != nil {
		p.kill()
		t.Fatal(err)
	}
	c := cl.Cache("full")
	value := make([]byte, 64<<10)
	var acked []string
	var writeErr error
	for i := 0; i < 1000 && writeErr == nil; i++ {
		k := fmt.Sprintf("k%d", i)
		if writeErr = c.Set(ctx, []byte(k), value); writeErr == nil {
			acked = append(acked, k)
		}
	}
	if writeErr == nil {
		p.kill()
		t.Fatal("64 MB of writes fit in a 16 MB file system")
	}
	var se *client.ServerError
	if !errors.As(writeErr, &se) || !strings.Contains(writeErr.Error(), "no space left") {
		p.kill()
		t.Fatalf("Hot Rod error on a full disk: %v, want a server error naming ENOSPC", writeErr)
	}
	t.Logf("%d writes acknowledged, then: %v", len(acked), writeErr)

	// RESP on the same full file system answers -ERR.
	nc, err := net.Dial("tcp", p.addr)
	if err != nil {
		p.kill()
		t.Fatal(err)
	}
	fmt.Fprintf(nc, "*3\r\n$3\r\nSET\r\n$1\r\nr\r\n$%d\r\n%s\r\n", len(value), value)
	nc.SetReadDeadline(time.Now().Add(10 * time.Second))
	line, _ := bufio.NewReader(nc).ReadString('\n')
	nc.Close()
	if !strings.HasPrefix(line, "-ERR") {
		p.kill()
		t.Fatalf("RESP SET on a full disk answered %q, want -ERR", line)
	}
	// memcached and REST on the same full file system answer with their
	// own server errors.
	nc, err = net.Dial("tcp", p.addr)
	if err != nil {
		p.kill()
		t.Fatal(err)
	}
	fmt.Fprintf(nc, "set m 0 0 %d\r\n%s\r\n", len(value), value)
	nc.SetReadDeadline(time.Now().Add(10 * time.Second))
	line, _ = bufio.NewReader(nc).ReadString('\n')
	nc.Close()
	if !strings.HasPrefix(line, "SERVER_ERROR") {
		p.kill()
		t.Fatalf("memcached set on a full disk answered %q, want SERVER_ERROR", line)
	}
	req, _ := http.NewRequest(http.MethodPut, "http://"+p.addr+"/rest/v2/caches/rest/k", bytes.NewReader(value))
	req.Header.Set("Content-Type", "text/plain")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		p.kill()
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusInternalServerError {
		p.kill()
		t.Fatalf("REST PUT on a full disk answered %s, want 500", resp.Status)
	}

	// The node still serves what it has.
	if v, ok, err := c.Get(ctx, []byte(acked[0])); err != nil || !ok || len(v) != len(value) {
		p.kill()
		t.Fatalf("read after the disk filled: %v %v", ok, err)
	}
	cl.Close()
	p.stop(t)

	// What is on the full disk opens elsewhere with every acknowledged write.
	copyRoot := filepath.Join(t.TempDir(), "root")
	if out, err := exec.Command("cp", "-r", root, copyRoot).CombinedOutput(); err != nil {
		t.Fatalf("%v %s", err, out)
	}
	p = startProc(t, copyRoot, port)
	defer p.stop(t)
	cl, err = client.New(ctx, client.Options{Servers: []string{p.addr}})
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	for _, k := range acked {
		if v, ok, err := cl.Cache("full").Get(ctx, []byte(k)); err != nil || !ok || len(v) != len(value) {
			t.Fatalf("acknowledged write %s after the full disk: %v %v", k, ok, err)
		}
	}
}
