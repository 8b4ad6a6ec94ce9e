package sqlstore

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"math/rand/v2"
	"os"
	"regexp"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/hotgrid/hotgrid/cache"
	"github.com/hotgrid/hotgrid/config"
	"github.com/hotgrid/hotgrid/persistence"
)

// pgURL returns the PostgreSQL the tests use: HOTGRID_TEST_POSTGRES, which
// scripts/test sets from test/postgres/start. Without it the tests fail
// (with -short they skip): a store test that silently skips proves nothing.
func pgURL(t testing.TB) string {
	t.Helper()
	u := os.Getenv("HOTGRID_TEST_POSTGRES")
	if u == "" {
		if testing.Short() {
			t.Skip("-short: HOTGRID_TEST_POSTGRES is not set")
		}
		t.Fatal("HOTGRID_TEST_POSTGRES is not set. Start a throwaway PostgreSQL with\n" +
			"\texport HOTGRID_TEST_POSTGRES=$(test/postgres/start /tmp/hotgrid-pg 55432)\n" +
			"(and stop it with test/postgres/stop /tmp/hotgrid-pg), or run scripts/test, or pass -short to skip")
	}
	return u
}

// testCtx is the test's context with a deadline, so that a store that
// hangs fails the test instead of stalling it.
func testCtx(t testing.TB) context.Context {
	ctx, cancel := context.WithTimeout(t.Context(), 60*time.Second)
	t.Cleanup(cancel)
	return ctx
}

var nameSeq atomic.Int64

// cacheName is a cache name no other test (or test process) uses.
func cacheName(t testing.TB) string {
	n := regexp.MustCompile(`[^A-Za-z0-9]`).ReplaceAllString(t.Name(), "")
	if len(n) > 20 {
		n = n[:20]
	}
	return fmt.Sprintf("%s-%d-%d", n, os.Getpid(), nameSeq.Add(1))
}

// admin is a plain connection pool for looking at the database behind the
// store's back.
func admin(t testing.TB) *pgxpool.Pool {
	t.Helper()
	p, err := pgxpool.New(testCtx(t), pgURL(t))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(p.Close)
	return p
}

// open opens a store on a fresh table (created, dropped at the end) unless
// o names a cache.
func open(t testing.TB, o Options) *Store {
	t.Helper()
	if o.ConnectionURL == "" {
		o.ConnectionURL = pgURL(t)
	}
	if o.CacheName == "" {
		o.CacheName = cacheName(t)
		o.Table.CreateOnStart = true
		o.Table.DropOnExit = true
	}
	if o.Table.Prefix == "" {
		o.Table.Prefix = "hgtest"
	}
	if o.Logger == nil {
		o.Logger = testLogger(t)
	}
	s, err := Open(testCtx(t), o)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := s.Close(); err != nil {
			t.Error(err)
		}
	})
	return s
}

// testLogger logs through t.Log: shown with -v or when the test fails
// (benchmarks discard).
func testLogger(t testing.TB) *slog.Logger {
	if _, bench := t.(*testing.B); bench {
		return slog.New(slog.DiscardHandler)
	}
	return slog.New(slog.NewTextHandler(tWriter{t}, &slog.HandlerOptions{Level: slog.LevelDebug}))
}

type tWriter struct{ t testing.TB }

func (w tWriter) Write(p []byte) (int, error) {
	w.t.Log(strings.TrimSuffix(string(p), "\n"))
	return len(p), nil
}

var immortal = cache.Metadata{Version: 7, Created: 1000, LastUsed: 1000, Lifespan: -1, MaxIdle: -1}

func entry(k, v string, m cache.Metadata) cache.Entry {
	return cache.Entry{Key: []byte(k), Value: []byte(v), Meta: m}
}

