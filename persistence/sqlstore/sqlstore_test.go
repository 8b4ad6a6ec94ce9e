package sqlstore

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hotgrid/hotgrid/cache"
	"github.com/hotgrid/hotgrid/config"
	"github.com/hotgrid/hotgrid/persistence"
)

var ctx = context.Background()

// pgURL returns the PostgreSQL the tests use: HOTGRID_TEST_POSTGRES, set by
// scripts/test from test/postgres/start. Without it the tests fail (or, with
// -short, skip): a store test that silently skips proves nothing.
func pgURL(t testing.TB) string {
	u := os.Getenv("HOTGRID_TEST_POSTGRES")
	if u == "" {
		if testing.Short() {
			t.Skip("-short: no PostgreSQL")
		}
		t.Fatal("HOTGRID_TEST_POSTGRES is not set: start one with `test/postgres/start DIR PORT` and export the URL it prints")
	}
	return u
}

var tableSeq int

func open(t testing.TB, o Options) *Store {
	t.Helper()
	if o.ConnectionURL == "" {
		o.ConnectionURL = pgURL(t)
	}
	if o.CacheName == "" {
		tableSeq++
		o.CacheName = fmt.Sprintf("%s-%d-%d", t.Name(), os.Getpid(), tableSeq)
		o.Table.CreateOnStart = true
		o.Table.DropOnExit = true
	}
	s, err := Open(ctx, o)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

var immortal = cache.Metadata{Version: 7, Created: 1000, LastUsed: 1000, Lifespan: -1, MaxIdle: -1}

func entry(k, v string, m cache.Metadata) cache.Entry {
	return cache.Entry{Key: []byte(k), Value: []byte(v), Meta: m}
}

func TestRoundTripAndReopen(t *testing.T) {
	name := fmt.Sprintf("reopen-%d", os.Getpid())
	o := Options{ConnectionURL: pgURL(t), CacheName: name, Table: config.Table{CreateOnStart: true}}
	s, err := Open(ctx, o)
	if err != nil {
		t.Fatal(err)
	}
	m := cache.Metadata{Version: 1 << 50, Created: 1700000000000, LastUsed: 1700000000500, Lifespan: 60000, MaxIdle: 5000, Kind: 3, Flags: 0xDEADBEEF}
	bin := string([]byte{0, 1, 2, 0xFF})
	if err := s.Write(ctx, 3, entry(bin, "value", m)); err != nil {
		t.Fatal(err)
	}
	s.Close()
	o.Table.DropOnExit = true
	s = open(t, o)
	e, ok, err := s.Load(ctx, 3, []byte(bin), 1700000001000)
	if err != nil || !ok || string(e.Value) != "value" || e.Meta != m {
		t.Fatalf("after reopen: %+v %v %v", e, ok, err)
	}
}

func TestExpiryAndPurge(t *testing.T) {
	s := open(t, Options{})
	mortal := cache.Metadata{Version: 1, Created: 1000, LastUsed: 1000, Lifespan: 500, MaxIdle: -1}
	for _, e := range []cache.Entry{entry("mortal", "a", mortal), entry("forever", "c", immortal)} {
		if err := s.Write(ctx, 1, e); err != nil {
			t.Fatal(err)
		}
	}
	if n, _ := s.Size(ctx, 1200); n != 2 {
		t.Fatalf("size at 1200 = %d", n)
	}
	if n, _ := s.Size(ctx, 1500); n != 1 {
		t.Fatalf("size at 1500 = %d", n)
	}
	if _, ok, _ := s.Load(ctx, 1, []byte("mortal"), 1600); ok {
		t.Fatal("expired entry loaded")
	}
	var purged []string
	if err := s.PurgeExpired(ctx, 1600, func(_ int, k []byte) { purged = append(purged, string(k)) }); err != nil {
		t.Fatal(err)
	}
	if len(purged) != 1 || purged[0] != "mortal" {
		t.Fatalf("purged %v", purged)
	}
}

func TestPublishBatchAndClear(t *testing.T) {
	s := open(t, Options{})
	var writes []persistence.SegmentEntry
	for seg := 0; seg < 4; seg++ {
		for i := 0; i < 5; i++ {
			writes = append(writes, persistence.SegmentEntry{Segment: seg, Entry: entry(fmt.Sprintf("s%d-%d", seg, i), "v", immortal)})
		}
	}
	if err := s.WriteBatch(ctx, writes, []persistence.SegmentKey{{Segment: 0, Key: []byte("s0-0")}}); err != nil {
		t.Fatal(err)
	}
	count := map[int]int{}
	if err := s.Publish(ctx, []int{0, 2}, 0, func(seg int, e cache.Entry) error {
		if !strings.HasPrefix(string(e.Key), fmt.Sprintf("s%d-", seg)) {
			t.Errorf("key %s in segment %d", e.Key, seg)
		}
		count[seg]++
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if count[0] != 4 || count[2] != 5 || len(count) != 2 {
		t.Fatalf("published %v", count)
	}
	if ok, _ := s.Delete(ctx, 1, []byte("s1-1")); !ok {
		t.Fatal("delete of present key")
	}
	if err := s.Clear(ctx); err != nil {
		t.Fatal(err)
	}
	if n, _ := s.Size(ctx, 0); n != 0 {
		t.Fatalf("size after clear %d", n)
	}
}

// A batch that fails part-way leaves nothing behind.
func TestBatchIsAtomic(t *testing.T) {
	s := open(t, Options{Table: config.Table{IDColumn: config.Column{Type: "VARCHAR(20)"}}})
	long := strings.Repeat("k", 40) // too long for VARCHAR(20) once encoded
	err := s.WriteBatch(ctx, []persistence.SegmentEntry{{Entry: entry("ok", "v", immortal)}, {Entry: entry(long, "v", immortal)}}, nil)
	if err == nil {
		t.Fatal("a batch with an oversized key succeeded")
	}
	if n, _ := s.Size(ctx, 0); n != 0 {
		t.Fatalf("a failed batch left %d rows", n)
	}
}

func TestCustomNamesAndMissingTable(t *testing.T) {
	name := fmt.Sprintf("custom-%d", os.Getpid())
	tbl := config.Table{Prefix: "MY", CreateOnStart: true, DropOnExit: true, IDColumn: config.Column{Name: "K", Type: "BYTEA"},
		DataColumn: config.Column{Name: "D"}, TimeColumn: config.Column{Name: "T"}, SegmentColumn: config.Column{Name: "S"}}
	s := open(t, Options{CacheName: name, Table: tbl})
	if err := s.Write(ctx, 0, entry("x", "y", immortal)); err != nil {
		t.Fatal(err)
	}
	var n int
	if err := s.pool.QueryRow(ctx, fmt.Sprintf(`SELECT count("K") FROM %s`, ident(TableName("MY", name)))).Scan(&n); err != nil || n != 1 {
		t.Fatalf("custom table/column: %d %v", n, err)
	}
	_, err := Open(ctx, Options{ConnectionURL: pgURL(t), CacheName: "no-such-" + name, Table: config.Table{CreateOnStart: false}})
	if err == nil || !strings.Contains(err.Error(), "does not exist") {
		t.Fatalf("missing table: %v", err)
	}
}

func TestReadOnly(t *testing.T) {
	name := fmt.Sprintf("ro-%d", os.Getpid())
	open(t, Options{CacheName: name, Table: config.Table{CreateOnStart: true, DropOnExit: true}})
	ro, err := Open(ctx, Options{ConnectionURL: pgURL(t), CacheName: name, ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	defer ro.Close()
	if err := ro.Write(ctx, 0, entry("a", "b", immortal)); !errors.Is(err, persistence.ErrReadOnly) {
		t.Fatalf("read-only write: %v", err)
	}
}

func TestConcurrentWriters(t *testing.T) {
	s := open(t, Options{})
	var wg sync.WaitGroup
	for g := 0; g < 8; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < 25; i++ {
				if err := s.Write(ctx, i%4, entry(fmt.Sprintf("g%d-%d", g, i), "v", immortal)); err != nil {
					t.Error(err)
					return
				}
			}
		}()
	}
	wg.Wait()
	if n, _ := s.Size(ctx, 0); n != 200 {
		t.Fatalf("size %d, want 200", n)
	}
}

// A server that cannot be reached gives an error naming the server and not
// the password, within the context's deadline.
func TestUnreachable(t *testing.T) {
	c, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	_, err := Open(c, Options{ConnectionURL: "jdbc:postgresql://127.0.0.1:1/hotgrid", Username: "u", Password: "s3cret", CacheName: "x"})
	if err == nil || !strings.Contains(err.Error(), "127.0.0.1:1") || strings.Contains(err.Error(), "s3cret") {
		t.Fatalf("unreachable server: %v", err)
	}
}

func TestJDBCURL(t *testing.T) {
	u, err := poolURL("jdbc:postgresql://db:5432/app?user=a&password=b&sslmode=disable", "", "")
	if err != nil || u.User.Username() != "a" || u.Query().Get("sslmode") != "disable" || u.Query().Get("password") != "" {
		t.Fatalf("%v %v", u, err)
	}
	if _, err := poolURL("jdbc:mysql://db/app", "", ""); err == nil {
		t.Fatal("a MySQL URL was accepted")
	}
}

func BenchmarkWrite(b *testing.B) {
	s := open(b, Options{})
	val := strings.Repeat("v", 100)
	for i := 0; i < b.N; i++ {
		if err := s.Write(ctx, i%256, entry(fmt.Sprintf("key-%012d", i), val, immortal)); err != nil {
			b.Fatal(err)
		}
	}
}
