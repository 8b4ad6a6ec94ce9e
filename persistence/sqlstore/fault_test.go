package sqlstore

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hotgrid/hotgrid/cache"
	"github.com/hotgrid/hotgrid/persistence"
)

// proxy is a TCP proxy between a store and the test PostgreSQL that can
// break connections, refuse new ones (a stopped server) or stop forwarding
// (a hung server or a network partition) without touching the server,
// which other tests share.
type proxy struct {
	ln     net.Listener
	target string

	mu     sync.Mutex
	cond   *sync.Cond
	conns  map[net.Conn]struct{}
	down   bool // refuse connections
	frozen bool // forward nothing
	closed bool
}

// newProxy starts a proxy to the test server and returns it with a
// connection URL that goes through it.
func newProxy(t *testing.T) (*proxy, string) {
	u, err := url.Parse(pgURL(t))
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &proxy{ln: ln, target: u.Host, conns: map[net.Conn]struct{}{}}
	p.cond = sync.NewCond(&p.mu)
	go p.accept()
	t.Cleanup(p.close)
	u.Host = ln.Addr().String()
	return p, u.String()
}

func (p *proxy) accept() {
	for {
		c, err := p.ln.Accept()
		if err != nil {
			return
		}
		p.mu.Lock()
		down := p.down || p.closed
		p.mu.Unlock()
		if down {
			c.Close()
			continue
		}
		s, err := net.Dial("tcp", p.target)
		if err != nil {
			c.Close()
			continue
		}
		p.mu.Lock()
		p.conns[c], p.conns[s] = struct{}{}, struct{}{}
		p.mu.Unlock()
		go p.pipe(c, s)
		go p.pipe(s, c)
	}
}

// pipe copies src to dst, holding each chunk while the proxy is frozen.
func (p *proxy) pipe(dst, src net.Conn) {
	defer dst.Close()
	defer src.Close()
	buf := make([]byte, 32<<10)
	for {
		n, err := src.Read(buf)
		p.mu.Lock()
		for p.frozen && !p.closed {
			p.cond.Wait()
		}
		p.mu.Unlock()
		if n > 0 {
			if _, werr := dst.Write(buf[:n]); werr != nil {
				return
			}
		}
		if err != nil {
			return
		}
	}
}

// kill breaks every open connection.
func (p *proxy) kill() {
	p.mu.Lock()
	defer p.mu.Unlock()
	for c := range p.conns {
		c.Close()
		delete(p.conns, c)
	}
}

// setDown makes the server look stopped (connections broken and refused)
// or back up.
func (p *proxy) setDown(down bool) {
	p.mu.Lock()
	p.down = down
	p.mu.Unlock()
	if down {
		p.kill()
	}
}

// freeze stops or resumes forwarding.
func (p *proxy) freeze(frozen bool) {
	p.mu.Lock()
	p.frozen = frozen
	p.cond.Broadcast()
	p.mu.Unlock()
}

func (p *proxy) close() {
	p.mu.Lock()
	p.closed = true
	p.cond.Broadcast()
	p.mu.Unlock()
	p.ln.Close()
	p.kill()
}

// within fails the test if fn takes longer than limit.
func within(t *testing.T, limit time.Duration, what string, fn func()) {
	t.Helper()
	start := time.Now()
	fn()
	if d := time.Since(start); d > limit {
		t.Errorf("%s took %v, want under %v", what, d, limit)
	}
}

// Connections the server or the network closed cost a retry, not an
// error, for operations that may safely run twice.
func TestKilledConnections(t *testing.T) {
	ctx := testCtx(t)
	p, u := newProxy(t)
	app := fmt.Sprintf("hgtest-kill-%d", nameSeq.Add(1))
	s := open(t, Options{ConnectionURL: u + sep(u) + "application_name=" + app})
	if err := s.Write(ctx, 0, entry("k", "v", immortal)); err != nil {
		t.Fatal(err)
	}
	// Warm several pooled connections.
	var wg sync.WaitGroup
	for range 4 {
		wg.Go(func() { s.Load(ctx, 0, []byte("k"), 0) })
	}
	wg.Wait()
	ops := func(round string) {
		t.Helper()
		if _, ok, err := s.Load(ctx, 0, []byte("k"), 0); !ok || err != nil {
			t.Fatalf("%s: load: %v %v", round, ok, err)
		}
		if err := s.Write(ctx, 0, entry("k2", "v", immortal)); err != nil {
			t.Fatalf("%s: write: %v", round, err)
		}
		if n, err := s.Size(ctx, 0); n != 2 || err != nil {
			t.Fatalf("%s: size: %d %v", round, n, err)
		}
		if err := s.WriteBatch(ctx, []persistence.SegmentEntry{{Entry: entry("k3", "v", immortal)}}, []persistence.SegmentKey{{Key: []byte("k3")}}); err != nil {
			t.Fatalf("%s: batch: %v", round, err)
		}
	}
	// The server ends the store's sessions (a restart, an administrator).
	var n int
	err := admin(t).QueryRow(ctx, `SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE application_name = $1`, app).Scan(&n)
	if err != nil || n == 0 {
		t.Fatalf("terminated %d sessions: %v", n, err)
	}
	time.Sleep(50 * time.Millisecond) // let the FATAL messages arrive
	ops("after pg_terminate_backend")
	// The network drops every connection.
	p.kill()
	ops("after a network cut")
}