// collect publishes segments at now into a map of key to entry and checks
// each entry's segment against want (if not nil).
func collect(t testing.TB, s *Store, segments []int, now int64, segOf func(key string) int) map[string]cache.Entry {
	t.Helper()
	got := map[string]cache.Entry{}
	err := s.Publish(testCtx(t), segments, now, func(seg int, e cache.Entry) error {
		if _, dup := got[string(e.Key)]; dup {
			t.Errorf("key %q published twice", e.Key)
		}
		if segOf != nil && segOf(string(e.Key)) != seg {
			t.Errorf("key %q published in segment %d, want %d", e.Key, seg, segOf(string(e.Key)))
		}
		got[string(e.Key)] = e
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return got
}

// Every metadata field, odd keys and values, with both kinds of id column.
func TestRoundTrip(t *testing.T) {
	metas := []cache.Metadata{
		immortal,
		{Version: math.MaxInt64, Created: 1700000000000, LastUsed: 1700000000500, Lifespan: 60000, MaxIdle: 5000, Kind: 255, Flags: math.MaxUint32},
		{Version: -3, Created: -1, LastUsed: 0, Lifespan: 0, MaxIdle: -1, Kind: 1, Flags: 1},
		{Version: 1, Created: 1 << 62, LastUsed: 1 << 62, Lifespan: -1, MaxIdle: 1 << 40, Kind: 0x80, Flags: 0x80000000},
	}
	keys := []string{"", "plain", "\x00\x01\x02\xff", strings.Repeat("k", 150), "\uFEFF8notbase64", "="}
	values := []string{"", "value", "\x00\xff\x00", strings.Repeat("v", 1<<20)}
	for _, idType := range []string{"BYTEA", "VARCHAR(255)", "TEXT"} {
		t.Run(idType, func(t *testing.T) {
			ctx := testCtx(t)
			s := open(t, Options{Table: config.Table{IDColumn: config.Column{Type: idType}}})
			var want []cache.Entry
			for i, k := range keys {
				e := cache.Entry{Key: []byte(k), Value: []byte(values[i%len(values)]), Meta: metas[i%len(metas)]}
				if err := s.Write(ctx, i, e); err != nil {
					t.Fatalf("write %q: %v", k, err)
				}
				want = append(want, e)
			}
			now := int64(1000) // before any expiry above
			for i, w := range want {
				e, ok, err := s.Load(ctx, i, w.Key, now)
				if err != nil || !ok {
					t.Fatalf("load %q: %v %v", w.Key, ok, err)
				}
				if string(e.Key) != string(w.Key) || string(e.Value) != string(w.Value) || e.Meta != w.Meta {
					t.Fatalf("load %q:\n got %q %+v\nwant %q %+v", w.Key, trunc(e.Value), e.Meta, trunc(w.Value), w.Meta)
				}
			}
			segOf := func(k string) int { return slices.Index(keys, k) }
			got := collect(t, s, nil, now, segOf)
			if len(got) != len(want) {
				t.Fatalf("published %d entries, want %d", len(got), len(want))
			}
			for _, w := range want {
				if e := got[string(w.Key)]; string(e.Value) != string(w.Value) || e.Meta != w.Meta {
					t.Fatalf("published %q: %+v, want %+v", w.Key, e.Meta, w.Meta)
				}
			}
			// Overwrite and delete.
			if err := s.Write(ctx, 1, entry("plain", "second", immortal)); err != nil {
				t.Fatal(err)
			}
			if e, _, _ := s.Load(ctx, 1, []byte("plain"), now); string(e.Value) != "second" {
				t.Fatalf("after overwrite: %q", e.Value)
			}
			if ok, err := s.Delete(ctx, 1, []byte("plain")); !ok || err != nil {
				t.Fatalf("delete: %v %v", ok, err)
			}
			if ok, err := s.Delete(ctx, 1, []byte("plain")); ok || err != nil {
				t.Fatalf("second delete: %v %v", ok, err)
			}
			if _, ok, _ := s.Load(ctx, 1, []byte("plain"), now); ok {
				t.Fatal("deleted entry loaded")
			}
		})
	}
}

func trunc(b []byte) []byte {
	if len(b) > 20 {
		return b[:20]
	}
	return b
}

// A text id column holds keys as Infinispan's DefaultTwoWayKey2StringMapper
// writes byte-array keys; an id hotgrid cannot have written (a string key
// of Infinispan's) makes Publish fail rather than invent a key.
func TestTextIDIsInfinispans(t *testing.T) {
	ctx := testCtx(t)
	s := open(t, Options{Table: config.Table{IDColumn: config.Column{Type: "VARCHAR(255)"}}})
	if err := s.Write(ctx, 0, entry("\x01k", "v", immortal)); err != nil {
		t.Fatal(err)
	}
	var id string
	if err := admin(t).QueryRow(ctx, fmt.Sprintf(`SELECT %s FROM %s`, s.t.idSQL, s.t.sql)).Scan(&id); err != nil {
		t.Fatal(err)
	}
	if id != "\uFEFF8AWs=" {
		t.Fatalf("stored id %q, want U+FEFF 8 base64", id)
	}
	data := persistence.EncodeEntry(nil, immortal, []byte("w"))
	if _, err := admin(t).Exec(ctx, fmt.Sprintf(`INSERT INTO %s VALUES ('string-key', $1, -1, 2)`, s.t.sql), data); err != nil {
		t.Fatal(err)
	}
	err := s.Publish(ctx, []int{2}, 0, func(int, cache.Entry) error { return nil })
	if err == nil || !strings.Contains(err.Error(), `"string-key" is not a byte-array key`) {
		t.Fatalf("publish of a foreign id: %v", err)
	}
}

// Load, Publish, Size and PurgeExpired agree with Metadata.Expired at every
// instant around the expiry times, for lifespan and max-idle.
func TestExpiry(t *testing.T) {
	ctx := testCtx(t)
	s := open(t, Options{})
	entries := map[string]cache.Metadata{
		"forever":  immortal,
		"lifespan": {Version: 1, Created: 1000, LastUsed: 1000, Lifespan: 500, MaxIdle: -1},          // 1500
		"maxidle":  {Version: 1, Created: 1000, LastUsed: 1100, Lifespan: -1, MaxIdle: 200},          // 1300
		"both":     {Version: 1, Created: 1000, LastUsed: 1000, Lifespan: 2000, MaxIdle: 700},        // 1700
		"zero":     {Version: 1, Created: 1000, LastUsed: 1000, Lifespan: 0, MaxIdle: -1},            // 1000
		"late":     {Version: 1, Created: 1000, LastUsed: 1000, Lifespan: 1 << 40, MaxIdle: 1 << 40}, // far
	}
	seg := map[string]int{}
	i := 0
	for k, m := range entries {
		seg[k] = i
		if err := s.Write(ctx, i, entry(k, "v", m)); err != nil {
			t.Fatal(err)
		}
		i++
	}
	for _, now := range []int64{0, 999, 1000, 1299, 1300, 1499, 1500, 1699, 1700, 5000} {
		live := 0
		for k, m := range entries {
			_, ok, err := s.Load(ctx, seg[k], []byte(k), now)
			if err != nil {
				t.Fatal(err)
			}
			if ok == m.Expired(now) {
				t.Errorf("at %d: load %s = %v, expired %v", now, k, ok, m.Expired(now))
			}
			if ok {
				live++
			}
		}
		if n, err := s.Size(ctx, now); err != nil || n != int64(live) {
			t.Errorf("at %d: size %d %v, want %d", now, n, err, live)
		}
		if got := collect(t, s, nil, now, func(k string) int { return seg[k] }); len(got) != live {
			t.Errorf("at %d: published %d, want %d", now, len(got), live)
		}
	}
	purged := map[string]int{}
	if err := s.PurgeExpired(ctx, 1500, func(sg int, k []byte) { purged[string(k)] = sg }); err != nil {
		t.Fatal(err)
	}
	want := map[string]int{"lifespan": seg["lifespan"], "maxidle": seg["maxidle"], "zero": seg["zero"]}
	if fmt.Sprint(purged) != fmt.Sprint(want) {
		t.Fatalf("purged %v, want %v", purged, want)
	}
	// Really gone: not even a load in the past sees them.
	if n, _ := s.Size(ctx, 0); n != 3 {
		t.Fatalf("after purge %d rows, want 3", n)
	}
	if err := s.PurgeExpired(ctx, 1500, nil); err != nil {
		t.Fatal(err)
	}
}

// A purge larger than one statement's batch.
func TestPurgeManyBatches(t *testing.T) {
	ctx := testCtx(t)
	s := open(t, Options{})
	mortal := cache.Metadata{Created: 0, Lifespan: 10, MaxIdle: -1}
	var w []persistence.SegmentEntry
	for i := range purgeRows*2 + 17 {
		w = append(w, persistence.SegmentEntry{Segment: i % 7, Entry: entry(fmt.Sprint("m", i), "v", mortal)})
	}
	w = append(w, persistence.SegmentEntry{Entry: entry("keep", "v", immortal)})
	if err := s.WriteBatch(ctx, w, nil); err != nil {
		t.Fatal(err)
	}
	n := 0
	if err := s.PurgeExpired(ctx, 100, func(int, []byte) { n++ }); err != nil {
		t.Fatal(err)
	}
	if n != purgeRows*2+17 {
		t.Fatalf("purged %d", n)
	}
	if left, _ := s.Size(ctx, 0); left != 1 {
		t.Fatalf("%d rows left", left)
	}
}

// Publish by segment, across page boundaries, and fn's error.
func TestPublishSegments(t *testing.T) {
	ctx := testCtx(t)
	// One connection: Publish must not hold it while fn runs, since fn
	// uses the store.
	s := open(t, Options{ConnectionURL: pgURL(t) + sep(pgURL(t)) + "pool_max_conns=1"})
	counts := map[int]int{0: 2*pageRows + 3, 1: pageRows, 2: 0, 3: 5, 7: 1}
	var w []persistence.SegmentEntry
	for seg, n := range counts {
		for i := range n {
			w = append(w, persistence.SegmentEntry{Segment: seg, Entry: entry(fmt.Sprintf("s%d-%04d", seg, i), "v", immortal)})
		}
	}
	// An expired entry in segment 3 is not published.
	w = append(w, persistence.SegmentEntry{Segment: 3, Entry: entry("s3-expired", "v", cache.Metadata{Lifespan: 1, MaxIdle: -1})})
	if err := s.WriteBatch(ctx, w, nil); err != nil {
		t.Fatal(err)
	}
	segOf := func(k string) int {
		var seg int
		fmt.Sscanf(k, "s%d-", &seg)
		return seg
	}
	for _, tc := range []struct {
		segs []int
		want int
	}{
		{nil, 2*pageRows + 3 + pageRows + 5 + 1},
		{[]int{0}, 2*pageRows + 3},
		{[]int{1}, pageRows},
		{[]int{2}, 0},
		{[]int{3, 1, 3}, pageRows + 5},
		{[]int{}, 0},
		{[]int{7, 99}, 1},
	} {
		got := collect(t, s, tc.segs, 100, segOf)
		if len(got) != tc.want {
			t.Errorf("Publish(%v): %d entries, want %d", tc.segs, len(got), tc.want)
		}
		for k := range got {
			if tc.segs != nil && !slices.Contains(tc.segs, segOf(k)) {
				t.Errorf("Publish(%v) gave %s", tc.segs, k)
			}
		}
	}
	// fn may use the store, and its error ends Publish.
	stop := errors.New("stop")
	n := 0
	err := s.Publish(ctx, []int{0}, 100, func(seg int, e cache.Entry) error {
		if _, ok, err := s.Load(ctx, seg, e.Key, 100); !ok || err != nil {
			return fmt.Errorf("load inside publish: %v %v", ok, err)
		}
		if n++; n == pageRows+10 {
			return stop
		}
		return nil
	})
	if !errors.Is(err, stop) || n != pageRows+10 {
		t.Fatalf("publish stopped with %v after %d", err, n)
	}
}

func sep(u string) string {
	if strings.Contains(u, "?") {
		return "&"
	}
	return "?"
}

func TestWriteBatch(t *testing.T) {
	ctx := testCtx(t)
	s := open(t, Options{})
	for _, k := range []string{"a", "b", "c"} {
		if err := s.Write(ctx, 0, entry(k, "old", immortal)); err != nil {
			t.Fatal(err)
		}
	}
	err := s.WriteBatch(ctx,
		[]persistence.SegmentEntry{{Segment: 1, Entry: entry("a", "new", immortal)}, {Segment: 2, Entry: entry("d", "new", immortal)},
			{Segment: 3, Entry: entry("c", "written then deleted", immortal)}},
		[]persistence.SegmentKey{{Segment: 0, Key: []byte("b")}, {Segment: 3, Key: []byte("c")}, {Segment: 0, Key: []byte("absent")}})
	if err != nil {
		t.Fatal(err)
	}
	got := collect(t, s, nil, 0, nil)
	if len(got) != 2 || string(got["a"].Value) != "new" || string(got["d"].Value) != "new" {
		t.Fatalf("after batch: %v", got)
	}
	if err := s.WriteBatch(ctx, nil, nil); err != nil {
		t.Fatal(err)
	}
}

// A batch that fails part-way leaves nothing behind: neither its writes
// nor its deletes.
func TestWriteBatchAtomic(t *testing.T) {
	ctx := testCtx(t)
	s := open(t, Options{})
	for _, k := range []string{"a", "b"} {
		if err := s.Write(ctx, 0, entry(k, "old", immortal)); err != nil {
			t.Fatal(err)
		}
	}
	// The database refuses keys of 100 bytes or more.
	if _, err := admin(t).Exec(ctx, fmt.Sprintf(`ALTER TABLE %s ADD CONSTRAINT short_keys CHECK (octet_length(%s) < 100)`,
		s.t.sql, s.t.idSQL)); err != nil {
		t.Fatal(err)
	}
	var w []persistence.SegmentEntry
	for i := range 50 {
		w = append(w, persistence.SegmentEntry{Entry: entry(fmt.Sprint("new", i), "v", immortal)})
	}
	w = append(w, persistence.SegmentEntry{Entry: entry("a", "new", immortal)},
		persistence.SegmentEntry{Entry: entry(strings.Repeat("z", 100), "v", immortal)})
	err := s.WriteBatch(ctx, w, []persistence.SegmentKey{{Key: []byte("b")}})
	if err == nil || !strings.Contains(err.Error(), "short_keys") || !strings.Contains(err.Error(), "batch") {
		t.Fatalf("batch with a refused key: %v", err)
	}
	got := collect(t, s, nil, 0, nil)
	if len(got) != 2 || string(got["a"].Value) != "old" || string(got["b"].Value) != "old" {
		t.Fatalf("a failed batch changed the table: %d entries, a=%q b=%q", len(got), got["a"].Value, got["b"].Value)
	}
}

// Batches that share keys, in different orders, from several goroutines
// neither deadlock nor fail.
func TestConcurrentBatches(t *testing.T) {
	ctx := testCtx(t)
	s := open(t, Options{})
	var wg sync.WaitGroup
	for g := range 6 {
		wg.Go(func() {
			r := rand.New(rand.NewPCG(uint64(g), 1))
			for range 15 {
				var w []persistence.SegmentEntry
				var d []persistence.SegmentKey
				for _, i := range r.Perm(40) {
					if i%9 == 0 {
						d = append(d, persistence.SegmentKey{Segment: i % 4, Key: fmt.Appendf(nil, "k%d", i)})
					} else {
						w = append(w, persistence.SegmentEntry{Segment: i % 4, Entry: entry(fmt.Sprint("k", i), fmt.Sprint(g), immortal)})
					}
				}
				if err := s.WriteBatch(ctx, w, d); err != nil {
					t.Error(err)
					return
				}
			}
		})
	}
	wg.Wait()
	if n, err := s.Size(ctx, 0); err != nil || n != 35 {
		t.Fatalf("size %d %v, want 35", n, err)
	}
}

// Concurrent writers, readers and deleters on shared and own keys.
func TestConcurrentWriters(t *testing.T) {
	ctx := testCtx(t)
	s := open(t, Options{})
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Go(func() {
			for i := range 60 {
				own := entry(fmt.Sprintf("g%d-%d", g, i), "v", immortal)
				shared := entry(fmt.Sprintf("shared-%d", i%10), fmt.Sprint(g), immortal)
				if err := s.Write(ctx, i%4, own); err != nil {
					t.Error(err)
					return
				}
				if err := s.Write(ctx, i%10, shared); err != nil {
					t.Error(err)
					return
				}
				if _, ok, err := s.Load(ctx, i%4, own.Key, 0); !ok || err != nil {
					t.Errorf("load own key: %v %v", ok, err)
					return
				}
				if i%3 == 0 {
					if ok, err := s.Delete(ctx, i%4, own.Key); !ok || err != nil {
						t.Errorf("delete own key: %v %v", ok, err)
						return
					}
				}
			}
		})
	}
	wg.Wait()
	if n, err := s.Size(ctx, 0); err != nil || n != 8*40+10 {
		t.Fatalf("size %d %v, want %d", n, err, 8*40+10)
	}
}

// Entries survive closing and reopening the store.
func TestReopen(t *testing.T) {
	ctx := testCtx(t)
	name := cacheName(t)
	o := Options{ConnectionURL: pgURL(t), CacheName: name, Logger: testLogger(t), Table: config.Table{Prefix: "hgtest", CreateOnStart: true}}
	s, err := Open(ctx, o)
	if err != nil {
		t.Fatal(err)
	}
	m := cache.Metadata{Version: 42, Created: 5, LastUsed: 6, Lifespan: 1 << 41, MaxIdle: 1 << 40, Kind: 2, Flags: 9}
	if err := s.Write(ctx, 3, entry("k", "v", m)); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal("second close:", err)
	}
	if _, _, err := s.Load(ctx, 3, []byte("k"), 0); err == nil {
		t.Fatal("load after close succeeded")
	}
	o.Table.DropOnExit = true
	s = open(t, o)
	e, ok, err := s.Load(ctx, 3, []byte("k"), 10)
	if err != nil || !ok || string(e.Value) != "v" || e.Meta != m {
		t.Fatalf("after reopen: %+v %v %v", e, ok, err)
	}
	if got := collect(t, s, []int{3}, 10, nil); len(got) != 1 {
		t.Fatalf("after reopen published %v", got)
	}
}

