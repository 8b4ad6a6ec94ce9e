// Command persist measures hotgrid's persistence: put throughput and
// latency for an in-memory cache and for file-store caches written behind
// and through (each fsync policy), then the restart time of a node whose
// store holds many entries and the bytes on disk per entry. It prints a
// Markdown table. It is a benchmark, not a test.
package main

import (
	"bytes"
	"context"
	"flag"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"time"

	"github.com/hotgrid/hotgrid/bench/internal/harness"
	"github.com/hotgrid/hotgrid/client"
)

// caches are the configurations compared, in table order.
var caches = []struct{ name, label, persistence string }{
	{"mem", "in memory (no store)", ""},
	{"behind", "file store, write-behind", `<file-store><write-behind modification-queue-size="65536"/><property name="durability">interval</property></file-store>`},
	{"interval", "file store, write-through, fsync every second", `<file-store><property name="durability">interval</property></file-store>`},
	{"group", "file store, write-through, group commit", `<file-store><property name="durability">group</property></file-store>`},
	{"sync", "file store, write-through, fsync every write", `<file-store><data sync-writes="true"/></file-store>`},
}

func main() {
	bin := flag.String("bin", "./bin/hotgrid", "hotgrid binary")
	dur := flag.Duration("duration", 5*time.Second, "duration of each put run")
	conns := flag.Int("conns", 16, "connections (one request in flight each)")
	keysN := flag.Int("keys", 100000, "distinct keys the puts cycle over")
	entries := flag.Int("entries", 1_000_000, "entries for the restart and disk measurements")
	flag.Parse()
	abs, err := filepath.Abs(*bin)
	harness.Check(err)

	root, err := os.MkdirTemp("", "hotgrid-persist-bench")
	harness.Check(err)
	defer os.RemoveAll(root)
	harness.Check(os.MkdirAll(filepath.Join(root, "conf"), 0o755))
	doc := `<infinispan><cache-container name="default">`
	for _, c := range caches {
		p := ""
		if c.persistence != "" {
			p = "<persistence>" + c.persistence + "</persistence>"
		}
		doc += fmt.Sprintf(`<local-cache name="%s">%s</local-cache>`, c.name, p)
	}
	doc += `<local-cache name="big"><persistence><file-store preload="true"><property name="durability">interval</property></file-store></persistence></local-cache>`
	doc += `<local-cache name="bigcold"><persistence><file-store><property name="durability">interval</property></file-store></persistence></local-cache>`
	doc += `</cache-container></infinispan>`
	harness.Check(os.WriteFile(filepath.Join(root, "conf", "bench.xml"), []byte(doc), 0o644))

	port := harness.FreePort()
	argv := []string{abs, "server", "-s", root, "-c", "bench.xml", "-p", strconv.Itoa(port), "--log-level", "warn"}
	srv, err := harness.Start(argv, port, os.Stderr, time.Minute)
	harness.Check(err)

	keys := make([][]byte, *keysN)
	for i := range keys {
		keys[i] = harness.Key(i)
	}
	value := bytes.Repeat([]byte("v"), 100)
	fmt.Printf("| cache | puts/s | p50 | p99 | server CPU per put | vs in memory |\n|---|---|---|---|---|---|\n")
	var memOps float64
	for _, c := range caches {
		harness.Drive(srv.Addr, c.name, *conns, 1, time.Second, keys, value, true) // warm-up
		cpu0 := srv.CPUSeconds()
		r := harness.Drive(srv.Addr, c.name, *conns, 1, *dur, keys, value, true)
		cpu := (srv.CPUSeconds() - cpu0) * 1e6 / float64(r.Ops)
		if c.name == "mem" {
			memOps = r.OpsPerS
		}
		fmt.Printf("| %s | %.0f | %.0f µs | %.0f µs | %.1f µs | %.2f |\n", c.label, r.OpsPerS, r.P50us, r.P99us, cpu, r.OpsPerS/memOps)
		fmt.Fprintf(os.Stderr, "%s: %.0f puts/s p50 %.0f µs p99 %.0f µs\n", c.name, r.OpsPerS, r.P50us, r.P99us)
	}

	// Restart with many entries on disk.
	ctx := context.Background()
	t0 := time.Now()
	// Random values: pebble compresses blocks, and repeated bytes would
	// make the disk figure meaninglessly small.
	for _, name := range []string{"big", "bigcold"} {
		harness.LoadRandom(ctx, srv.Addr, name, *entries, len(value))
	}
	fmt.Fprintf(os.Stderr, "loaded 2 × %d entries in %s\n", *entries, time.Since(t0).Round(time.Millisecond))
	srv.Stop()
	disk := dirSize(filepath.Join(root, "data", "bigcold"))

	srv, err = harness.Start(argv, port, os.Stderr, 10*time.Minute)
	harness.Check(err)
	defer srv.Stop()
	cl, err := client.New(ctx, client.Options{Servers: []string{srv.Addr}})
	harness.Check(err)
	defer cl.Close()
	size := func(name string) int64 {
		n, err := cl.Cache(name).Size(ctx)
		harness.Check(err)
		return n
	}
	nBig, nCold := size("big"), size("bigcold")
	fmt.Printf("\nRestart of a node whose stores hold %d entries each (16-byte keys, 100-byte random values):\n\n", *entries)
	fmt.Printf("| measurement | value |\n|---|---|\n")
	fmt.Printf("| exec to first served request, one cache preloading %d entries into memory, one not | %.0f ms |\n", *entries, float64(srv.Ready.Microseconds())/1000)
	fmt.Printf("| entries after the restart (preloaded / loaded on demand) | %d / %d |\n", nBig, nCold)
	fmt.Printf("| RSS after the restart | %.0f MiB |\n", srv.RSSMiB())
	fmt.Printf("| bytes on disk per entry after a clean stop (116 of them key and value; pebble's files, write-ahead log included) | %.0f B |\n", float64(disk)/float64(*entries))
}

// dirSize adds up the sizes of the files under dir.
func dirSize(dir string) int64 {
	var n int64
	filepath.WalkDir(dir, func(_ string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			if info, err := d.Info(); err == nil {
				n += info.Size()
			}
		}
		return nil
	})
	return n
}
