package server

import (
	"bufio"
	"bytes"
	"context"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/hotgrid/hotgrid/hotrod/wire"
)

// StartNode runs a node on a free loopback port and stops it when the test
// ends.
func StartNode(t testing.TB, opts Options) *Node {
	t.Helper()
	opts.BindAddress = "127.0.0.1"
	opts.PortSet = true
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	n, err := New(opts)
	if err != nil {
		t.Fatal(err)
	}
	if err := n.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		n.Shutdown(ctx)
	})
	return n
}

func TestHealthOnTheSinglePort(t *testing.T) {
	n := StartNode(t, Options{})
	for _, path := range []string{"/rest/v2/container/health/status", "/rest/v2/cache-managers/default/health/status"} {
		resp, err := http.Get("http://" + n.Addr().String() + path)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 200 || string(body) != "HEALTHY" {
			t.Fatalf("%s: %d %q", path, resp.StatusCode, body)
		}
	}
}

// hotrodExec sends one raw request and reads the response header.
func hotrodRoundTrip(t *testing.T, nc net.Conn, req []byte) []byte {
	t.Helper()
	if _, err := nc.Write(req); err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 4096)
	nc.SetReadDeadline(time.Now().Add(5 * time.Second))
	k, err := nc.Read(buf)
	if err != nil {
		t.Fatal(err)
	}
	return buf[:k]
}