// Prefix with a schema, custom column names and types; the catalog shows
// Infinispan's layout (folded column names, its index names).
func TestCustomNames(t *testing.T) {
	ctx := testCtx(t)
	a := admin(t)
	schema := fmt.Sprintf("hgschema%d", os.Getpid())
	if _, err := a.Exec(ctx, `CREATE SCHEMA IF NOT EXISTS `+schema); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { a.Exec(context.Background(), `DROP SCHEMA IF EXISTS `+schema+` CASCADE`) })
	name := "my.cache-" + fmt.Sprint(nameSeq.Add(1))
	tc := config.Table{Prefix: schema + ".Custom", CreateOnStart: true, DropOnExit: true,
		IDColumn: config.Column{Name: "Key_Col", Type: "bytea"}, DataColumn: config.Column{Name: "D"},
		TimeColumn: config.Column{Name: "T", Type: "NUMERIC(19, 0)"}, SegmentColumn: config.Column{Name: "order", Type: "SMALLINT"}}
	s := open(t, Options{CacheName: name, Table: tc})
	if err := s.Write(ctx, 5, entry("x", "y", immortal)); err != nil {
		t.Fatal(err)
	}
	table := "Custom_" + strings.NewReplacer(".", "_", "-", "_").Replace(name)
	var cols, idx string
	err := a.QueryRow(ctx, `SELECT string_agg(column_name, ',' ORDER BY ordinal_position) FROM information_schema.columns
WHERE table_schema = $1 AND table_name = $2`, schema, table).Scan(&cols)
	if err != nil || cols != "key_col,d,t,order" {
		t.Fatalf("columns of %s.%s: %q %v", schema, table, cols, err)
	}
	err = a.QueryRow(ctx, `SELECT string_agg(indexname, ',' ORDER BY indexname) FROM pg_indexes WHERE schemaname = $1 AND tablename = $2`,
		schema, table).Scan(&idx)
	if err != nil || idx != table+"_pkey,"+table+"_segment_index,"+table+"_timestamp_index" {
		t.Fatalf("indexes: %q %v", idx, err)
	}
	var seg int
	var ts int64
	if err := a.QueryRow(ctx, fmt.Sprintf(`SELECT "order", t FROM %s.%q`, schema, table)).Scan(&seg, &ts); err != nil || seg != 5 || ts != -1 {
		t.Fatalf("row: %d %d %v", seg, ts, err)
	}
	if e, ok, err := s.Load(ctx, 5, []byte("x"), 0); !ok || err != nil || string(e.Value) != "y" {
		t.Fatalf("load: %v %v", ok, err)
	}
}

