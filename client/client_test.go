package client

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/hotgrid/hotgrid/hotrod/wire"
	"github.com/hotgrid/hotgrid/server"
)

// startNode runs a real hotgrid node in the test process.
func startNode(t testing.TB) string {
	t.Helper()
	n, err := server.New(server.Options{BindAddress: "127.0.0.1", PortSet: true,
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		t.Fatal(err)
	}
	if err := n.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		n.Shutdown(ctx)
	})
	return n.Addr().String()
}

func newClient(t testing.TB, addr string, o Options) *Client {
	t.Helper()
	o.Servers = []string{addr}
	c, err := New(context.Background(), o)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

var ctx = context.Background()

func TestOperations(t *testing.T) {
	addr := startNode(t)
	for _, v := range []byte{wire.Version30, wire.Version31, wire.Version40} {
		t.Run(fmt.Sprint("v", v), func(t *testing.T) {
			cl := newClient(t, addr, Options{Version: v})
			k := cl.Cache("")
			if err := k.Clear(ctx); err != nil {
				t.Fatal(err)
			}
			if prev, err := k.Put(ctx, []byte("a"), []byte("1")); err != nil || prev != nil {
				t.Fatalf("put: %q %v", prev, err)
			}
			if prev, _ := k.Put(ctx, []byte("a"), []byte("2")); string(prev) != "1" {
				t.Fatalf("put previous %q", prev)
			}
			if v, ok, _ := k.Get(ctx, []byte("a")); !ok || string(v) != "2" {
				t.Fatalf("get %q %v", v, ok)
			}
			v, m, ok, _ := k.GetWithMetadata(ctx, []byte("a"))
			if !ok || string(v) != "2" || m.Lifespan != -1 || m.Version == 0 {
				t.Fatalf("getWithMetadata %q %+v", v, m)
			}
			if ok, _ := k.ReplaceWithVersion(ctx, []byte("a"), []byte("3"), m.Version+1); ok {
				t.Fatal("stale replaceWithVersion succeeded")
			}
			if ok, _ := k.ReplaceWithVersion(ctx, []byte("a"), []byte("3"), m.Version); !ok {
				t.Fatal("replaceWithVersion failed")
			}
			if ok, _ := k.PutIfAbsent(ctx, []byte("a"), []byte("x")); ok {
				t.Fatal("putIfAbsent on present key")
			}
			if ok, _ := k.Replace(ctx, []byte("nope"), []byte("x")); ok {
				t.Fatal("replace of absent key")
			}
			if ok, _ := k.ContainsKey(ctx, []byte("a")); !ok {
				t.Fatal("containsKey")
			}
			k.PutAll(ctx, map[string][]byte{"b": []byte("B"), "c": []byte("C")})
			got, _ := k.GetAll(ctx, [][]byte{[]byte("b"), []byte("c"), []byte("missing")})
			if len(got) != 2 || string(got["c"]) != "C" {
				t.Fatalf("getAll %q", got)
			}
			if n, _ := k.Size(ctx); n != 3 {
				t.Fatalf("size %d", n)
			}
			keys, _ := k.Keys(ctx)
			if len(keys) != 3 {
				t.Fatalf("keys %q", keys)
			}
			seen := 0
			k.Iterate(ctx, 2, true, func(e Entry) bool { seen++; return true })
			if seen != 3 {
				t.Fatalf("iterated %d", seen)
			}
			if prev, ok, _ := k.Remove(ctx, []byte("a")); !ok || string(prev) != "3" {
				t.Fatalf("remove %q %v", prev, ok)
			}
			st, _ := k.Stats(ctx)
			if st["currentNumberOfEntries"] != "2" {
				t.Fatalf("stats %v", st)
			}
		})
	}
}

func TestExpirationAndAdmin(t *testing.T) {
	addr := startNode(t)
	cl := newClient(t, addr, Options{})
	if err := cl.CreateCache(ctx, "short", `<local-cache><expiration lifespan="200"/></local-cache>`); err != nil {
		t.Fatal(err)
	}
	if err := cl.CreateCache(ctx, "short", "org.infinispan.LOCAL"); err == nil {
		t.Fatal("second create of the same cache succeeded")
	}
	if err := cl.GetOrCreateCache(ctx, "short", "org.infinispan.LOCAL"); err != nil {
		t.Fatal(err)
	}
	names, _ := cl.CacheNames(ctx)
	if !slices.Contains(names, "short") || !slices.Contains(names, "default") {
		t.Fatalf("names %v", names)
	}
	k := cl.Cache("short")
	k.Set(ctx, []byte("dflt"), []byte("v"))
	k.Set(ctx, []byte("long"), []byte("v"), Lifespan(time.Hour))
	k.Set(ctx, []byte("idle"), []byte("v"), Lifespan(-1), MaxIdle(1500*time.Millisecond))
	_, m, _, _ := k.GetWithMetadata(ctx, []byte("long"))
	if m.Lifespan != time.Hour || m.Created.IsZero() {
		t.Fatalf("metadata %+v", m)
	}
	time.Sleep(400 * time.Millisecond)
	if _, ok, _ := k.Get(ctx, []byte("dflt")); ok {
		t.Fatal("entry outlived the cache's default lifespan")
	}
	if _, ok, _ := k.Get(ctx, []byte("long")); !ok {
		t.Fatal("entry with its own lifespan expired")
	}
	if err := cl.RemoveCache(ctx, "short"); err != nil {
		t.Fatal(err)
	}
	if err := k.Ping(ctx); !errors.Is(err, ErrCacheNotFound) {
		t.Fatalf("ping of removed cache: %v", err)
	}
}

func TestListeners(t *testing.T) {
	addr := startNode(t)
	cl := newClient(t, addr, Options{})
	k := cl.Cache("")
	k.Set(ctx, []byte("pre"), []byte("1"))
	var mu sync.Mutex
	var evs []string
	err := k.AddListener(ctx, "l1", true, "", func(e Event) {
		mu.Lock()
		evs = append(evs, fmt.Sprintf("%x:%s", e.Type, e.Key))
		mu.Unlock()
	})
	if err != nil {
		t.Fatal(err)
	}
	k.Set(ctx, []byte("k"), []byte("1"))
	k.Set(ctx, []byte("k"), []byte("2"))
	k.Remove(ctx, []byte("k"))
	k.Set(ctx, []byte("quiet"), []byte("1"), SkipListeners())
	deadline := time.Now().Add(2 * time.Second)
	for {
		mu.Lock()
		n := len(evs)
		mu.Unlock()
		if n >= 4 || time.Now().After(deadline) {
			break
		}
		time.Sleep(10 * time.Millisecond)
	}
	if err := k.RemoveListener(ctx, "l1"); err != nil {
		t.Fatal(err)
	}
	k.Set(ctx, []byte("after"), []byte("1"))
	time.Sleep(50 * time.Millisecond)
	mu.Lock()
	defer mu.Unlock()
	if fmt.Sprint(evs) != "[60:pre 60:k 61:k 62:k]" {
		t.Fatalf("events %v", evs)
	}
}

// Many requests in flight on one connection all complete with their own
// answers.
func TestPipelining(t *testing.T) {
	addr := startNode(t)
	cl := newClient(t, addr, Options{PoolSize: 1})
	k := cl.Cache("")
	var wg sync.WaitGroup
	errs := make(chan error, 64)
	for g := 0; g < 64; g++ {
		wg.Add(1)
		go func(g int) {
			defer wg.Done()
			for i := 0; i < 200; i++ {
				key := []byte(fmt.Sprintf("g%d-%d", g, i))
				val := bytes.Repeat([]byte{byte(g)}, i%50)
				if err := k.Set(ctx, key, val); err != nil {
					errs <- err
					return
				}
				got, ok, err := k.Get(ctx, key)
				if err != nil || !ok || !bytes.Equal(got, val) {
					errs <- fmt.Errorf("%s: %x %v %v", key, got, ok, err)
					return
				}
			}
		}(g)
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
}

func TestCancelledCallKeepsTheStreamInStep(t *testing.T) {
	addr := startNode(t)
	cl := newClient(t, addr, Options{})
	k := cl.Cache("")
	k.Set(ctx, []byte("big"), bytes.Repeat([]byte("x"), 1<<20))
	cctx, cancel := context.WithCancel(ctx)
	cancel()
	k.Get(cctx, []byte("big"))
	for i := 0; i < 10; i++ {
		if v, ok, err := k.Get(ctx, []byte("big")); err != nil || !ok || len(v) != 1<<20 {
			t.Fatalf("after a cancelled call: %d %v %v", len(v), ok, err)
		}
	}
}

func BenchmarkGet(b *testing.B) {
	addr := startNode(b)
	cl := newClient(b, addr, Options{})
	k := cl.Cache("")
	k.Set(ctx, []byte("0123456789abcdef"), make([]byte, 100))
	b.ReportAllocs()
	b.SetParallelism(8)
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			k.Get(ctx, []byte("0123456789abcdef"))
		}
	})
}

func TestAsync(t *testing.T) {
	addr := startNode(t)
	cl := newClient(t, addr, Options{})
	k := cl.Cache("")
	const n = 2000
	done := make(chan error, n)
	for i := 0; i < n; i++ {
		key := []byte(fmt.Sprint("async-", i))
		if err := k.SetAsync(ctx, key, key, func(err error) { done <- err }); err != nil {
			t.Fatal(err)
		}
	}
	for i := 0; i < n; i++ {
		if err := <-done; err != nil {
			t.Fatal(err)
		}
	}
	for i := 0; i < n; i++ {
		key := []byte(fmt.Sprint("async-", i))
		want := string(key)
		k.GetAsync(ctx, key, func(v []byte, ok bool, err error) {
			if err == nil && (!ok || string(v) != want) {
				err = fmt.Errorf("%s: got %q %v", want, v, ok)
			}
			done <- err
		})
	}
	for i := 0; i < n; i++ {
		if err := <-done; err != nil {
			t.Fatal(err)
		}
	}
}
