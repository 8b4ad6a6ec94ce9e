package cache

import (
	"context"
	"fmt"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/hotgrid/hotgrid/config"
)

// fakeClock is a settable Unix-millisecond clock.
type fakeClock struct{ ms atomic.Int64 }

func (c *fakeClock) now() int64              { return c.ms.Load() }
func (c *fakeClock) advance(d time.Duration) { c.ms.Add(d.Milliseconds()) }

func newTestCache(t testing.TB, mod func(*config.Cache)) (*container, *fakeClock) {
	t.Helper()
	cfg := config.NewCache("test", config.ModeLocal)
	cfg.Expiration.Interval = 0 // tests purge explicitly
	if mod != nil {
		mod(cfg)
	}
	clk := &fakeClock{}
	clk.ms.Store(1_700_000_000_000)
	c := newContainer(cfg, containerOptions{Clock: clk.now})
	t.Cleanup(func() { c.close(context.Background()) })
	return c, clk
}

var ctx = context.Background()

func TestBasicOperations(t *testing.T) {
	c, _ := newTestCache(t, nil)
	k, v := []byte("k"), []byte("v1")
	if _, ok, _ := c.Get(ctx, k); ok {
		t.Fatal("empty cache returned an entry")
	}
	if _, existed, _ := c.Put(ctx, k, v, Write{}); existed {
		t.Fatal("first put reported a previous entry")
	}
	v[1] = 'X' // the cache must have copied the value
	e, ok, _ := c.Get(ctx, k)
	if !ok || string(e.Value) != "v1" {
		t.Fatalf("get = %q, %v", e.Value, ok)
	}
	v1 := e.Meta.Version
	prev, existed, _ := c.Put(ctx, k, []byte("v2"), Write{})
	if !existed || string(prev.Value) != "v1" || prev.Meta.Version != v1 {
		t.Fatalf("put prev = %q %v %d", prev.Value, existed, prev.Meta.Version)
	}
	e, _, _ = c.Get(ctx, k)
	if e.Meta.Version == v1 {
		t.Fatal("version did not change on write")
	}
	if cur, existed, _ := c.PutIfAbsent(ctx, k, []byte("v3"), Write{}); !existed || string(cur.Value) != "v2" {
		t.Fatalf("putIfAbsent on present key = %q %v", cur.Value, existed)
	}
	if _, done, _ := c.Replace(ctx, []byte("absent"), []byte("x"), Write{}); done {
		t.Fatal("replace of absent key happened")
	}
	if _, res, _ := c.ReplaceIfVersion(ctx, k, []byte("v4"), e.Meta.Version+1, Write{}); res != CondMismatch {
		t.Fatalf("stale replace result %v", res)
	}
	if _, res, _ := c.ReplaceIfVersion(ctx, k, []byte("v4"), e.Meta.Version, Write{}); res != CondOK {
		t.Fatalf("replace result %v", res)
	}
	if _, res, _ := c.RemoveIfVersion(ctx, k, e.Meta.Version, Write{}); res != CondMismatch {
		t.Fatalf("stale remove result %v", res)
	}
	if ok, _ := c.ContainsKey(ctx, k); !ok {
		t.Fatal("containsKey false")
	}
	if prev, ok, _ := c.Remove(ctx, k, Write{}); !ok || string(prev.Value) != "v4" {
		t.Fatalf("remove = %q %v", prev.Value, ok)
	}
	if _, ok, _ := c.Remove(ctx, k, Write{}); ok {
		t.Fatal("second remove succeeded")
	}
	st := c.Stats()
	if st.Stores != 3 || st.RemoveHits != 1 || st.RemoveMisses != 1 || st.Hits != 2 || st.Misses != 1 {
		t.Fatalf("stats %+v", st)
	}
}

func TestSizeClearAndSegments(t *testing.T) {
	c, _ := newTestCache(t, nil)
	for i := 0; i < 1000; i++ {
		c.Put(ctx, []byte(fmt.Sprint("key-", i)), []byte("v"), Write{})
	}
	if n, _ := c.Size(ctx); n != 1000 {
		t.Fatalf("size %d", n)
	}
	seen := map[string]bool{}
	for s := 0; s < c.NumSegments(); s++ {
		es, _ := c.Segment(ctx, s, nil)
		for _, e := range es {
			if seen[string(e.Key)] {
				t.Fatalf("key %s in two segments", e.Key)
			}
			seen[string(e.Key)] = true
		}
	}
	if len(seen) != 1000 {
		t.Fatalf("segments hold %d keys", len(seen))
	}
	c.Clear(ctx)
	if n, _ := c.Size(ctx); n != 0 || c.Stats().Entries != 0 || c.Stats().DataMemory != 0 {
		t.Fatalf("after clear: size %d stats %+v", n, c.Stats())
	}
}