// A stopped server gives errors promptly, naming the store and the
// operation, and the store recovers when the server is back.
func TestServerDown(t *testing.T) {
	ctx := testCtx(t)
	p, u := newProxy(t)
	s := open(t, Options{ConnectionURL: u})
	if err := s.Write(ctx, 0, entry("k", "v", immortal)); err != nil {
		t.Fatal(err)
	}
	p.setDown(true)
	c, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	within(t, 3*time.Second, "operations on a stopped server", func() {
		_, _, err := s.Load(c, 0, []byte("k"), 0)
		if err == nil || !strings.Contains(err.Error(), "load") || !strings.Contains(err.Error(), s.t.sql) {
			t.Errorf("load from a stopped server: %v", err)
		}
		if err := s.Write(c, 0, entry("k", "v", immortal)); err == nil {
			t.Error("write to a stopped server succeeded")
		}
		if err := s.Publish(c, nil, 0, func(int, cache.Entry) error { return nil }); err == nil {
			t.Error("publish from a stopped server succeeded")
		}
		if _, err := Open(c, Options{ConnectionURL: u, CacheName: "x", Logger: testLogger(t)}); err == nil || !strings.Contains(err.Error(), "connect") {
			t.Errorf("open on a stopped server: %v", err)
		}
	})
	p.setDown(false)
	if _, ok, err := s.Load(ctx, 0, []byte("k"), 0); !ok || err != nil {
		t.Fatalf("after the server came back: %v %v", ok, err)
	}
}

// A server that stops answering (hung, or a partition that drops packets)
// costs the caller's deadline or the store's timeout, never a hang.
func TestServerHangs(t *testing.T) {
	ctx := testCtx(t)
	p, u := newProxy(t)
	s := open(t, Options{ConnectionURL: u})
	var w []persistence.SegmentEntry
	for i := range 3 * pageRows {
		w = append(w, persistence.SegmentEntry{Entry: entry(fmt.Sprint("k", i), "v", immortal)})
	}
	if err := s.WriteBatch(ctx, w, nil); err != nil {
		t.Fatal(err)
	}
	p.freeze(true)
	deadline := 300 * time.Millisecond
	within(t, 2*time.Second, "a load from a hung server", func() {
		c, cancel := context.WithTimeout(ctx, deadline)
		defer cancel()
		if _, _, err := s.Load(c, 0, []byte("k1"), 0); !errors.Is(err, context.DeadlineExceeded) {
			t.Errorf("load from a hung server: %v", err)
		}
	})
	within(t, 2*time.Second, "an open on a hung server", func() {
		c, cancel := context.WithTimeout(ctx, deadline)
		defer cancel()
		if _, err := Open(c, Options{ConnectionURL: u, CacheName: "x", Logger: testLogger(t)}); err == nil || !strings.Contains(err.Error(), "127.0.0.1") {
			t.Errorf("open on a hung server: %v", err)
		}
	})
	// Without a deadline from the caller, the store's own timeout
	// (Options.Timeout).
	s.timeout = deadline
	within(t, 2*time.Second, "a write with the store's timeout", func() {
		if err := s.Write(context.Background(), 0, entry("k", "v", immortal)); !errors.Is(err, context.DeadlineExceeded) {
			t.Errorf("write to a hung server: %v", err)
		}
	})
	p.freeze(false)
	s.timeout = DefaultTimeout
	// A server that hangs in the middle of a Publish.
	n := 0
	within(t, 2*time.Second, "a publish that hangs half-way", func() {
		c, cancel := context.WithTimeout(ctx, time.Second)
		defer cancel()
		err := s.Publish(c, nil, 0, func(int, cache.Entry) error {
			if n++; n == pageRows/2 {
				p.freeze(true)
			}
			return nil
		})
		if !errors.Is(err, context.DeadlineExceeded) || n != pageRows {
			t.Errorf("publish from a server that hung: %v after %d entries", err, n)
		}
	})
	p.freeze(false)
	if n, err := s.Size(ctx, 0); n != 3*pageRows || err != nil {
		t.Fatalf("after the server recovered: %d %v", n, err)
	}
}

// A Publish that cannot finish says so even when fn has seen entries.
func TestPublishConnectionLost(t *testing.T) {
	ctx := testCtx(t)
	p, u := newProxy(t)
	s := open(t, Options{ConnectionURL: u})
	var w []persistence.SegmentEntry
	for i := range 2*pageRows + 1 {
		w = append(w, persistence.SegmentEntry{Entry: entry(fmt.Sprint("k", i), "v", immortal)})
	}
	if err := s.WriteBatch(ctx, w, nil); err != nil {
		t.Fatal(err)
	}
	n := 0
	err := s.Publish(ctx, nil, 0, func(int, cache.Entry) error {
		if n++; n == 10 {
			p.setDown(true)
		}
		return nil
	})
	p.setDown(false)
	if err == nil || n != pageRows || !strings.Contains(err.Error(), "publish") {
		t.Fatalf("publish with the server gone: %v after %d entries", err, n)
	}
}
