package filestore

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/cockroachdb/pebble/v2"
	"github.com/cockroachdb/pebble/v2/vfs"

	"github.com/hotgrid/hotgrid/cache"
	"github.com/hotgrid/hotgrid/persistence"
)

var (
	ctx      = context.Background()
	quiet    = slog.New(slog.NewTextHandler(io.Discard, nil))
	policies = []persistence.Durability{persistence.SyncEveryWrite, persistence.GroupCommit, persistence.Interval}
)

// discardPebble is a pebble logger for the tests that open pebble directly.
type discardPebble struct{}

func (discardPebble) Infof(string, ...any)  {}
func (discardPebble) Errorf(string, ...any) {}
func (discardPebble) Fatalf(format string, args ...any) {
	panic(fmt.Sprintf(format, args...))
}

func open(tb testing.TB, dir string, o Options) *Store {
	tb.Helper()
	if o.Logger == nil {
		o.Logger = quiet
	}
	s, err := Open(dir, o)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { s.Close() })
	return s
}

func entry(k, v string, m cache.Metadata) cache.Entry {
	return cache.Entry{Key: []byte(k), Value: []byte(v), Meta: m}
}

var immortal = cache.Metadata{Version: 7, Created: 1000, LastUsed: 1000, Lifespan: -1, MaxIdle: -1}

func mustWrite(tb testing.TB, s *Store, seg int, e cache.Entry) {
	tb.Helper()
	if err := s.Write(ctx, seg, e); err != nil {
		tb.Fatal(err)
	}
}

// published returns "segment/key=value" for every entry Publish gives.
func published(tb testing.TB, s *Store, segments []int, now int64) []string {
	tb.Helper()
	var got []string
	err := s.Publish(ctx, segments, now, func(seg int, e cache.Entry) error {
		got = append(got, fmt.Sprintf("%d/%s=%s", seg, e.Key, e.Value))
		return nil
	})
	if err != nil {
		tb.Fatal(err)
	}
	sort.Strings(got)
	return got
}

func TestRoundTripEveryField(t *testing.T) {
	cases := []struct {
		name  string
		seg   int
		key   string
		value string
		meta  cache.Metadata
	}{
		{"all fields", 17, "k", "value", cache.Metadata{Version: 1 << 50, Created: 1700000000000, LastUsed: 1700000000500, Lifespan: 60000, MaxIdle: 5000, Kind: 3, Flags: 0xDEADBEEF}},
		{"extremes", 0, "x", "y", cache.Metadata{Version: -1, Created: -5, LastUsed: 1<<63 - 1, Lifespan: 1<<63 - 1, MaxIdle: 1<<63 - 1, Kind: 255, Flags: 1<<32 - 1}},
		{"zero fields", 1, "z", "v", cache.Metadata{Lifespan: -1, MaxIdle: -1}},
		{"empty value", 2, "empty", "", immortal},
		{"binary key, last segment", maxSegment, "\xff\xff\x00", "\x00\x01", immortal},
		{"large value", 3, "big", strings.Repeat("0123456789", 100_000), immortal},
	}
	dir := t.TempDir()
	s, err := Open(dir, Options{Logger: quiet})
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range cases {
		mustWrite(t, s, c.seg, entry(c.key, c.value, c.meta))
	}
	check := func(s *Store) {
		t.Helper()
		for _, c := range cases {
			// Load at the entry's creation time: none of them has expired.
			e, ok, err := s.Load(ctx, c.seg, []byte(c.key), c.meta.Created)
			if err != nil || !ok {
				t.Fatalf("%s: load: %v %v", c.name, ok, err)
			}
			if string(e.Key) != c.key || string(e.Value) != c.value || e.Meta != c.meta {
				t.Fatalf("%s: got %q=%.20q %+v, want %+v", c.name, e.Key, e.Value, e.Meta, c.meta)
			}
			if e.Value == nil {
				t.Fatalf("%s: an empty value came back nil", c.name)
			}
		}
	}
	check(s)
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatalf("second close: %v", err)
	}
	check(open(t, dir, Options{}))
}

func TestLoadedEntryIsACopy(t *testing.T) {
	s := open(t, t.TempDir(), Options{})
	key := []byte("k")
	mustWrite(t, s, 0, cache.Entry{Key: key, Value: []byte("v"), Meta: immortal})
	key[0] = 'x' // the store must have copied it
	e, ok, _ := s.Load(ctx, 0, []byte("k"), 0)
	if !ok {
		t.Fatal("write kept the caller's key slice")
	}
	e.Value[0] = 'w'
	if e2, _, _ := s.Load(ctx, 0, []byte("k"), 0); string(e2.Value) != "v" {
		t.Fatalf("a loaded value aliases the store: %q", e2.Value)
	}
}