// A table made by hand with Infinispan's own DDL (unquoted, hence folded,
// column names, VARCHAR ids) serves without create-on-start.
func TestInfinispanTable(t *testing.T) {
	ctx := testCtx(t)
	name := cacheName(t)
	table := quote(TableName("ISPN_STRING_TABLE", name))
	a := admin(t)
	_, err := a.Exec(ctx, `CREATE TABLE `+table+` (ID_COLUMN VARCHAR(255) NOT NULL, DATA_COLUMN BYTEA NOT NULL,
TIMESTAMP_COLUMN BIGINT NOT NULL, SEGMENT_COLUMN INT NOT NULL, PRIMARY KEY (ID_COLUMN))`)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { a.Exec(context.Background(), `DROP TABLE IF EXISTS `+table) })
	tc := config.Table{Prefix: "ISPN_STRING_TABLE", IDColumn: config.Column{Name: "ID_COLUMN", Type: "VARCHAR(255)"},
		DataColumn: config.Column{Name: "DATA_COLUMN"}, TimeColumn: config.Column{Name: "TIMESTAMP_COLUMN"},
		SegmentColumn: config.Column{Name: "SEGMENT_COLUMN"}}
	s := open(t, Options{CacheName: name, Table: tc})
	if !s.textKeys {
		t.Fatal("a VARCHAR id column was not detected")
	}
	if err := s.Write(ctx, 1, entry("k", "v", immortal)); err != nil {
		t.Fatal(err)
	}
	if _, ok, err := s.Load(ctx, 1, []byte("k"), 0); !ok || err != nil {
		t.Fatalf("load: %v %v", ok, err)
	}
}

