package sqlstore

import (
	"fmt"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/hotgrid/hotgrid/cache"
	"github.com/hotgrid/hotgrid/persistence"
)

// Benchmarks against the test PostgreSQL (HOTGRID_TEST_POSTGRES), with
// 100-byte values: one round trip and one commit per Write.

var benchValue = []byte(strings.Repeat("v", 100))

func benchKey(i int) []byte { return fmt.Appendf(nil, "key-%012d", i) }

func BenchmarkWrite(b *testing.B) {
	s := open(b, Options{})
	ctx := testCtx(b)
	i := 0
	for b.Loop() {
		if err := s.Write(ctx, i%256, cache.Entry{Key: benchKey(i), Value: benchValue, Meta: immortal}); err != nil {
			b.Fatal(err)
		}
		i++
	}
}

// BenchmarkWriteParallel shows what concurrent writers (the cache's
// segments) get from the connection pool.
func BenchmarkWriteParallel(b *testing.B) {
	s := open(b, Options{})
	ctx := testCtx(b)
	var n atomic.Int64
	b.SetParallelism(4)
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			i := int(n.Add(1))
			if err := s.Write(ctx, i%256, cache.Entry{Key: benchKey(i), Value: benchValue, Meta: immortal}); err != nil {
				b.Error(err)
				return
			}
		}
	})
}

// BenchmarkWriteBatch writes 100 entries per transaction; ns/op is per
// batch.
func BenchmarkWriteBatch100(b *testing.B) {
	s := open(b, Options{})
	ctx := testCtx(b)
	w := make([]persistence.SegmentEntry, 100)
	i := 0
	for b.Loop() {
		for j := range w {
			w[j] = persistence.SegmentEntry{Segment: i % 256, Entry: cache.Entry{Key: benchKey(i), Value: benchValue, Meta: immortal}}
			i++
		}
		if err := s.WriteBatch(ctx, w, nil); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkLoad(b *testing.B) {
	s := open(b, Options{})
	ctx := testCtx(b)
	const n = 10000
	w := make([]persistence.SegmentEntry, 0, n)
	for i := range n {
		w = append(w, persistence.SegmentEntry{Segment: i % 256, Entry: cache.Entry{Key: benchKey(i), Value: benchValue, Meta: immortal}})
	}
	if err := s.WriteBatch(ctx, w, nil); err != nil {
		b.Fatal(err)
	}
	i := 0
	for b.Loop() {
		if _, ok, err := s.Load(ctx, i%256, benchKey(i%n), 0); !ok || err != nil {
			b.Fatal(ok, err)
		}
		i++
	}
}

// BenchmarkPublish pages through 10 000 entries; ns/op is per entry.
func BenchmarkPublish(b *testing.B) {
	s := open(b, Options{})
	ctx := testCtx(b)
	const n = 10000
	w := make([]persistence.SegmentEntry, 0, n)
	for i := range n {
		w = append(w, persistence.SegmentEntry{Segment: i % 256, Entry: cache.Entry{Key: benchKey(i), Value: benchValue, Meta: immortal}})
	}
	if err := s.WriteBatch(ctx, w, nil); err != nil {
		b.Fatal(err)
	}
	seen := 0
	for b.Loop() {
		if err := s.Publish(ctx, nil, 0, func(int, cache.Entry) error { seen++; return nil }); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(seen), "ns/entry")
}