func TestSegments(t *testing.T) {
	s := open(t, t.TempDir(), Options{})
	for _, seg := range []int{0, 1, 2, 255, 256, maxSegment} {
		for _, k := range []string{"a", "b", "\xff\xff\xff"} {
			mustWrite(t, s, seg, entry(k, fmt.Sprint(seg), immortal))
		}
	}
	if got := published(t, s, []int{1, maxSegment}, 0); strings.Join(got, " ") !=
		"1/a=1 1/b=1 1/\xff\xff\xff=1 65535/a=65535 65535/b=65535 65535/\xff\xff\xff=65535" {
		t.Fatalf("segments 1 and 65535: %q", got)
	}
	if got := published(t, s, []int{3}, 0); len(got) != 0 {
		t.Fatalf("empty segment: %q", got)
	}
	if got := published(t, s, nil, 0); len(got) != 18 {
		t.Fatalf("all segments: %d entries, want 18", len(got))
	}
	if _, ok, _ := s.Load(ctx, 3, []byte("a"), 0); ok {
		t.Fatal("a key is found in another segment")
	}
	for _, seg := range []int{-1, maxSegment + 1} {
		if err := s.Write(ctx, seg, entry("k", "v", immortal)); !errors.Is(err, errSegment) {
			t.Errorf("write to segment %d: %v", seg, err)
		}
		if _, _, err := s.Load(ctx, seg, []byte("k"), 0); !errors.Is(err, errSegment) {
			t.Errorf("load from segment %d: %v", seg, err)
		}
		if err := s.Publish(ctx, []int{seg}, 0, func(int, cache.Entry) error { return nil }); !errors.Is(err, errSegment) {
			t.Errorf("publish segment %d: %v", seg, err)
		}
	}
	// Clear reaches the last segment's keys that start with 0xFF.
	if err := s.Clear(ctx); err != nil {
		t.Fatal(err)
	}
	if n, err := s.Size(ctx, 0); n != 0 || err != nil {
		t.Fatalf("size after clear = %d, %v", n, err)
	}
	if err := s.Clear(ctx); err != nil {
		t.Fatalf("clear of an empty store: %v", err)
	}
}

func TestExpiry(t *testing.T) {
	s := open(t, t.TempDir(), Options{})
	lifespan := cache.Metadata{Version: 1, Created: 1000, LastUsed: 1000, Lifespan: 500, MaxIdle: -1} // expires at 1500
	idle := cache.Metadata{Version: 2, Created: 1000, LastUsed: 1200, Lifespan: -1, MaxIdle: 100}     // expires at 1300
	both := cache.Metadata{Version: 3, Created: 1000, LastUsed: 1000, Lifespan: 2000, MaxIdle: 1500}  // expires at 2500
	for i, e := range []cache.Entry{entry("lifespan", "a", lifespan), entry("idle", "b", idle), entry("both", "c", both), entry("forever", "d", immortal)} {
		mustWrite(t, s, i%2, e)
	}
	for _, c := range []struct {
		now  int64
		live []string
	}{
		{1299, []string{"both", "forever", "idle", "lifespan"}},
		{1300, []string{"both", "forever", "lifespan"}},
		{1500, []string{"both", "forever"}},
		{2500, []string{"forever"}},
	} {
		var loaded []string
		for _, k := range []string{"both", "forever", "idle", "lifespan"} {
			for seg := 0; seg < 2; seg++ {
				if _, ok, err := s.Load(ctx, seg, []byte(k), c.now); err != nil {
					t.Fatal(err)
				} else if ok {
					loaded = append(loaded, k)
				}
			}
		}
		var pub []string
		for _, p := range published(t, s, nil, c.now) {
			pub = append(pub, p[2:strings.IndexByte(p, '=')])
		}
		sort.Strings(pub)
		n, err := s.Size(ctx, c.now)
		if err != nil {
			t.Fatal(err)
		}
		want := strings.Join(c.live, ",")
		if strings.Join(loaded, ",") != want || strings.Join(pub, ",") != want || n != int64(len(c.live)) {
			t.Errorf("at %d: loaded %v, published %v, size %d; want %v", c.now, loaded, pub, n, c.live)
		}
	}
	var purged []string
	if err := s.PurgeExpired(ctx, 1500, func(_ int, k []byte) { purged = append(purged, string(k)) }); err != nil {
		t.Fatal(err)
	}
	sort.Strings(purged)
	if strings.Join(purged, ",") != "idle,lifespan" {
		t.Fatalf("purged %v", purged)
	}
	if n, _ := s.Size(ctx, 0); n != 2 {
		t.Fatalf("size after purge, even at time 0 = %d, want 2", n)
	}
	if err := s.PurgeExpired(ctx, 1500, nil); err != nil {
		t.Fatalf("purge with a nil callback: %v", err)
	}
}

