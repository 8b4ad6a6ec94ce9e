package filestore

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"

	"github.com/cockroachdb/pebble/v2/vfs"
	"github.com/cockroachdb/pebble/v2/vfs/errorfs"

	"github.com/hotgrid/hotgrid/cache"
	"github.com/hotgrid/hotgrid/persistence"
)

var ctx = context.Background()

func open(t testing.TB, dir string, o Options) *Store {
	t.Helper()
	s, err := Open(dir, o)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func entry(k, v string, m cache.Metadata) cache.Entry {
	return cache.Entry{Key: []byte(k), Value: []byte(v), Meta: m}
}

var immortal = cache.Metadata{Version: 7, Created: 1000, LastUsed: 1000, Lifespan: -1, MaxIdle: -1}

func TestRoundTripAndReopen(t *testing.T) {
	dir := t.TempDir()
	s, err := Open(dir, Options{})
	if err != nil {
		t.Fatal(err)
	}
	m := cache.Metadata{Version: 1 << 50, Created: 1700000000000, LastUsed: 1700000000500, Lifespan: 60000, MaxIdle: 5000, Kind: 3, Flags: 0xDEADBEEF}
	if err := s.Write(ctx, 17, entry("k", "value", m)); err != nil {
		t.Fatal(err)
	}
	if err := s.Write(ctx, 17, entry("empty", "", immortal)); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatalf("second close: %v", err)
	}
	s = open(t, dir, Options{})
	e, ok, err := s.Load(ctx, 17, []byte("k"), 1700000001000)
	if err != nil || !ok {
		t.Fatalf("load after reopen: %v %v", ok, err)
	}
	if string(e.Value) != "value" || e.Meta != m {
		t.Fatalf("got %q %+v, want %+v", e.Value, e.Meta, m)
	}
	if e, ok, _ := s.Load(ctx, 17, []byte("empty"), 0); !ok || len(e.Value) != 0 || e.Value == nil {
		t.Fatalf("empty value: %v %#v", ok, e.Value)
	}
	if _, ok, _ := s.Load(ctx, 18, []byte("k"), 0); ok {
		t.Fatal("a key is found in another segment")
	}
}

func TestExpiry(t *testing.T) {
	s := open(t, t.TempDir(), Options{})
	mortal := cache.Metadata{Version: 1, Created: 1000, LastUsed: 1000, Lifespan: 500, MaxIdle: -1}
	idle := cache.Metadata{Version: 2, Created: 1000, LastUsed: 1200, Lifespan: -1, MaxIdle: 100}
	for _, e := range []cache.Entry{entry("mortal", "a", mortal), entry("idle", "b", idle), entry("forever", "c", immortal)} {
		if err := s.Write(ctx, 1, e); err != nil {
			t.Fatal(err)
		}
	}
	if n, _ := s.Size(ctx, 1250); n != 3 {
		t.Fatalf("size at 1250 = %d, want 3", n)
	}
	if n, _ := s.Size(ctx, 1400); n != 2 {
		t.Fatalf("size at 1400 = %d, want 2 (idle expired)", n)
	}
	if _, ok, _ := s.Load(ctx, 1, []byte("mortal"), 1500); ok {
		t.Fatal("expired entry loaded")
	}
	var seen []string
	s.Publish(ctx, nil, 1500, func(_ int, e cache.Entry) error { seen = append(seen, string(e.Key)); return nil })
	if len(seen) != 1 || seen[0] != "forever" {
		t.Fatalf("published %v", seen)
	}
	var purged []string
	if err := s.PurgeExpired(ctx, 1500, func(_ int, k []byte) { purged = append(purged, string(k)) }); err != nil {
		t.Fatal(err)
	}
	if len(purged) != 2 {
		t.Fatalf("purged %v", purged)
	}
	if n, _ := s.Size(ctx, 0); n != 1 {
		t.Fatalf("size after purge, even at time 0 = %d, want 1", n)
	}
}

