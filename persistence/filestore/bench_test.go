package filestore

import (
	"bytes"
	"context"
	"math/rand/v2"
	"strconv"
	"sync/atomic"
	"testing"

	"github.com/cockroachdb/pebble/v2"

	"github.com/hotgrid/hotgrid/cache"
	"github.com/hotgrid/hotgrid/persistence"
)

// benchParallelism is the number of writers per GOMAXPROCS in the write
// benchmarks: a server has many more clients than cores.
const benchParallelism = 8

func benchKey(i int64) []byte {
	return strconv.AppendInt([]byte("key-"), i, 10)
}

// BenchmarkWrite writes 100-byte values from parallel writers on the real
// disk under each durability policy.
func BenchmarkWrite(b *testing.B) {
	for _, d := range policies {
		b.Run(d.String(), func(b *testing.B) {
			s := open(b, b.TempDir(), Options{Durability: d, Logger: quiet})
			val := bytes.Repeat([]byte("v"), 100)
			var n atomic.Int64
			b.SetParallelism(benchParallelism)
			b.ReportAllocs()
			b.ResetTimer()
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					i := n.Add(1)
					if err := s.Write(ctx, int(i%256), cache.Entry{Key: benchKey(i), Value: val, Meta: immortal}); err != nil {
						b.Error(err)
						return
					}
				}
			})
		})
	}
}

// BenchmarkGroupCommit compares the store's committer goroutine with
// pebble's own pipelined group commit (concurrent synced commits, straight
// on a pebble.DB), same writers, same disk.
func BenchmarkGroupCommit(b *testing.B) {
	val := bytes.Repeat([]byte("v"), 100)
	b.Run("committer", func(b *testing.B) {
		s := open(b, b.TempDir(), Options{Durability: persistence.GroupCommit, Logger: quiet})
		var n atomic.Int64
		b.SetParallelism(benchParallelism)
		b.ResetTimer()
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				i := n.Add(1)
				if err := s.Write(ctx, int(i%256), cache.Entry{Key: benchKey(i), Value: val, Meta: immortal}); err != nil {
					b.Error(err)
					return
				}
			}
		})
		b.ReportMetric(float64(b.N)/float64(s.groups.Load()), "writes/fsync")
	})
	b.Run("pebble-pipeline", func(b *testing.B) {
		db, err := pebble.Open(b.TempDir(), &pebble.Options{FormatMajorVersion: pebble.FormatNewest, Logger: discardPebble{}})
		if err != nil {
			b.Fatal(err)
		}
		defer db.Close()
		var n atomic.Int64
		b.SetParallelism(benchParallelism)
		b.ResetTimer()
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				i := n.Add(1)
				batch := db.NewBatch()
				if err := setEntry(batch, int(i%256), cache.Entry{Key: benchKey(i), Value: val, Meta: immortal}); err != nil {
					b.Error(err)
					return
				}
				if err := batch.Commit(pebble.Sync); err != nil {
					b.Error(err)
					return
				}
				batch.Close()
			}
		})
	})
}

// fill writes n entries of 100-byte values over 256 segments, 1000 to a
// batch.
func fill(tb testing.TB, s *Store, n int) {
	tb.Helper()
	val := bytes.Repeat([]byte("v"), 100)
	batch := make([]persistence.SegmentEntry, 0, 1000)
	for i := 0; i < n; i++ {
		batch = append(batch, persistence.SegmentEntry{Segment: i % 256, Entry: cache.Entry{Key: benchKey(int64(i)), Value: val, Meta: immortal}})
		if len(batch) == cap(batch) || i == n-1 {
			if err := s.WriteBatch(ctx, batch, nil); err != nil {
				tb.Fatal(err)
			}
			batch = batch[:0]
		}
	}
}

// BenchmarkLoad reads random keys among 100k from parallel readers, with
// pebble's default block cache (8 MiB, smaller than the 13 MB of entries)
// and with one that holds them all.
func BenchmarkLoad(b *testing.B) {
	const n = 100_000
	for _, c := range []struct {
		name string
		size int64
	}{{"cache=8MiB", 0}, {"cache=64MiB", 64 << 20}} {
		b.Run(c.name, func(b *testing.B) {
			s := open(b, b.TempDir(), Options{Durability: persistence.Interval, BlockCacheSize: c.size})
			fill(b, s, n)
			b.ReportAllocs()
			b.ResetTimer()
			var seq atomic.Int64
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					i := (seq.Add(1) * 7919) % n
					if _, ok, err := s.Load(ctx, int(i%256), benchKey(i), 0); !ok || err != nil {
						b.Error(ok, err)
						return
					}
				}
			})
		})
	}
}

// BenchmarkSize counts 100k entries by scanning them.
func BenchmarkSize(b *testing.B) {
	const n = 100_000
	s := open(b, b.TempDir(), Options{Durability: persistence.Interval, Logger: quiet})
	fill(b, s, n)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if got, err := s.Size(ctx, 0); got != n || err != nil {
			b.Fatal(got, err)
		}
	}
}

// BenchmarkDiskUsage reports the bytes on disk per entry for 100k entries
// with 10-byte keys and 100 random (incompressible) bytes of value, once
// pebble has flushed and compacted them: B/entry counts every file of the
// store, write-ahead logs kept for recycling included; table-B/entry counts
// the tables, what the entries take once the logs are gone.
func BenchmarkDiskUsage(b *testing.B) {
	for i := 0; i < b.N; i++ {
		total, tables := diskPerEntry(b, 100_000)
		b.ReportMetric(total, "B/entry")
		b.ReportMetric(tables, "table-B/entry")
	}
}

func diskPerEntry(tb testing.TB, n int) (total, tables float64) {
	s := open(tb, tb.TempDir(), Options{Durability: persistence.Interval})
	rng := rand.NewChaCha8([32]byte{})
	batch := make([]persistence.SegmentEntry, 0, 1000)
	for i := 0; i < n; i++ {
		val := make([]byte, 100)
		rng.Read(val)
		batch = append(batch, persistence.SegmentEntry{Segment: i % 256, Entry: cache.Entry{Key: benchKey(int64(i)), Value: val, Meta: immortal}})
		if len(batch) == cap(batch) || i == n-1 {
			if err := s.WriteBatch(ctx, batch, nil); err != nil {
				tb.Fatal(err)
			}
			batch = batch[:0]
		}
	}
	if err := s.db.Flush(); err != nil {
		tb.Fatal(err)
	}
	if err := s.db.Compact(context.Background(), []byte{}, []byte{0xFF, 0xFF, 0xFF}, true); err != nil {
		tb.Fatal(err)
	}
	m := s.db.Metrics()
	return float64(m.DiskSpaceUsage()) / float64(n), float64(m.Total().TablesSize) / float64(n)
}