// Open explains what is wrong with a missing or unusable table.
func TestTableProblems(t *testing.T) {
	ctx := testCtx(t)
	a := admin(t)
	mk := func(ddl string) string {
		name := cacheName(t)
		table := quote(TableName("hgtest", name))
		if _, err := a.Exec(ctx, fmt.Sprintf(ddl, table)); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { a.Exec(context.Background(), `DROP TABLE IF EXISTS `+table) })
		return name
	}
	for _, tc := range []struct {
		what string
		name string
		o    Options
		want []string
	}{
		{"missing, create-on-start false", cacheName(t), Options{}, []string{"does not exist", "create-on-start", "hgtest_", "127.0.0.1", "open"}},
		{"missing, read-only", cacheName(t), Options{ReadOnly: true, Table: config.Table{CreateOnStart: true}}, []string{"does not exist", "read-only"}},
		{"no segment column", mk(`CREATE TABLE %s (id_column bytea primary key, data_column bytea, timestamp_column bigint)`),
			Options{}, []string{`no segment column "segment_column"`, "id_column, data_column, timestamp_column"}},
		{"no primary key", mk(`CREATE TABLE %s (id_column bytea, data_column bytea, timestamp_column bigint, segment_column int)`),
			Options{}, []string{"no primary key or unique index"}},
		{"text data column", mk(`CREATE TABLE %s (id_column bytea primary key, data_column text, timestamp_column bigint, segment_column int)`),
			Options{}, []string{`data column "data_column" is text, want BYTEA`}},
		{"int timestamp", mk(`CREATE TABLE %s (id_column bytea primary key, data_column bytea, timestamp_column int, segment_column int)`),
			Options{}, []string{`timestamp column "timestamp_column" is integer, want BIGINT`}},
	} {
		t.Run(tc.what, func(t *testing.T) {
			o := tc.o
			o.ConnectionURL, o.CacheName, o.Table.Prefix, o.Logger = pgURL(t), tc.name, "hgtest", testLogger(t)
			s, err := Open(ctx, o)
			if err == nil {
				s.Close()
				t.Fatal("opened")
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not say %q", err, w)
				}
			}
			if strings.Contains(err.Error(), "hotgrid:hotgrid") {
				t.Errorf("error %q shows the password", err)
			}
		})
	}
}

