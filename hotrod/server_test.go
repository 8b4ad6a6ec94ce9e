package hotrod

import (
	"bytes"
	"context"
	"encoding/hex"
	"io"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/hotgrid/hotgrid/cache"
	"github.com/hotgrid/hotgrid/config"
	"github.com/hotgrid/hotgrid/hotrod/wire"
)

// startServer runs a Hot Rod server on a loopback port with a distributed
// cache "c" (text/plain), a local cache "local" and "default" (no encoding).
func startServer(t testing.TB) (*Server, string) {
	t.Helper()
	c := config.NewCache("c", config.ModeDistributed)
	c.KeyMediaType, c.ValueMediaType = "text/plain", "text/plain"
	l := config.NewCache("local", config.ModeLocal)
	d := config.NewCache("default", config.ModeDistributed)
	m, err := cache.NewManager(cache.ManagerOptions{Container: &config.Container{
		Name: "default", DefaultCache: "default", Caches: []*config.Cache{c, l, d},
	}})
	if err != nil {
		t.Fatal(err)
	}
	s := NewServer(Options{Manager: m, MaxRequestSize: 1 << 20})
	t.Cleanup(m.Close)
	return s, listen(t, s)
}

// listen serves s on a loopback port until the test ends and returns the
// address.
func listen(t testing.TB, s *Server) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	go func() {
		for {
			nc, err := ln.Accept()
			if err != nil {
				return
			}
			go s.ServeConn(ctx, nc, nil)
		}
	}()
	t.Cleanup(func() {
		ln.Close()
		sctx, c2 := context.WithTimeout(context.Background(), 5*time.Second)
		defer c2()
		s.Shutdown(sctx)
		cancel()
	})
	return ln.Addr().String()
}

func dial(t testing.TB, addr string) net.Conn {
	t.Helper()
	nc, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { nc.Close() })
	nc.SetDeadline(time.Now().Add(10 * time.Second))
	return nc
}

func unhex(s string) []byte {
	b, err := hex.DecodeString(strings.ReplaceAll(s, " ", ""))
	if err != nil {
		panic(err)
	}
	return b
}

func readN(t *testing.T, nc net.Conn, n int) []byte {
	t.Helper()
	b := make([]byte, n)
	if _, err := io.ReadFull(nc, b); err != nil {
		t.Fatalf("read %d bytes: %v", n, err)
	}
	return b
}

// The worked example of the protocol reference: a 4.0 put of k=v into
// text/plain cache "c" by a local-only (intelligence 3) client, then a get.
func TestPutGetGolden(t *testing.T) {
	_, addr := startServer(t)
	nc := dial(t, addr)
	// Intelligence 1 so that no topology block is added.
	put := unhex("A0 05 28 01 01 63 00 01 00 01 0D 00 01 0D 00 00 01 6B 77 01 76")
	get := unhex("A0 06 28 03 01 63 00 01 00 01 0D 00 01 0D 00 00 01 6B")
	nc.Write(append(put, get...))
	if got, want := readN(t, nc, 5), unhex("A1 05 02 00 00"); !bytes.Equal(got, want) {
		t.Fatalf("put response % X, want % X", got, want)
	}
	if got, want := readN(t, nc, 7), unhex("A1 06 04 00 00 01 76"); !bytes.Equal(got, want) {
		t.Fatalf("get response % X, want % X", got, want)
	}
}

func TestCacheNotFound(t *testing.T) {
	_, addr := startServer(t)
	nc := dial(t, addr)
	nc.Write(unhex("A0 07 28 17 04 6E 6F 70 65 00 01 00 00 00 00")) // ping "nope"
	hdr := readN(t, nc, 5)
	if !bytes.Equal(hdr, unhex("A1 07 50 84 00")) {
		t.Fatalf("header % X", hdr)
	}
	msg := readString(t, nc)
	if !strings.Contains(msg, "CacheNotFoundException") || !strings.Contains(msg, "'nope'") {
		t.Fatalf("message %q", msg)
	}
}

func readString(t *testing.T, nc net.Conn) string {
	t.Helper()
	var n, s uint
	for {
		b := readN(t, nc, 1)[0]
		n |= uint(b&0x7f) << s
		if b < 0x80 {
			break
		}
		s += 7
	}
	return string(readN(t, nc, int(n)))
}

// A bad magic byte gets an error response, then the connection closes; a
// second connection is unaffected.
func TestBadMagicClosesOnlyThatConnection(t *testing.T) {
	_, addr := startServer(t)
	bad := dial(t, addr)
	good := dial(t, addr)
	bad.Write([]byte{0x55, 0x01, 0x28, 0x17})
	if hdr := readN(t, bad, 5); !bytes.Equal(hdr, unhex("A1 00 50 81 00")) {
		t.Fatalf("header % X", hdr)
	}
	if msg := readString(t, bad); !strings.Contains(msg, "magic") {
		t.Fatalf("message %q", msg)
	}
	if _, err := bad.Read(make([]byte, 1)); err != io.EOF {
		t.Fatalf("bad connection not closed: %v", err)
	}
	// Ping the default cache at 2.0: no media types, no op list.
	good.Write(unhex("A0 01 14 17 00 00 01 00"))
	if got := readN(t, good, 5); !bytes.Equal(got, unhex("A1 01 18 00 00")) {
		t.Fatalf("ping response % X", got)
	}
}

func TestOversizedLengthRefused(t *testing.T) {
	_, addr := startServer(t)
	nc := dial(t, addr)
	// put with a key length of 2 GiB-ish declared: refused before allocation.
	req := unhex("A0 09 28 01 01 63 00 01 00 00 00 00")
	req = wire.AppendVInt(req, 1<<30)
	nc.Write(req)
	hdr := readN(t, nc, 5)
	if !bytes.Equal(hdr, unhex("A1 09 50 84 00")) {
		t.Fatalf("header % X", hdr)
	}
	if msg := readString(t, nc); !strings.Contains(msg, "exceeds the limit") {
		t.Fatalf("message %q", msg)
	}
	if _, err := nc.Read(make([]byte, 1)); err != io.EOF {
		t.Fatalf("connection not closed: %v", err)
	}
}
