package backup

import (
	"archive/zip"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"testing"
	"time"

	"github.com/hotgrid/hotgrid/cache"
	"github.com/hotgrid/hotgrid/config"
)

var (
	ctx   = context.Background()
	quiet = slog.New(slog.NewTextHandler(io.Discard, nil))
)

func manager(t *testing.T, caches ...*config.Cache) *cache.Manager {
	t.Helper()
	m, err := cache.NewManager(cache.ManagerOptions{Container: &config.Container{Name: "default", Caches: caches}, Logger: quiet})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(m.Close)
	return m
}

func fill(t *testing.T, m *cache.Manager, name string, n int, w cache.Write) {
	t.Helper()
	c, err := m.Cache(name)
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i < n; i++ {
		k := []byte(fmt.Sprintf("%s-%d", name, i))
		if _, _, err := c.Put(ctx, k, k, w); err != nil {
			t.Fatal(err)
		}
	}
}

func TestRoundTrip(t *testing.T) {
	src := manager(t, config.NewCache("a", config.ModeLocal), config.NewCache("b", config.ModeDistributed))
	rt := config.NewCache("runtime", config.ModeLocal)
	rt.Expiration.Lifespan = -1
	if _, err := src.Create(rt, cache.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	fill(t, src, "a", 100, cache.Write{})
	fill(t, src, "b", 50, cache.Write{Lifespan: time.Hour})
	fill(t, src, "runtime", 10, cache.Write{})
	b, _ := src.Cache("b")
	orig, _, _ := b.Get(ctx, []byte("b-7"))

	var buf bytes.Buffer
	var p Progress
	if err := Write(ctx, src, &buf, Resources{}, "test", &p); err != nil {
		t.Fatal(err)
	}
	if p.Entries.Load() != 160 || p.Caches.Load() != 3 {
		t.Fatalf("progress %d entries %d caches", p.Entries.Load(), p.Caches.Load())
	}

	dst := manager(t, config.NewCache("a", config.ModeLocal), config.NewCache("b", config.ModeDistributed))
	man, err := Restore(ctx, dst, bytes.NewReader(buf.Bytes()), int64(buf.Len()), Resources{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(man.Caches) != 3 {
		t.Fatalf("manifest %+v", man)
	}
	for name, want := range map[string]int64{"a": 100, "b": 50, "runtime": 10} {
		c, err := dst.Cache(name)
		if err != nil {
			t.Fatalf("cache %s not restored: %v", name, err)
		}
		if n, _ := c.Size(ctx); n != want {
			t.Fatalf("cache %s has %d entries, want %d", name, n, want)
		}
	}
	b, _ = dst.Cache("b")
	got, ok, _ := b.Get(ctx, []byte("b-7"))
	if !ok || got.Meta.Version != orig.Meta.Version || got.Meta.Created != orig.Meta.Created || got.Meta.Lifespan != orig.Meta.Lifespan {
		t.Fatalf("metadata not kept: %+v vs %+v", got.Meta, orig.Meta)
	}
}

func TestSelectedCaches(t *testing.T) {
	src := manager(t, config.NewCache("keep-1", config.ModeLocal), config.NewCache("keep-2", config.ModeLocal), config.NewCache("skip", config.ModeLocal))
	for _, n := range []string{"keep-1", "keep-2", "skip"} {
		fill(t, src, n, 5, cache.Write{})
	}
	var buf bytes.Buffer
	if err := Write(ctx, src, &buf, Resources{Caches: []string{"keep-*"}}, "", nil); err != nil {
		t.Fatal(err)
	}
	dst := manager(t)
	man, err := Restore(ctx, dst, bytes.NewReader(buf.Bytes()), int64(buf.Len()), Resources{Caches: []string{"keep-2"}}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(man.Caches) != 2 {
		t.Fatalf("archive holds %d caches, want 2", len(man.Caches))
	}
	if names := dst.Names(); len(names) != 1 || names[0] != "keep-2" {
		t.Fatalf("restored %v, want [keep-2]", names)
	}
}

func TestBadArchives(t *testing.T) {
	dst := manager(t)
	zipOf := func(files map[string]string) []byte {
		var buf bytes.Buffer
		zw := zip.NewWriter(&buf)
		for n, c := range files {
			w, _ := zw.Create(n)
			w.Write([]byte(c))
		}
		zw.Close()
		return buf.Bytes()
	}
	for name, data := range map[string][]byte{
		"not a zip":      []byte("hello"),
		"no manifest":    zipOf(map[string]string{"x": "y"}),
		"foreign format": zipOf(map[string]string{"manifest.json": `{"format":"other","version":1}`}),
		"truncated entries": zipOf(map[string]string{
			"manifest.json": `{"format":"hotgrid-backup","version":1,"caches":[{"name":"c"}]}`,
			"containers/default/caches/c/config.json": `{"local-cache":{}}`,
			"containers/default/caches/c/entries.bin": "\x05ab"}),
		"path in name": zipOf(map[string]string{"manifest.json": `{"format":"hotgrid-backup","version":1,"caches":[{"name":"../x"}]}`}),
	} {
		if _, err := Restore(ctx, dst, bytes.NewReader(data), int64(len(data)), Resources{}, nil); err == nil {
			t.Errorf("%s: restore succeeded", name)
		}
	}
}

func TestJobs(t *testing.T) {
	m := manager(t, config.NewCache("a", config.ModeLocal))
	fill(t, m, "a", 20, cache.Write{})
	js := NewJobs(m, t.TempDir(), "test", quiet)
	defer js.Close()
	j, err := js.StartBackup(ctx, "b1", "", Resources{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := js.StartBackup(ctx, "b1", "", Resources{}); !errors.Is(err, ErrExists) {
		t.Fatalf("second backup with the same name: %v", err)
	}
	if _, err := js.StartBackup(ctx, "../etc", "", Resources{}); err == nil {
		t.Fatal("a path as backup name was accepted")
	}
	if err := j.Wait(ctx); err != nil {
		t.Fatal(err)
	}
	if st, _ := j.Status(); st != Complete {
		t.Fatalf("status %s", st)
	}
	m2 := manager(t)
	js2 := NewJobs(m2, t.TempDir(), "test", quiet)
	defer js2.Close()
	r, err := js2.StartRestore(ctx, "r1", j.Path, false, Resources{})
	if err != nil {
		t.Fatal(err)
	}
	if err := r.Wait(ctx); err != nil {
		t.Fatal(err)
	}
	if c, err := m2.Cache("a"); err != nil {
		t.Fatal(err)
	} else if n, _ := c.Size(ctx); n != 20 {
		t.Fatalf("restored %d entries", n)
	}
	if err := js.RemoveBackup("b1"); err != nil {
		t.Fatal(err)
	}
	if _, ok := js.Backup("b1"); ok {
		t.Fatal("removed backup still listed")
	}
}

// FuzzRestore feeds arbitrary archives to Restore: errors, never panics.
func FuzzRestore(f *testing.F) {
	src, _ := cache.NewManager(cache.ManagerOptions{Container: &config.Container{Name: "default",
		Caches: []*config.Cache{config.NewCache("c", config.ModeLocal)}}, Logger: quiet})
	c, _ := src.Cache("c")
	c.Put(ctx, []byte("k"), []byte("v"), cache.Write{})
	var buf bytes.Buffer
	Write(ctx, src, &buf, Resources{}, "", nil)
	src.Close()
	f.Add(buf.Bytes())
	f.Add([]byte("PK\x03\x04"))
	f.Fuzz(func(t *testing.T, data []byte) {
		m, err := cache.NewManager(cache.ManagerOptions{Container: &config.Container{Name: "default"}, Logger: quiet})
		if err != nil {
			t.Fatal(err)
		}
		defer m.Close()
		Restore(ctx, m, bytes.NewReader(data), int64(len(data)), Resources{}, nil)
	})
}