func TestDropOnExit(t *testing.T) {
	ctx := testCtx(t)
	a := admin(t)
	exists := func(s *Store) bool {
		var ok bool
		if err := a.QueryRow(ctx, `SELECT to_regclass($1) IS NOT NULL`, s.t.sql).Scan(&ok); err != nil {
			t.Fatal(err)
		}
		return ok
	}
	for _, drop := range []bool{true, false} {
		name := cacheName(t)
		o := Options{ConnectionURL: pgURL(t), CacheName: name, Logger: testLogger(t), Table: config.Table{Prefix: "hgtest", CreateOnStart: true, DropOnExit: drop}}
		s, err := Open(ctx, o)
		if err != nil {
			t.Fatal(err)
		}
		if err := s.Write(ctx, 0, entry("k", "v", immortal)); err != nil {
			t.Fatal(err)
		}
		// A read-only store on the same table never drops it.
		ro, err := Open(ctx, Options{ConnectionURL: pgURL(t), CacheName: name, ReadOnly: true, Logger: testLogger(t),
			Table: config.Table{Prefix: "hgtest", DropOnExit: true}})
		if err != nil {
			t.Fatal(err)
		}
		if err := ro.Close(); err != nil || !exists(s) {
			t.Fatalf("read-only close: %v, table exists %v", err, exists(s))
		}
		if err := s.Close(); err != nil {
			t.Fatal(err)
		}
		if exists(s) == drop {
			t.Fatalf("drop-on-exit %v: table exists after close = %v", drop, exists(s))
		}
		if !drop {
			a.Exec(ctx, `DROP TABLE `+s.t.sql)
		}
	}
}