func TestDefaultCacheOverHotRod(t *testing.T) {
	n := StartNode(t, Options{})
	nc, err := net.Dial("tcp", n.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	// put k=v into the default cache ("" name) at 3.0, then get it back.
	put := []byte{0xA0, 0x01, 0x1E, 0x01, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x01, 'k', 0x77, 0x01, 'v'}
	if got := hotrodRoundTrip(t, nc, put); !bytes.Equal(got, []byte{0xA1, 0x01, 0x02, 0x00, 0x00}) {
		t.Fatalf("put response % X", got)
	}
	get := []byte{0xA0, 0x02, 0x1E, 0x03, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x01, 'k'}
	if got := hotrodRoundTrip(t, nc, get); !bytes.Equal(got, []byte{0xA1, 0x02, 0x04, 0x00, 0x00, 0x01, 'v'}) {
		t.Fatalf("get response % X", got)
	}
}

// The default cache is distributed: a hash-aware client gets a topology
// with hash function 3 and 256 segments owned by this node.
func TestTopologyForHashAwareClients(t *testing.T) {
	n := StartNode(t, Options{})
	nc, err := net.Dial("tcp", n.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	ping := []byte{0xA0, 0x01, 0x28, 0x17, 0x00, 0x00, 0x03}
	ping = wire.AppendVInt(ping, -1)
	ping = append(ping, 0, 0, 0)
	nc.Write(ping)
	nc.SetReadDeadline(time.Now().Add(5 * time.Second))
	var all []byte
	buf := make([]byte, 8192)
	for len(all) < 5+256*2 {
		k, err := nc.Read(buf)
		if err != nil {
			t.Fatal(err)
		}
		all = append(all, buf[:k]...)
	}
	d := wire.Decoder{Buf: all, Pos: 5}
	if all[4] != 1 {
		t.Fatalf("no topology marker: % X", all[:5])
	}
	id, _ := d.VInt()
	members, _ := d.VInt()
	host, _ := d.Bytes("host")
	port, _ := d.Uint16()
	hf, _ := d.Byte()
	segs, _ := d.VInt()
	if id != 1 || members != 1 || string(host) != "127.0.0.1" || int(port) != n.Addr().Port || hf != 3 || segs != 256 {
		t.Fatalf("topology id=%d members=%d host=%s port=%d hash=%d segments=%d", id, members, host, port, hf, segs)
	}
	for s := 0; s < 256; s++ {
		owners, _ := d.Byte()
		owner, err := d.VInt()
		if owners != 1 || owner != 0 || err != nil {
			t.Fatalf("segment %d: owners=%d owner=%d err=%v", s, owners, owner, err)
		}
	}
}

// Caches created at runtime survive a restart when the node has a server
// root.
func TestRuntimeCachesSurviveRestart(t *testing.T) {
	root := t.TempDir()
	n := StartNode(t, Options{ServerRoot: root})
	cfg := `<distributed-cache name="orders" mode="SYNC"><encoding media-type="text/plain"/></distributed-cache>`
	if _, err := n.Manager().Create(mustCacheConfig(t, n, "orders", cfg), createOpts()); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := n.Shutdown(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(root, "data", "caches.json")); err != nil {
		t.Fatal(err)
	}
	n2 := StartNode(t, Options{ServerRoot: root})
	c, err := n2.Manager().Cache("orders")
	if err != nil {
		t.Fatal(err)
	}
	if c.Config().KeyMediaType != "text/plain" || c.Config().Mode != 1 {
		t.Fatalf("restored config %+v", c.Config())
	}
}

// Shutdown answers every request already received before closing.
func TestGracefulShutdownFinishesInFlightRequests(t *testing.T) {
	n := StartNode(t, Options{})
	nc, err := net.Dial("tcp", n.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	// 200 pipelined puts in one write, then shut down at once.
	var batch []byte
	for i := 0; i < 200; i++ {
		batch = append(batch, 0xA0)
		batch = wire.AppendVLong(batch, int64(i+1))
		batch = append(batch, 0x1E, 0x01, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x01, 'k', 0x77, 0x01, 'v')
	}
	nc.Write(batch)
	time.Sleep(50 * time.Millisecond) // let the server read it
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	go n.Shutdown(ctx)
	nc.SetReadDeadline(time.Now().Add(5 * time.Second))
	r := bufio.NewReader(nc)
	for i := 0; i < 200; i++ {
		hdr := make([]byte, 5)
		if _, err := io.ReadFull(r, hdr[:1]); err != nil {
			t.Fatalf("response %d: %v", i, err)
		}
		// message id (vLong), then opcode, status and topology marker
		var id int64
		var s uint
		for {
			b, err := r.ReadByte()
			if err != nil {
				t.Fatalf("response %d: %v", i, err)
			}
			id |= int64(b&0x7f) << s
			if b < 0x80 {
				break
			}
			s += 7
		}
		rest := make([]byte, 3)
		if _, err := io.ReadFull(r, rest); err != nil {
			t.Fatalf("response %d: %v", i, err)
		}
		if id != int64(i+1) || rest[0] != 0x02 || rest[1] != 0 {
			t.Fatalf("response %d: id %d op %x status %x", i, id, rest[0], rest[1])
		}
	}
	if _, err := r.ReadByte(); err != io.EOF {
		t.Fatalf("connection not closed after shutdown: %v", err)
	}
}

func TestFlags(t *testing.T) {
	opts, lvl, err := ParseFlags(strings.Fields("-b 0.0.0.0 --port=11333 -s /tmp/root -c infinispan.xml -n node1 -Dfoo=bar -D a=b --log-level debug"))
	if err != nil {
		t.Fatal(err)
	}
	if opts.BindAddress != "0.0.0.0" || opts.Port != 11333 || !opts.PortSet || opts.ServerRoot != "/tmp/root" ||
		opts.ServerConfig != "infinispan.xml" || opts.NodeName != "node1" || opts.Properties["foo"] != "bar" ||
		opts.Properties["a"] != "b" || lvl != "debug" {
		t.Fatalf("parsed %+v %s", opts, lvl)
	}
	for _, bad := range []string{"--port x", "--nope 1", "-D", "-Dnovalue", "stray"} {
		if _, _, err := ParseFlags(strings.Fields(bad)); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
}

// Memcached text and binary share the single port with Hot Rod and HTTP,
// and see the same memcachedCache.
func TestMemcachedOnTheSinglePort(t *testing.T) {
	n := StartNode(t, Options{})
	nc, err := net.Dial("tcp", n.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	nc.SetDeadline(time.Now().Add(5 * time.Second))
	r := bufio.NewReader(nc)
	nc.Write([]byte("set greeting 5 0 5\r\nhello\r\nget greeting\r\n"))
	var got []string
	for i := 0; i < 4; i++ {
		l, err := r.ReadString('\n')
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, strings.TrimSpace(l))
	}
	if strings.Join(got, "|") != "STORED|VALUE greeting 5 5|hello|END" {
		t.Fatalf("text replies %q", got)
	}
	c, err := n.Manager().Cache("memcachedCache")
	if err != nil {
		t.Fatal(err)
	}
	e, ok, _ := c.Get(context.Background(), []byte("greeting"))
	if !ok || string(e.Value) != "hello" {
		t.Fatalf("cache sees %q %v", e.Value, ok)
	}
	// Binary GET of the same key.
	bin, err := net.Dial("tcp", n.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer bin.Close()
	req := []byte{0x80, 0x00, 0x00, 0x08, 0, 0, 0, 0, 0, 0, 0, 8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0}
	bin.Write(append(req, "greeting"...))
	resp := make([]byte, 24+4+5)
	bin.SetReadDeadline(time.Now().Add(5 * time.Second))
	if _, err := io.ReadFull(bin, resp); err != nil {
		t.Fatal(err)
	}
	if resp[0] != 0x81 || resp[6] != 0 || resp[7] != 0 || string(resp[28:]) != "hello" {
		t.Fatalf("binary reply % X", resp)
	}
}

func TestDetectHTTP(t *testing.T) {
	for _, tt := range []struct {
		in          string
		match, more bool
	}{
		{"GET / HTTP/1.1\r\n", true, false},
		{"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n", true, false},
		{"GET /rest/v2/caches", false, true},
		{"GE", false, true},
		{"get k\r\n", false, false},
		{"\x80\x00\x00\x08", false, false},
		{"*1\r\n$4\r\nPING\r\n", false, false},
		{"PING\r\n", false, false},
		{"SET k v\r\n", false, false},
	} {
		m, more := detectHTTP([]byte(tt.in))
		if m != tt.match || more != tt.more {
			t.Errorf("detectHTTP(%q) = %v, %v; want %v, %v", tt.in, m, more, tt.match, tt.more)
		}
	}
}

// RESP shares the single port: arrays and inline commands, on respCache.
func TestRESPOnTheSinglePort(t *testing.T) {
	n := StartNode(t, Options{})
	for _, tt := range []struct{ send, want string }{
		{"*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$1\r\nv\r\n", "+OK\r\n"},
		{"*2\r\n$3\r\nGET\r\n$1\r\nk\r\n", "$1\r\nv\r\n"},
		{"PING\r\n", "+PONG\r\n"},
		{"GET k\r\n", "$1\r\nv\r\n"},
	} {
		nc, err := net.Dial("tcp", n.Addr().String())
		if err != nil {
			t.Fatal(err)
		}
		nc.SetDeadline(time.Now().Add(5 * time.Second))
		nc.Write([]byte(tt.send))
		got := make([]byte, len(tt.want))
		if _, err := io.ReadFull(nc, got); err != nil || string(got) != tt.want {
			t.Fatalf("%q: got %q, %v", tt.send, got, err)
		}
		nc.Close()
	}
	c, err := n.Manager().Cache("respCache")
	if err != nil {
		t.Fatal(err)
	}
	if e, ok, _ := c.Get(context.Background(), []byte("k")); !ok || string(e.Value) != "v" {
		t.Fatalf("respCache holds %q %v", e.Value, ok)
	}
}

func TestUnknownProtocolIsClosed(t *testing.T) {
	n := StartNode(t, Options{})
	nc, err := net.Dial("tcp", n.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	nc.SetDeadline(time.Now().Add(5 * time.Second))
	nc.Write([]byte{0x16, 0x03, 0x01, 0x00, 0x05, 'h', 'e', 'l', 'l', 'o', '\r', '\n'})
	if k, err := nc.Read(make([]byte, 16)); err != io.EOF {
		t.Fatalf("read %d bytes, %v; want the connection closed", k, err)
	}
	// The node still serves others.
	resp, err := http.Get("http://" + n.Addr().String() + "/rest/v2/container/health/status")
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("health after a stray connection: %v %v", resp, err)
	}
	resp.Body.Close()
}

// FuzzDetect offers arbitrary first bytes to the router's detectors in
// order, as route does: detection must never panic, and a prefix is never
// claimed by two protocols.
func FuzzDetect(f *testing.F) {
	for _, s := range []string{"GET / HTTP/1.1\r\n", "PRI * HTTP/2.0\r\n", "*1\r\n$4\r\nPING\r\n", "get k\r\n",
		"set k 0 0 1\r\nv\r\n", "PING\r\n", "\xa0\x01", "\x80\x00", "verbosity\r\n"} {
		f.Add([]byte(s))
	}
	n, err := New(Options{Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, p []byte) {
		if len(p) == 0 {
			return
		}
		claimed := ""
		for _, d := range n.detectors {
			if m, _ := d.detect(p); m {
				if claimed != "" {
					t.Fatalf("%q claimed by %s and %s", p, claimed, d.name)
				}
				claimed = d.name
			}
		}
	})
}

func TestDedicatedPorts(t *testing.T) {
	free := func() int {
		ln, _ := net.Listen("tcp", "127.0.0.1:0")
		defer ln.Close()
		return ln.Addr().(*net.TCPAddr).Port
	}
	rp, mp := free(), free()
	StartNode(t, Options{RESPPort: rp, MemcachedPort: mp})
	for _, tt := range []struct {
		port       int
		send, want string
	}{
		// No detection on a dedicated port: a lower-case "get" is RESP
		// here, not memcached.
		{rp, "get nothing\r\n", "$-1\r\n"},
		{mp, "version\r\n", "VERSION "},
	} {
		nc, err := net.Dial("tcp", "127.0.0.1:"+strconv.Itoa(tt.port))
		if err != nil {
			t.Fatal(err)
		}
		nc.SetDeadline(time.Now().Add(5 * time.Second))
		nc.Write([]byte(tt.send))
		got := make([]byte, len(tt.want))
		if _, err := io.ReadFull(nc, got); err != nil || string(got) != tt.want {
			t.Fatalf("port %d %q: %q %v", tt.port, tt.send, got, err)
		}
		nc.Close()
	}
	if _, _, err := ParseFlags([]string{"--resp-port", "x"}); err == nil {
		t.Fatal("bad --resp-port accepted")
	}
	for _, bad := range []string{"x", "-2"} {
		if _, _, err := ParseFlags([]string{"--event-loops", bad}); err == nil {
			t.Fatalf("--event-loops %s accepted", bad)
		}
	}
	if o, _, err := ParseFlags([]string{"--event-loops=-1"}); err != nil || o.EventLoops != -1 {
		t.Fatalf("--event-loops=-1: %+v %v", o.EventLoops, err)
	}
}

// A connector with its own socket binding in the configuration gets a
// dedicated port.
func TestDedicatedPortFromConfiguration(t *testing.T) {
	ln, _ := net.Listen("tcp", "127.0.0.1:0")
	port := ln.Addr().(*net.TCPAddr).Port
	ln.Close()
	cfg := filepath.Join(t.TempDir(), "infinispan.xml")
	os.WriteFile(cfg, []byte(`<infinispan><cache-container default-cache="c"><local-cache name="c"/></cache-container>
<server><interfaces><interface name="public"><loopback/></interface></interfaces>
<socket-bindings default-interface="public"><socket-binding name="default" port="0"/><socket-binding name="redis" port="${redis.port}"/></socket-bindings>
<endpoints socket-binding="default"><resp-connector socket-binding="redis"/></endpoints></server></infinispan>`), 0o644)
	StartNode(t, Options{ServerConfig: cfg, Properties: map[string]string{"redis.port": strconv.Itoa(port)}})
	nc, err := net.Dial("tcp", "127.0.0.1:"+strconv.Itoa(port))
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	nc.SetDeadline(time.Now().Add(5 * time.Second))
	nc.Write([]byte("PING\r\n"))
	got := make([]byte, 7)
	if _, err := io.ReadFull(nc, got); err != nil || string(got) != "+PONG\r\n" {
		t.Fatalf("%q %v", got, err)
	}
}