func TestExpiration(t *testing.T) {
	c, clk := newTestCache(t, func(cfg *config.Cache) { cfg.Expiration.Lifespan = 10 * time.Second })
	c.Put(ctx, []byte("default"), []byte("v"), DefaultWrite)
	c.Put(ctx, []byte("short"), []byte("v"), Write{Lifespan: time.Second})
	c.Put(ctx, []byte("idle"), []byte("v"), Write{MaxIdle: 2 * time.Second})
	c.Put(ctx, []byte("forever"), []byte("v"), Write{})
	e, _, _ := c.Get(ctx, []byte("short"))
	if e.Meta.Lifespan != 1000 || e.Meta.MaxIdle != -1 {
		t.Fatalf("meta %+v", e.Meta)
	}
	clk.advance(1500 * time.Millisecond)
	if _, ok, _ := c.Get(ctx, []byte("short")); ok {
		t.Fatal("expired entry returned")
	}
	if _, ok, _ := c.Get(ctx, []byte("idle")); !ok { // touches it
		t.Fatal("idle entry expired early")
	}
	clk.advance(1500 * time.Millisecond)
	if _, ok, _ := c.Get(ctx, []byte("idle")); !ok {
		t.Fatal("max-idle not refreshed by access")
	}
	clk.advance(2500 * time.Millisecond)
	if ok, _ := c.ContainsKey(ctx, []byte("idle")); ok {
		t.Fatal("idle entry outlived max-idle")
	}
	if n, _ := c.Size(ctx); n != 2 {
		t.Fatalf("size %d, want 2 (default, forever)", n)
	}
	clk.advance(5 * time.Second)
	// 10.5 s in: "default" (10 s lifespan) and "idle" have both expired.
	if n := c.purgeExpired(); n != 2 {
		t.Fatalf("purged %d, want 2", n)
	}
	if n, _ := c.Size(ctx); n != 1 {
		t.Fatalf("size %d, want 1", n)
	}
}

type recorder struct {
	mu  sync.Mutex
	evs []string
}

func (r *recorder) OnEvent(ev *Event) {
	r.mu.Lock()
	defer r.mu.Unlock()
	s := ev.Type.String() + ":" + string(ev.Key) + "=" + string(ev.Value)
	if ev.Prev != nil {
		s += "<" + string(ev.Prev)
	}
	r.evs = append(r.evs, s)
}

func TestListeners(t *testing.T) {
	c, clk := newTestCache(t, nil)
	r := &recorder{}
	c.AddListener(r)
	c.Put(ctx, []byte("a"), []byte("1"), Write{})
	c.Put(ctx, []byte("a"), []byte("2"), Write{})
	c.Put(ctx, []byte("a"), []byte("3"), Write{SkipListeners: true})
	c.Remove(ctx, []byte("a"), Write{})
	c.Put(ctx, []byte("e"), []byte("x"), Write{Lifespan: time.Second})
	clk.advance(2 * time.Second)
	c.Get(ctx, []byte("e"))
	c.RemoveListener(r)
	c.Put(ctx, []byte("b"), []byte("1"), Write{})
	want := []string{"created:a=1", "modified:a=2<1", "removed:a=3", "created:e=x", "expired:e=x"}
	if fmt.Sprint(r.evs) != fmt.Sprint(want) {
		t.Fatalf("events %v, want %v", r.evs, want)
	}
}

func TestContainerFullException(t *testing.T) {
	c, _ := newTestCache(t, func(cfg *config.Cache) {
		cfg.Memory.MaxCount = 2
		cfg.Memory.WhenFull = config.WhenFullException
	})
	c.Put(ctx, []byte("a"), []byte("1"), Write{})
	c.Put(ctx, []byte("b"), []byte("1"), Write{})
	if _, _, err := c.Put(ctx, []byte("c"), []byte("1"), Write{}); err != ErrContainerFull {
		t.Fatalf("err %v", err)
	}
	if _, _, err := c.Put(ctx, []byte("a"), []byte("2"), Write{}); err != nil {
		t.Fatalf("update of a present key failed: %v", err)
	}
}

func TestEvictionBoundsCount(t *testing.T) {
	c, _ := newTestCache(t, func(cfg *config.Cache) {
		cfg.Memory.MaxCount = 100
		cfg.Memory.WhenFull = config.WhenFullRemove
	})
	for i := 0; i < 1000; i++ {
		c.Put(ctx, []byte(fmt.Sprint("k", i)), []byte("v"), Write{})
	}
	n, _ := c.Size(ctx)
	if n > 100 || n < 90 {
		t.Fatalf("size %d with max-count 100", n)
	}
	if ev := c.Stats().Evictions; ev != 1000-n {
		t.Fatalf("evictions %d, size %d", ev, n)
	}
}