func TestReadOnly(t *testing.T) {
	ctx := testCtx(t)
	name := cacheName(t)
	rw := open(t, Options{CacheName: name, Table: config.Table{CreateOnStart: true, DropOnExit: true}})
	if err := rw.Write(ctx, 2, entry("k", "v", immortal)); err != nil {
		t.Fatal(err)
	}
	ro := open(t, Options{CacheName: name, ReadOnly: true, Table: config.Table{CreateOnStart: true}})
	for op, err := range map[string]error{
		"write":  ro.Write(ctx, 0, entry("x", "y", immortal)),
		"batch":  ro.WriteBatch(ctx, []persistence.SegmentEntry{{Entry: entry("x", "y", immortal)}}, nil),
		"delete": func() error { _, err := ro.Delete(ctx, 2, []byte("k")); return err }(),
		"clear":  ro.Clear(ctx),
		"purge":  ro.PurgeExpired(ctx, math.MaxInt64, nil),
	} {
		if !errors.Is(err, persistence.ErrReadOnly) {
			t.Errorf("read-only %s: %v", op, err)
		}
	}
	if e, ok, err := ro.Load(ctx, 2, []byte("k"), 0); !ok || err != nil || string(e.Value) != "v" {
		t.Fatalf("read-only load: %v %v", ok, err)
	}
	if n, err := ro.Size(ctx, 0); n != 1 || err != nil {
		t.Fatalf("read-only size: %d %v", n, err)
	}
	if got := collect(t, ro, nil, 0, nil); len(got) != 1 {
		t.Fatalf("read-only publish: %v", got)
	}
}