// TestPurgeManyAndRenewed purges more than one chunk while writers renew
// some of the expired keys: a renewed key must survive whichever of the two
// goes first.
func TestPurgeManyAndRenewed(t *testing.T) {
	s := open(t, t.TempDir(), Options{Durability: persistence.Interval})
	expired := cache.Metadata{Created: 0, LastUsed: 0, Lifespan: 10, MaxIdle: -1}
	const n = 3*purgeChunk + 17
	var w []persistence.SegmentEntry
	for i := 0; i < n; i++ {
		w = append(w, persistence.SegmentEntry{Segment: i % 7, Entry: entry(fmt.Sprint(i), "old", expired)})
	}
	if err := s.WriteBatch(ctx, w, nil); err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		for i := 0; i < n; i += 3 {
			if err := s.Write(ctx, i%7, entry(fmt.Sprint(i), "new", immortal)); err != nil {
				t.Error(err)
			}
		}
	}()
	var mu sync.Mutex
	purged := map[string]bool{}
	err := s.PurgeExpired(ctx, 100, func(_ int, k []byte) {
		mu.Lock()
		purged[string(k)] = true
		mu.Unlock()
	})
	wg.Wait()
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i < n; i++ {
		e, ok, err := s.Load(ctx, i%7, []byte(fmt.Sprint(i)), 100)
		if err != nil {
			t.Fatal(err)
		}
		if i%3 == 0 {
			if !ok || string(e.Value) != "new" {
				t.Fatalf("renewed key %d lost (purge reported it: %v)", i, purged[fmt.Sprint(i)])
			}
		} else if !purged[fmt.Sprint(i)] {
			t.Fatalf("expired key %d not purged", i)
		}
	}
	if n2, _ := s.Size(ctx, 0); n2 != int64((n+2)/3) {
		t.Fatalf("size after purge = %d, want %d", n2, (n+2)/3)
	}
}

func TestPublishStopsAndCancels(t *testing.T) {
	s := open(t, t.TempDir(), Options{Durability: persistence.Interval})
	for i := 0; i < 1000; i++ {
		mustWrite(t, s, 0, entry(fmt.Sprint(i), "v", immortal))
	}
	stop := errors.New("stop")
	calls := 0
	if err := s.Publish(ctx, nil, 0, func(int, cache.Entry) error { calls++; return stop }); err != stop || calls != 1 {
		t.Fatalf("publish returned %v after %d calls, want fn's error after 1", err, calls)
	}
	cctx, cancel := context.WithCancel(ctx)
	calls = 0
	err := s.Publish(cctx, []int{0}, 0, func(int, cache.Entry) error {
		if calls++; calls == 10 {
			cancel()
		}
		return nil
	})
	if !errors.Is(err, context.Canceled) || calls > 10+scanCheckEvery {
		t.Fatalf("cancelled publish: %v after %d calls", err, calls)
	}
	if err := s.Write(cctx, 0, entry("k", "v", immortal)); !errors.Is(err, context.Canceled) {
		t.Fatalf("write with a cancelled context: %v", err)
	}
}

