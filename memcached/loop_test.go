package memcached

import (
	"bufio"
	"context"
	"io"
	"log/slog"
	"net"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/hotgrid/hotgrid/cache"
	"github.com/hotgrid/hotgrid/config"
	"github.com/hotgrid/hotgrid/netloop/looptest"
)

// textClient is a line-oriented memcached text client.
type textClient struct {
	t  *testing.T
	nc net.Conn
	r  *bufio.Reader
}

func dialText(t *testing.T, addr string) *textClient {
	t.Helper()
	nc, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { nc.Close() })
	return &textClient{t: t, nc: nc, r: bufio.NewReader(nc)}
}

// do sends req and returns the first line of the reply.
func (c *textClient) do(req string) string {
	c.t.Helper()
	if _, err := c.nc.Write([]byte(req)); err != nil {
		c.t.Fatal(err)
	}
	c.nc.SetReadDeadline(time.Now().Add(5 * time.Second))
	line, err := c.r.ReadString('\n')
	if err != nil {
		c.t.Fatalf("%q: %v", req, err)
	}
	return line
}

// TestLoopAuthReturnsToLoop: a text connection authenticates on its
// goroutine (failures are delayed) and then goes back to the loop.
func TestLoopAuthReturnsToLoop(t *testing.T) {
	looptest.Require(t)
	s := guardedServer(t)
	addr := startServer(t, s)
	c := dialText(t, addr)
	if got := c.do("version\r\n"); got != string(rUnauthenticated) {
		t.Fatalf("before auth: %q", got)
	}
	if got := c.do("set auth 0 0 26\r\napplication application-pw\r\n"); got != "STORED\r\n" {
		t.Fatalf("auth: %q", got)
	}
	looptest.WaitConns(t, s.loops, 1)
	if got := c.do("set k 0 0 1\r\nv\r\n"); got != "STORED\r\n" {
		t.Fatalf("set after auth: %q", got)
	}
	if got := c.do("get k\r\n"); got != "VALUE k 0 1\r\n" {
		t.Fatalf("get after auth: %q", got)
	}
}

// slowStore is an empty store whose writes take storeDelay, as a remote
// database's may.
type slowStore struct{}

const storeDelay = 300 * time.Millisecond

func (slowStore) Store(context.Context, int, cache.Entry) error {
	time.Sleep(storeDelay)
	return nil
}
func (slowStore) Load(context.Context, int, []byte, int64) (cache.Entry, bool, error) {
	return cache.Entry{}, false, nil
}
func (slowStore) Delete(context.Context, int, []byte) error                { return nil }
func (slowStore) Passivate(context.Context, int, cache.Entry) error        { return nil }
func (slowStore) Size(_ context.Context, _, inMemory int64) (int64, error) { return inMemory, nil }
func (slowStore) Publish(context.Context, int, int64, func(cache.Entry) error) error {
	return nil
}
func (slowStore) Clear(context.Context) error                                       { return nil }
func (slowStore) PurgeExpired(context.Context, int64) error                         { return nil }
func (slowStore) Preload(context.Context, int64, func(int, cache.Entry) bool) error { return nil }
func (slowStore) Close(context.Context, func(func(int, cache.Entry) error) error) error {
	return nil
}

// TestLoopStoreDoesNotHoldLoop: connections to a cache with stores are
// served from their goroutines, so a slow store write on one does not delay
// the others, as it would if they shared a loop.
func TestLoopStoreDoesNotHoldLoop(t *testing.T) {
	looptest.Require(t)
	log := slog.New(slog.DiscardHandler)
	cfg := config.NewCache(DefaultCache, config.ModeLocal)
	cfg.Persistence.Stores = []config.Store{{Kind: config.StoreFile}}
	m, err := cache.NewManager(cache.ManagerOptions{
		Container: &config.Container{Name: "default", Caches: []*config.Cache{cfg}},
		Logger:    log,
		Persistence: func(context.Context, *config.Cache) (cache.Persister, error) {
			return slowStore{}, nil
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(m.Close)
	s := NewServer(Options{Manager: m, Logger: log, EventLoops: 1})
	addr := startServer(t, s)
	writer, other := dialText(t, addr), dialText(t, addr)
	writer.do("version\r\n")
	other.do("version\r\n")
	looptest.WaitConns(t, s.loops, 0) // both left the loop at their first request

	done := make(chan string, 1)
	go func() { done <- writer.do("set k 0 0 1\r\nv\r\n") }()
	time.Sleep(storeDelay / 6) // the write is in the store
	start := time.Now()
	if got := other.do("version\r\n"); !strings.HasPrefix(got, "VERSION ") {
		t.Fatalf("version: %q", got)
	}
	if d := time.Since(start); d > storeDelay/2 {
		t.Fatalf("a store write on another connection held the loop for %v", d)
	}
	if got := <-done; got != "STORED\r\n" {
		t.Fatalf("set: %q", got)
	}
}

// TestLoopSlowReader: replies larger than the socket buffer, to a client
// that reads late, move the connection to its goroutine and arrive whole.
func TestLoopSlowReader(t *testing.T) {
	looptest.Require(t)
	s, _ := newTestServer(t)
	addr := startServer(t, s)
	c := dialText(t, addr)
	val := strings.Repeat("v", 512<<10)
	if got := c.do("set big 0 0 " + strconv.Itoa(len(val)) + "\r\n" + val + "\r\n"); got != "STORED\r\n" {
		t.Fatalf("set: %q", got)
	}
	const n = 32 // 16 MiB of replies
	go c.nc.Write([]byte(strings.Repeat("get big\r\n", n)))
	time.Sleep(200 * time.Millisecond) // let the server fill the socket
	c.nc.SetReadDeadline(time.Now().Add(10 * time.Second))
	want := "VALUE big 0 " + strconv.Itoa(len(val)) + "\r\n" + val + "\r\nEND\r\n"
	buf := make([]byte, len(want))
	for i := range n {
		if _, err := io.ReadFull(c.r, buf); err != nil || string(buf) != want {
			t.Fatalf("reply %d: %v", i, err)
		}
	}
}
