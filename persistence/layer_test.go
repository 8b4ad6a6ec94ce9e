package persistence_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/cockroachdb/pebble/v2/vfs"
	"github.com/cockroachdb/pebble/v2/vfs/errorfs"

	"github.com/hotgrid/hotgrid/cache"
	"github.com/hotgrid/hotgrid/config"
	"github.com/hotgrid/hotgrid/persistence"
	"github.com/hotgrid/hotgrid/persistence/filestore"
)

var (
	ctx   = context.Background()
	quiet = slog.New(slog.NewTextHandler(io.Discard, nil))
)

// node is a cache manager whose caches keep their stores under dir, as a
// server root's data directory does.
type node struct {
	t   *testing.T
	dir string
	fs  vfs.FS
	mgr *cache.Manager
}

func startNode(t *testing.T, dir string, fs vfs.FS, caches ...*config.Cache) *node {
	t.Helper()
	n := &node{t: t, dir: dir, fs: fs}
	mgr, err := cache.NewManager(cache.ManagerOptions{
		Container: &config.Container{Name: "default", Caches: caches},
		Logger:    quiet,
		Persistence: func(ctx context.Context, cfg *config.Cache) (cache.Persister, error) {
			var stores []persistence.Attached
			for i, sc := range cfg.Persistence.Stores {
				dur, err := persistence.ParseDurability(sc.Properties["durability"])
				if err != nil {
					return nil, err
				}
				path := filepath.Join(dir, fmt.Sprintf("%s-%d", cfg.Name, i))
				st, err := filestore.Open(path, filestore.Options{Durability: dur, FS: fs, Logger: quiet})
				if err != nil {
					return nil, err
				}
				stores = append(stores, persistence.Attached{Name: path, Store: st, Preload: sc.Preload,
					PurgeOnStartup: sc.PurgeOnStartup, ReadOnly: sc.ReadOnly, WriteBehind: sc.WriteBehind})
			}
			return persistence.NewLayer(ctx, cfg.Name, cfg.Persistence.Passivation, stores, quiet)
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	n.mgr = mgr
	return n
}

func (n *node) cache(name string) cache.Cache {
	c, err := n.mgr.Cache(name)
	if err != nil {
		n.t.Fatal(err)
	}
	return c
}

func parse(t *testing.T, name, doc string) *config.Cache {
	t.Helper()
	c, err := config.ParseCache(name, []byte(doc), nil)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func put(t *testing.T, c cache.Cache, k, v string, w cache.Write) {
	t.Helper()
	if _, _, err := c.Put(ctx, []byte(k), []byte(v), w); err != nil {
		t.Fatal(err)
	}
}

func get(t *testing.T, c cache.Cache, k string) (string, bool) {
	t.Helper()
	e, ok, err := c.Get(ctx, []byte(k))
	if err != nil {
		t.Fatal(err)
	}
	return string(e.Value), ok
}

func TestWriteThroughSurvivesRestart(t *testing.T) {
	dir := t.TempDir()
	cfg := parse(t, "wt", `<local-cache><persistence><file-store/></persistence></local-cache>`)
	n := startNode(t, dir, nil, cfg)
	c := n.cache("wt")
	for i := 0; i < 100; i++ {
		put(t, c, fmt.Sprint(i), fmt.Sprint("v", i), cache.Write{})
	}
	put(t, c, "mortal", "m", cache.Write{Lifespan: 30 * time.Second})
	if _, ok, err := c.Remove(ctx, []byte("5"), cache.Write{}); !ok || err != nil {
		t.Fatal("remove", ok, err)
	}
	before, _, _ := c.Get(ctx, []byte("mortal"))
	n.mgr.Close()

	n = startNode(t, dir, nil, cfg)
	defer n.mgr.Close()
	c = n.cache("wt")
	if sz, _ := c.Size(ctx); sz != 100 {
		t.Fatalf("size after restart = %d, want 100", sz)
	}
	if v, ok := get(t, c, "42"); !ok || v != "v42" {
		t.Fatalf("42 = %q %v", v, ok)
	}
	if _, ok := get(t, c, "5"); ok {
		t.Fatal("a removed entry came back")
	}
	after, ok, _ := c.Get(ctx, []byte("mortal"))
	if !ok || after.Meta.Created != before.Meta.Created || after.Meta.Lifespan != 30000 || after.Meta.Version != before.Meta.Version {
		t.Fatalf("metadata changed across the restart: %+v vs %+v", after.Meta, before.Meta)
	}
	// Conditional writes see stored entries that memory has not loaded.
	n.mgr.Close()
	n = startNode(t, dir, nil, cfg)
	defer n.mgr.Close()
	c = n.cache("wt")
	if _, existed, _ := c.PutIfAbsent(ctx, []byte("7"), []byte("x"), cache.Write{}); !existed {
		t.Fatal("putIfAbsent did not see the stored entry")
	}
	var seen int
	for seg := 0; seg < c.NumSegments(); seg++ {
		es, err := c.Segment(ctx, seg, nil)
		if err != nil {
			t.Fatal(err)
		}
		seen += len(es)
	}
	if seen != 100 {
		t.Fatalf("iteration saw %d entries, want 100", seen)
	}
}

func TestPassivationHoldsMoreThanMemory(t *testing.T) {
	dir := t.TempDir()
	cfg := parse(t, "p", `<local-cache><memory max-count="50"/><persistence passivation="true"><file-store/></persistence></local-cache>`)
	n := startNode(t, dir, nil, cfg)
	c := n.cache("p")
	const total = 1000
	for i := 0; i < total; i++ {
		put(t, c, fmt.Sprint(i), fmt.Sprint("v", i), cache.Write{})
	}
	if st := c.Stats(); st.Entries > 60 {
		t.Fatalf("memory holds %d entries, bound is 50", st.Entries)
	}
	for i := 0; i < total; i++ {
		if v, ok := get(t, c, fmt.Sprint(i)); !ok || v != fmt.Sprint("v", i) {
			t.Fatalf("entry %d: %q %v", i, v, ok)
		}
	}
	if sz, _ := c.Size(ctx); sz != total {
		t.Fatalf("size = %d, want %d", sz, total)
	}
	n.mgr.Close() // passivates what memory holds
	n = startNode(t, dir, nil, cfg)
	defer n.mgr.Close()
	c = n.cache("p")
	if sz, _ := c.Size(ctx); sz != total {
		t.Fatalf("size after restart = %d, want %d", sz, total)
	}
	if v, ok := get(t, c, "999"); !ok || v != "v999" {
		t.Fatalf("999 after restart: %q %v", v, ok)
	}
}

func TestWriteBehindFlushesOnShutdown(t *testing.T) {
	dir := t.TempDir()
	cfg := parse(t, "wb", `<local-cache><persistence><file-store>
		<write-behind modification-queue-size="16"/>
		<property name="durability">interval</property></file-store></persistence></local-cache>`)
	n := startNode(t, dir, nil, cfg)
	c := n.cache("wb")
	for i := 0; i < 500; i++ {
		put(t, c, fmt.Sprint(i%100), fmt.Sprint("v", i), cache.Write{})
	}
	c.Remove(ctx, []byte("0"), cache.Write{})
	n.mgr.Close()
	n = startNode(t, dir, nil, cfg)
	defer n.mgr.Close()
	c = n.cache("wb")
	if sz, _ := c.Size(ctx); sz != 99 {
		t.Fatalf("size = %d, want 99", sz)
	}
	if v, _ := get(t, c, "42"); v != "v442" {
		t.Fatalf("42 = %q, want the last write v442", v)
	}
}

func TestPreloadAndPurgeOnStartup(t *testing.T) {
	dir := t.TempDir()
	pre := parse(t, "c", `<local-cache><persistence><file-store preload="true"/></persistence></local-cache>`)
	n := startNode(t, dir, nil, pre)
	for i := 0; i < 20; i++ {
		put(t, n.cache("c"), fmt.Sprint(i), "v", cache.Write{})
	}
	n.mgr.Close()
	n = startNode(t, dir, nil, pre)
	if st := n.cache("c").Stats(); st.Entries != 20 {
		t.Fatalf("preloaded %d entries into memory, want 20", st.Entries)
	}
	n.mgr.Close()
	purge := parse(t, "c", `<local-cache><persistence><file-store purge="true"/></persistence></local-cache>`)
	n = startNode(t, dir, nil, purge)
	defer n.mgr.Close()
	if sz, _ := n.cache("c").Size(ctx); sz != 0 {
		t.Fatalf("size after purge on start-up = %d", sz)
	}
}

// TestDiskErrorReachesTheWriter fails the store's writes: the client gets
// the error, memory keeps the previous value, and a reopen finds every
// acknowledged write.
func TestDiskErrorReachesTheWriter(t *testing.T) {
	mem := vfs.NewMem()
	var toggle errorfs.Toggle
	toggle.Injector = errorfs.InjectorFunc(func(op errorfs.Op) error {
		if op.Kind == errorfs.OpFileWrite || op.Kind == errorfs.OpFileSync || op.Kind == errorfs.OpFileSyncData {
			return syscall.EIO
		}
		return nil
	})
	cfg := parse(t, "f", `<local-cache><persistence><file-store/></persistence></local-cache>`)
	n := startNode(t, "/db", errorfs.Wrap(mem, &toggle), cfg)
	c := n.cache("f")
	put(t, c, "k", "old", cache.Write{})
	toggle.On()
	_, _, err := c.Put(ctx, []byte("k"), []byte("new"), cache.Write{})
	if !errors.Is(err, syscall.EIO) {
		t.Fatalf("put under disk errors: %v, want EIO", err)
	}
	if v, _ := get(t, c, "k"); v != "old" {
		t.Fatalf("memory holds %q after a failed write, want old", v)
	}
	if _, _, err := c.Remove(ctx, []byte("k"), cache.Write{}); err == nil {
		t.Fatal("remove succeeded on a failed store")
	}
	n.mgr.Close()
	toggle.Off()
	n = startNode(t, "/db", mem, cfg)
	defer n.mgr.Close()
	if v, ok := get(t, n.cache("f"), "k"); !ok || v != "old" {
		t.Fatalf("after reopen: %q %v", v, ok)
	}
}

// TestSeveralStores writes through to two file stores; each alone then
// holds the whole cache, and a read-only store serves loads but is never
// written.
func TestSeveralStores(t *testing.T) {
	dir := t.TempDir()
	two := parse(t, "m", `<local-cache><persistence><file-store path="a"/><file-store path="b"/></persistence></local-cache>`)
	n := startNode(t, dir, nil, two)
	for i := 0; i < 30; i++ {
		put(t, n.cache("m"), fmt.Sprint(i), "v", cache.Write{})
	}
	n.cache("m").Remove(ctx, []byte("0"), cache.Write{})
	n.mgr.Close()
	for i := 0; i < 2; i++ {
		st, err := filestore.Open(filepath.Join(dir, fmt.Sprintf("m-%d", i)), filestore.Options{ReadOnly: true, Logger: quiet})
		if err != nil {
			t.Fatal(err)
		}
		if sz, _ := st.Size(ctx, 0); sz != 29 {
			t.Errorf("store %d holds %d entries, want 29", i, sz)
		}
		st.Close()
	}
	// The second store read-only: loads come from it, writes go to the first only.
	ro := parse(t, "m", `<local-cache><persistence><file-store/><file-store read-only="true"/></persistence></local-cache>`)
	n = startNode(t, dir, nil, ro)
	defer n.mgr.Close()
	put(t, n.cache("m"), "new", "v", cache.Write{})
	if v, ok := get(t, n.cache("m"), "7"); !ok || v != "v" {
		t.Fatalf("7 = %q %v", v, ok)
	}
}