func TestWriteBatchAndDelete(t *testing.T) {
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
	// One batch that writes and deletes, and deletes a key it also writes:
	// the delete comes after the write.
	err := s.WriteBatch(ctx,
		[]persistence.SegmentEntry{{Segment: 2, Entry: entry("s2-0", "again", immortal)}, {Segment: 5, Entry: entry("new", "v", immortal)}},
		[]persistence.SegmentKey{{Segment: 2, Key: []byte("s2-0")}, {Segment: 2, Key: []byte("s2-1")}, {Segment: 2, Key: []byte("absent")}})
	if err != nil {
		t.Fatal(err)
	}
	if got := published(t, s, []int{2, 5}, 0); len(got) != 9 || got[len(got)-1] != "5/new=v" {
		t.Fatalf("after the mixed batch: %q", got)
	}
	if err := s.WriteBatch(ctx, nil, nil); err != nil {
		t.Fatalf("empty batch: %v", err)
	}
	if err := s.WriteBatch(ctx, []persistence.SegmentEntry{{Segment: 0, Entry: entry("ok", "v", immortal)}, {Segment: -3, Entry: entry("bad", "v", immortal)}}, nil); !errors.Is(err, errSegment) {
		t.Fatalf("batch with a bad segment: %v", err)
	}
	if _, ok, _ := s.Load(ctx, 0, []byte("ok"), 0); ok {
		t.Fatal("a rejected batch was partly applied")
	}
	if ok, err := s.Delete(ctx, 0, []byte("s0-0")); !ok || err != nil {
		t.Fatalf("delete of a present key: %v %v", ok, err)
	}
	if ok, err := s.Delete(ctx, 0, []byte("s0-0")); ok || err != nil {
		t.Fatalf("delete of an absent key: %v %v", ok, err)
	}
}

// TestWriteBatchIsAtomicToReaders checks that a reader sees all of a batch
// or none of it.
func TestWriteBatchIsAtomicToReaders(t *testing.T) {
	for _, d := range policies {
		t.Run(d.String(), func(t *testing.T) {
			s := open(t, t.TempDir(), Options{Durability: d})
			const keys = 20
			done := make(chan struct{})
			var wg sync.WaitGroup
			wg.Add(1)
			go func() {
				defer wg.Done()
				defer close(done)
				for round := 0; round < 50; round++ {
					var w []persistence.SegmentEntry
					for k := 0; k < keys; k++ {
						w = append(w, persistence.SegmentEntry{Segment: k % 3, Entry: entry(fmt.Sprint(k), fmt.Sprint(round), immortal)})
					}
					if err := s.WriteBatch(ctx, w, nil); err != nil {
						t.Error(err)
						return
					}
				}
			}()
			for {
				select {
				case <-done:
					wg.Wait()
					return
				default:
				}
				rounds := map[string]int{}
				err := s.Publish(ctx, nil, 0, func(_ int, e cache.Entry) error { rounds[string(e.Value)]++; return nil })
				if err != nil {
					t.Fatal(err)
				}
				if len(rounds) > 1 {
					t.Fatalf("a reader saw parts of several batches: %v", rounds)
				}
			}
		})
	}
}

func TestReopenKeepsEverything(t *testing.T) {
	dir := t.TempDir()
	for round := 0; round < 3; round++ {
		s := open(t, dir, Options{Durability: policies[round]})
		if n, err := s.Size(ctx, 0); n != int64(100*round) || err != nil {
			t.Fatalf("round %d: size %d, %v", round, n, err)
		}
		for i := 0; i < 100; i++ {
			mustWrite(t, s, i%5, entry(fmt.Sprintf("%d-%d", round, i), "v", immortal))
		}
		if err := s.Close(); err != nil {
			t.Fatal(err)
		}
	}
}