func TestPublishBySegmentAndBatch(t *testing.T) {
	s := open(t, t.TempDir(), Options{})
	var writes []persistence.SegmentEntry
	for seg := 0; seg < 4; seg++ {
		for i := 0; i < 10; i++ {
			writes = append(writes, persistence.SegmentEntry{Segment: seg, Entry: entry(fmt.Sprintf("s%d-%d", seg, i), "v", immortal)})
		}
	}
	if err := s.WriteBatch(ctx, writes, nil); err != nil {
		t.Fatal(err)
	}
	err := s.WriteBatch(ctx, nil, []persistence.SegmentKey{{Segment: 2, Key: []byte("s2-0")}, {Segment: 2, Key: []byte("s2-1")}})
	if err != nil {
		t.Fatal(err)
	}
	count := map[int]int{}
	err = s.Publish(ctx, []int{1, 2}, 0, func(seg int, e cache.Entry) error {
		if !strings.HasPrefix(string(e.Key), fmt.Sprintf("s%d-", seg)) {
			t.Errorf("key %s published for segment %d", e.Key, seg)
		}
		count[seg]++
		return nil
	})
	if err != nil || count[1] != 10 || count[2] != 8 || len(count) != 2 {
		t.Fatalf("publish: %v %v", count, err)
	}
	stop := errors.New("stop")
	if err := s.Publish(ctx, nil, 0, func(int, cache.Entry) error { return stop }); err != stop {
		t.Fatalf("publish did not return fn's error: %v", err)
	}
	if ok, _ := s.Delete(ctx, 0, []byte("s0-0")); !ok {
		t.Fatal("delete of a present key reported absent")
	}
	if ok, _ := s.Delete(ctx, 0, []byte("s0-0")); ok {
		t.Fatal("delete of an absent key reported present")
	}
	if err := s.Clear(ctx); err != nil {
		t.Fatal(err)
	}
	if n, _ := s.Size(ctx, 0); n != 0 {
		t.Fatalf("size after clear = %d", n)
	}
}

func TestReadOnly(t *testing.T) {
	dir := t.TempDir()
	s, _ := Open(dir, Options{})
	s.Write(ctx, 0, entry("k", "v", immortal))
	s.Close()
	ro := open(t, dir, Options{ReadOnly: true})
	if _, ok, _ := ro.Load(ctx, 0, []byte("k"), 0); !ok {
		t.Fatal("read-only store does not load")
	}
	if err := ro.Write(ctx, 0, entry("x", "y", immortal)); !errors.Is(err, persistence.ErrReadOnly) {
		t.Fatalf("write to a read-only store: %v", err)
	}
}

func TestOpenErrorNamesPath(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "file")
	if err := vfs.Default.MkdirAll(filepath.Dir(dir), 0o755); err != nil {
		t.Fatal(err)
	}
	f, _ := vfs.Default.Create(dir, vfs.WriteCategoryUnspecified)
	f.Close()
	_, err := Open(dir, Options{}) // a file where the directory should be
	if err == nil || !strings.Contains(err.Error(), dir) {
		t.Fatalf("open error %v does not name %s", err, dir)
	}
}

func TestConcurrentWritersEveryPolicy(t *testing.T) {
	for _, d := range []persistence.Durability{persistence.SyncEveryWrite, persistence.GroupCommit, persistence.Interval} {
		t.Run(fmt.Sprint(d), func(t *testing.T) {
			dir := t.TempDir()
			s, err := Open(dir, Options{Durability: d})
			if err != nil {
				t.Fatal(err)
			}
			var wg sync.WaitGroup
			for g := 0; g < 8; g++ {
				wg.Add(1)
				go func() {
					defer wg.Done()
					for i := 0; i < 50; i++ {
						k := fmt.Sprintf("g%d-%d", g, i)
						if err := s.Write(ctx, i%16, entry(k, k, immortal)); err != nil {
							t.Error(err)
							return
						}
					}
				}()
			}
			wg.Wait()
			if err := s.Close(); err != nil {
				t.Fatal(err)
			}
			s = open(t, dir, Options{})
			if n, _ := s.Size(ctx, 0); n != 400 {
				t.Fatalf("size after reopen = %d, want 400", n)
			}
		})
	}
}