func TestConcurrentWriters(t *testing.T) {
	c, _ := newTestCache(t, nil)
	r := &recorder{}
	c.AddListener(r)
	var wg sync.WaitGroup
	for g := 0; g < 8; g++ {
		wg.Add(1)
		go func(g int) {
			defer wg.Done()
			for i := 0; i < 500; i++ {
				k := []byte(fmt.Sprint("k", i%50))
				switch i % 4 {
				case 0:
					c.Put(ctx, k, []byte(fmt.Sprint(g)), Write{})
				case 1:
					c.Get(ctx, k)
				case 2:
					if e, ok, _ := c.Get(ctx, k); ok {
						c.ReplaceIfVersion(ctx, k, []byte("r"), e.Meta.Version, Write{})
					}
				case 3:
					c.Remove(ctx, k, Write{})
				}
			}
		}(g)
	}
	wg.Wait()
	n, _ := c.Size(ctx)
	if n != c.Stats().Entries {
		t.Fatalf("size %d, entry count %d", n, c.Stats().Entries)
	}
}

func BenchmarkGet(b *testing.B) {
	c, _ := newTestCache(b, nil)
	key := []byte("0123456789abcdef")
	c.Put(ctx, key, make([]byte, 100), Write{})
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			c.Get(ctx, key)
		}
	})
}

// BenchmarkGetSpread reads 1M keys in a scattered order, as a loaded
// server does: unlike BenchmarkGet, every lookup misses the CPU caches, so
// it measures the container's memory layout.
func BenchmarkGetSpread(b *testing.B) {
	c, _ := newTestCache(b, nil)
	const n = 1 << 20
	key := []byte("key:000000000000")
	heap := func() uint64 {
		var ms runtime.MemStats
		runtime.GC()
		runtime.ReadMemStats(&ms)
		return ms.HeapAlloc
	}
	before := heap()
	for i := range n {
		spreadKey(key, i)
		c.Put(ctx, key, make([]byte, 32), Write{})
	}
	perEntry := float64(heap()-before) / n
	b.ReportAllocs()
	b.ResetTimer()
	sum := 0
	for i := 0; i < b.N; i++ {
		// A multiplicative step visits every key once per n reads.
		spreadKey(key, (i*0x9E3779B1)&(n-1))
		e, _, _ := c.Get(ctx, key)
		sum += int(e.Value[len(e.Value)-1]) // read the value, as a server does
	}
	if sum != 0 {
		b.Fatal("values changed")
	}
	b.ReportMetric(perEntry, "heap-B/entry")
}

// spreadKey writes i in decimal over the last 12 bytes of key.
func spreadKey(key []byte, i int) {
	for j := len(key) - 1; j >= len(key)-12; j-- {
		key[j] = byte('0' + i%10)
		i /= 10
	}
}

// BenchmarkPutNew writes keys that are not there yet: the cost of an
// insert, allocations included.
func BenchmarkPutNew(b *testing.B) {
	c, _ := newTestCache(b, nil)
	keys := make([][]byte, b.N)
	for i := range keys {
		keys[i] = fmt.Appendf(nil, "key:%012d", i)
	}
	val := make([]byte, 32)
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		c.Put(ctx, keys[i], val, Write{})
	}
}

func BenchmarkPutOverwrite(b *testing.B) {
	c, _ := newTestCache(b, nil)
	key := []byte("0123456789abcdef")
	val := make([]byte, 100)
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		c.Put(ctx, key, val, Write{})
	}
}

func TestCompute(t *testing.T) {
	c, _ := newTestCache(t, nil)
	incr := func(cur Entry, exists bool) ([]byte, Write, ComputeAction) {
		n := 0
		if exists {
			fmt.Sscan(string(cur.Value), &n)
		}
		return []byte(fmt.Sprint(n + 1)), Write{Kind: 0}, ComputeSet
	}
	var wg sync.WaitGroup
	for g := 0; g < 4; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < 250; i++ {
				c.Compute(ctx, []byte("n"), incr)
			}
		}()
	}
	wg.Wait()
	e, ok, _ := c.Compute(ctx, []byte("n"), func(cur Entry, exists bool) ([]byte, Write, ComputeAction) {
		return nil, Write{}, ComputeKeep
	})
	if !ok || string(e.Value) != "1000" {
		t.Fatalf("after 1000 increments: %q %v", e.Value, ok)
	}
	_, ok, _ = c.Compute(ctx, []byte("n"), func(Entry, bool) ([]byte, Write, ComputeAction) {
		return nil, Write{}, ComputeRemove
	})
	if ok {
		t.Fatal("entry exists after ComputeRemove")
	}
	if n, _ := c.Size(ctx); n != 0 {
		t.Fatalf("size %d", n)
	}
	e, _, _ = c.Compute(ctx, []byte("h"), func(Entry, bool) ([]byte, Write, ComputeAction) {
		return []byte("x"), Write{Kind: 3}, ComputeSet
	})
	if got, _, _ := c.Get(ctx, []byte("h")); got.Meta.Kind != 3 || e.Meta.Kind != 3 {
		t.Fatalf("kind %d / %d", got.Meta.Kind, e.Meta.Kind)
	}
}