func TestReadOnly(t *testing.T) {
	dir := t.TempDir()
	s := open(t, dir, Options{})
	mustWrite(t, s, 0, entry("k", "v", immortal))
	s.Close()
	for _, d := range policies {
		ro := open(t, dir, Options{ReadOnly: true, Durability: d})
		if _, ok, _ := ro.Load(ctx, 0, []byte("k"), 0); !ok {
			t.Fatal("a read-only store does not load")
		}
		if got := published(t, ro, nil, 0); len(got) != 1 {
			t.Fatalf("read-only publish: %q", got)
		}
		writes := map[string]error{
			"write":       ro.Write(ctx, 0, entry("x", "y", immortal)),
			"write batch": ro.WriteBatch(ctx, nil, []persistence.SegmentKey{{Key: []byte("k")}}),
			"clear":       ro.Clear(ctx),
			"purge":       ro.PurgeExpired(ctx, 0, nil),
		}
		_, err := ro.Delete(ctx, 0, []byte("k"))
		writes["delete"] = err
		for op, err := range writes {
			if !errors.Is(err, persistence.ErrReadOnly) {
				t.Errorf("%s on a read-only store: %v", op, err)
			}
		}
		if err := ro.Sync(ctx); err != nil {
			t.Errorf("sync of a read-only store: %v", err)
		}
		if err := ro.Close(); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := Open(filepath.Join(dir, "missing"), Options{ReadOnly: true, Logger: quiet}); err == nil {
		t.Fatal("a read-only open created a store")
	}
}

func TestClosed(t *testing.T) {
	s := open(t, t.TempDir(), Options{Durability: persistence.GroupCommit})
	mustWrite(t, s, 0, entry("k", "v", immortal))
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	_, _, loadErr := s.Load(ctx, 0, []byte("k"), 0)
	_, deleteErr := s.Delete(ctx, 0, []byte("k"))
	_, sizeErr := s.Size(ctx, 0)
	for op, err := range map[string]error{
		"load":    loadErr,
		"delete":  deleteErr,
		"size":    sizeErr,
		"write":   s.Write(ctx, 0, entry("k", "v", immortal)),
		"batch":   s.WriteBatch(ctx, []persistence.SegmentEntry{{Entry: entry("k", "v", immortal)}}, nil),
		"publish": s.Publish(ctx, nil, 0, func(int, cache.Entry) error { return nil }),
		"clear":   s.Clear(ctx),
		"purge":   s.PurgeExpired(ctx, 0, nil),
		"sync":    s.Sync(ctx),
	} {
		if !errors.Is(err, ErrClosed) {
			t.Errorf("%s after close: %v", op, err)
		}
	}
}

// TestCloseWhileBusy closes the store under readers and writers: every
// operation either completes or reports ErrClosed, and nothing panics.
func TestCloseWhileBusy(t *testing.T) {
	for _, d := range policies {
		t.Run(d.String(), func(t *testing.T) {
			s := open(t, t.TempDir(), Options{Durability: d, SyncInterval: time.Millisecond})
			var wg sync.WaitGroup
			for g := 0; g < 8; g++ {
				wg.Add(1)
				go func() {
					defer wg.Done()
					for i := 0; ; i++ {
						var err error
						switch i % 4 {
						case 0, 1:
							err = s.Write(ctx, g, entry(fmt.Sprint(i), "v", immortal))
						case 2:
							_, _, err = s.Load(ctx, g, []byte(fmt.Sprint(i-1)), 0)
						case 3:
							err = s.Publish(ctx, []int{g}, 0, func(int, cache.Entry) error { return nil })
						}
						if errors.Is(err, ErrClosed) {
							return
						}
						if err != nil {
							t.Error(err)
							return
						}
					}
				}()
			}
			time.Sleep(20 * time.Millisecond)
			if err := s.Close(); err != nil {
				t.Fatal(err)
			}
			wg.Wait()
		})
	}
}

func TestConcurrentWritersEveryPolicy(t *testing.T) {
	for _, d := range policies {
		t.Run(d.String(), func(t *testing.T) {
			dir := t.TempDir()
			s := open(t, dir, Options{Durability: d})
			var wg sync.WaitGroup
			for g := 0; g < 16; g++ {
				wg.Add(1)
				go func() {
					defer wg.Done()
					for i := 0; i < 100; i++ {
						k := fmt.Sprintf("g%d-%d", g, i)
						var err error
						if i%10 == 9 {
							err = s.WriteBatch(ctx, []persistence.SegmentEntry{{Segment: i % 16, Entry: entry(k, k, immortal)}},
								[]persistence.SegmentKey{{Segment: (i - 1) % 16, Key: []byte(fmt.Sprintf("g%d-%d", g, i-1))}})
						} else {
							err = s.Write(ctx, i%16, entry(k, k, immortal))
						}
						if err != nil {
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
			if n, _ := s.Size(ctx, 0); n != 16*90 {
				t.Fatalf("size after reopen = %d, want %d", n, 16*90)
			}
			for g := 0; g < 16; g++ {
				if e, ok, _ := s.Load(ctx, 99%16, []byte(fmt.Sprintf("g%d-99", g)), 0); !ok || string(e.Value) != fmt.Sprintf("g%d-99", g) {
					t.Fatalf("writer %d's last write: %v %q", g, ok, e.Value)
				}
			}
		})
	}
}

func TestOpenErrors(t *testing.T) {
	file := filepath.Join(t.TempDir(), "file")
	f, err := vfs.Default.Create(file, vfs.WriteCategoryUnspecified)
	if err != nil {
		t.Fatal(err)
	}
	f.Close()
	_, err = Open(file, Options{Logger: quiet}) // a file where the directory should be
	if err == nil || !strings.Contains(err.Error(), file) || !strings.Contains(err.Error(), "not a directory") {
		t.Fatalf("open error %q does not name %s and the cause", err, file)
	}
	_, err = Open("somewhere", Options{Durability: 7, Logger: quiet})
	if err == nil || !strings.Contains(err.Error(), "somewhere") || !strings.Contains(err.Error(), "durability") {
		t.Fatalf("bad options: %v", err)
	}
	dir := t.TempDir()
	open(t, dir, Options{})
	_, err = Open(dir, Options{Logger: quiet})
	if err == nil || !strings.Contains(err.Error(), dir) {
		t.Fatalf("second open of a locked store: %v", err)
	}
}

func TestIntervalSyncsOnTheTicker(t *testing.T) {
	fs := vfs.NewCrashableMem()
	s := open(t, "db", Options{FS: fs, Durability: persistence.Interval, SyncInterval: time.Hour})
	mustWrite(t, s, 0, entry("unsynced", "v", immortal))
	if ok := loadAfterCrash(t, fs, "unsynced"); ok {
		t.Fatal("an interval write was synced at once; the policy promises no per-write fsync")
	}
	if err := s.Sync(ctx); err != nil {
		t.Fatal(err)
	}
	if ok := loadAfterCrash(t, fs, "unsynced"); !ok {
		t.Fatal("Sync did not make an interval write durable")
	}
	s.Close()

	fs = vfs.NewCrashableMem()
	s = open(t, "db", Options{FS: fs, Durability: persistence.Interval, SyncInterval: 5 * time.Millisecond})
	mustWrite(t, s, 0, entry("ticked", "v", immortal))
	deadline := time.Now().Add(10 * time.Second)
	for !loadAfterCrash(t, fs, "ticked") {
		if time.Now().After(deadline) {
			t.Fatal("the sync ticker never made the write durable")
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// loadAfterCrash reports whether key (segment 0) is in the store as a
// crash at this moment would leave it.
func loadAfterCrash(tb testing.TB, fs *vfs.MemFS, key string) bool {
	tb.Helper()
	crashed := fs.CrashClone(vfs.CrashCloneCfg{})
	s, err := Open("db", Options{FS: crashed, Logger: quiet})
	if err != nil {
		tb.Fatal(err)
	}
	defer s.Close()
	_, ok, err := s.Load(ctx, 0, []byte(key), 0)
	if err != nil {
		tb.Fatal(err)
	}
	return ok
}

func TestOptionsValidate(t *testing.T) {
	for _, c := range []struct {
		o  Options
		ok bool
	}{
		{Options{}, true},
		{Options{Durability: persistence.Interval, SyncInterval: time.Millisecond}, true},
		{Options{Durability: -1}, false},
		{Options{Durability: 3}, false},
		{Options{SyncInterval: -time.Second}, false},
		{Options{BlockCacheSize: 64 << 20}, true},
		{Options{BlockCacheSize: -1}, false},
	} {
		if err := c.o.Validate(); (err == nil) != c.ok {
			t.Errorf("%+v: %v", c.o, err)
		}
	}
	var o Options
	o.EnsureDefaults()
	if o.SyncInterval != DefaultSyncInterval || o.FS == nil || o.Logger == nil {
		t.Fatalf("defaults: %+v", o)
	}
}

func TestEmptyValueIsNotNil(t *testing.T) {
	s := open(t, t.TempDir(), Options{})
	mustWrite(t, s, 0, cache.Entry{Key: []byte("k"), Value: nil, Meta: immortal})
	err := s.Publish(ctx, nil, 0, func(_ int, e cache.Entry) error {
		if e.Value == nil || !bytes.Equal(e.Key, []byte("k")) {
			t.Fatalf("published %#v", e)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// TestOpensOlderFormat opens a store written in pebble's oldest supported
// format, as the first version of this package wrote them, writable and
// read-only.
func TestOpensOlderFormat(t *testing.T) {
	dir := t.TempDir()
	db, err := pebble.Open(dir, &pebble.Options{FormatMajorVersion: pebble.FormatMinSupported, Logger: discardPebble{}})
	if err != nil {
		t.Fatal(err)
	}
	k, _ := dbKey(3, []byte("k"))
	if err := db.Set(k, persistence.EncodeEntry(nil, immortal, []byte("v")), pebble.Sync); err != nil {
		t.Fatal(err)
	}
	db.Close()
	for _, ro := range []bool{true, false, true} {
		s := open(t, dir, Options{ReadOnly: ro})
		if e, ok, err := s.Load(ctx, 3, []byte("k"), 0); !ok || err != nil || string(e.Value) != "v" {
			t.Fatalf("read-only %v: %v %v %q", ro, ok, err, e.Value)
		}
		s.Close()
	}
}