// TestInjectedWriteErrors makes the WAL's writes and syncs fail: writes must
// return the error, and after a reopen on a healthy file system every write
// acknowledged before the fault is there.
func TestInjectedWriteErrors(t *testing.T) {
	for _, kind := range []errorfs.OpKind{errorfs.OpFileWrite, errorfs.OpFileSync} {
		t.Run(fmt.Sprint(kind), func(t *testing.T) {
			mem := vfs.NewMem()
			toggle := &errorfs.Toggle{Injector: errorfs.InjectorFunc(func(op errorfs.Op) error {
				if op.Kind == kind || kind == errorfs.OpFileSync && (op.Kind == errorfs.OpFileSyncData || op.Kind == errorfs.OpFileSyncTo) {
					return errorfs.ErrInjected
				}
				return nil
			})}
			s, err := Open("db", Options{FS: errorfs.Wrap(mem, toggle)})
			if err != nil {
				t.Fatal(err)
			}
			for i := 0; i < 100; i++ {
				if err := s.Write(ctx, 0, entry(fmt.Sprint(i), "ok", immortal)); err != nil {
					t.Fatal(err)
				}
			}
			toggle.On()
			err = s.Write(ctx, 0, entry("lost", "x", immortal))
			if err == nil {
				t.Fatal("a write under injected I/O errors succeeded")
			}
			if err := s.Write(ctx, 0, entry("after", "x", immortal)); err == nil {
				t.Fatal("the store accepted a write after an I/O failure")
			}
			s.Close()
			toggle.Off()
			// Reopen on what reached "disk": a crash loses what was not synced.
			s2, err := Open("db", Options{FS: mem})
			if err != nil {
				t.Fatalf("reopen after faults: %v", err)
			}
			defer s2.Close()
			for i := 0; i < 100; i++ {
				if e, ok, err := s2.Load(ctx, 0, []byte(fmt.Sprint(i)), 0); err != nil || !ok || !bytes.Equal(e.Value, []byte("ok")) {
					t.Fatalf("acknowledged write %d lost: %v %v", i, ok, err)
				}
			}
		})
	}
}

// TestFullDisk fills a small tmpfs-like quota through the injector: the
// write fails with ENOSPC and the error reaches the caller.
func TestFullDisk(t *testing.T) {
	mem := vfs.NewMem()
	var full errorfs.Toggle
	full.Injector = errorfs.InjectorFunc(func(op errorfs.Op) error {
		if op.Kind == errorfs.OpFileWrite || op.Kind == errorfs.OpFileWriteAt || op.Kind == errorfs.OpCreate {
			return syscall.ENOSPC
		}
		return nil
	})
	s, err := Open("db", Options{FS: errorfs.Wrap(mem, &full)})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if err := s.Write(ctx, 0, entry("a", "b", immortal)); err != nil {
		t.Fatal(err)
	}
	full.On()
	err = s.Write(ctx, 0, entry("c", big, immortal))
	if !errors.Is(err, syscall.ENOSPC) {
		t.Fatalf("write on a full disk: %v, want ENOSPC", err)
	}
}

var big = strings.Repeat("x", 64<<10)

func BenchmarkWrite(b *testing.B) {
	for _, d := range []persistence.Durability{persistence.SyncEveryWrite, persistence.GroupCommit, persistence.Interval} {
		b.Run(fmt.Sprint(d), func(b *testing.B) {
			s := open(b, b.TempDir(), Options{Durability: d})
			val := bytes.Repeat([]byte("v"), 100)
			var n int64
			var mu sync.Mutex
			b.SetParallelism(8)
			b.ResetTimer()
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					mu.Lock()
					n++
					k := fmt.Sprintf("key-%012d", n)
					mu.Unlock()
					if err := s.Write(ctx, int(n%256), cache.Entry{Key: []byte(k), Value: val, Meta: immortal}); err != nil {
						b.Fatal(err)
					}
				}
			})
		})
	}
}

func BenchmarkLoad(b *testing.B) {
	s := open(b, b.TempDir(), Options{Durability: persistence.Interval})
	val := bytes.Repeat([]byte("v"), 100)
	const n = 100000
	var batch []persistence.SegmentEntry
	for i := 0; i < n; i++ {
		batch = append(batch, persistence.SegmentEntry{Segment: i % 256, Entry: cache.Entry{Key: []byte(fmt.Sprintf("key-%012d", i)), Value: val, Meta: immortal}})
	}
	if err := s.WriteBatch(ctx, batch, nil); err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		k := i % n
		if _, ok, err := s.Load(ctx, k%256, []byte(fmt.Sprintf("key-%012d", k)), 0); !ok || err != nil {
			b.Fatal(ok, err)
		}
	}
}
