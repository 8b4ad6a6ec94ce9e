package tinylfu

import (
	"fmt"
	"math/rand/v2"
	"testing"
)

func h(s string) uint64 {
	x := uint64(14695981039346656037)
	for i := 0; i < len(s); i++ {
		x ^= uint64(s[i])
		x *= 1099511628211
	}
	return x
}

// model is a policy-independent record of what the cache holds.
func apply(m map[string]int64, p *Policy, key string, w int64) {
	m[key] = w
	for _, k := range p.Add(key, h(key), w) {
		delete(m, k)
	}
}

func TestCapacityByCount(t *testing.T) {
	p := New(100)
	m := map[string]int64{}
	for i := 0; i < 10000; i++ {
		apply(m, p, fmt.Sprint("k", i), 1)
		if p.Len() > 100 || p.Weight() > 100 {
			t.Fatalf("len %d weight %d over capacity", p.Len(), p.Weight())
		}
	}
	if len(m) != p.Len() {
		t.Fatalf("model holds %d, policy %d", len(m), p.Len())
	}
}

func TestCapacityByWeight(t *testing.T) {
	p := NewWithSketchSize(10_000, 100)
	m := map[string]int64{}
	r := rand.New(rand.NewPCG(1, 2))
	for i := 0; i < 5000; i++ {
		apply(m, p, fmt.Sprint("k", i), int64(r.IntN(500)+1))
		if p.Weight() > 10_000 {
			t.Fatalf("weight %d over capacity", p.Weight())
		}
	}
	var sum int64
	for _, w := range m {
		sum += w
	}
	if sum != p.Weight() {
		t.Fatalf("model weight %d, policy %d", sum, p.Weight())
	}
}

func TestTooHeavyIsEvictedAtOnce(t *testing.T) {
	p := New(10)
	if ev := p.Add("big", h("big"), 11); len(ev) != 1 || ev[0] != "big" || p.Len() != 0 {
		t.Fatalf("evicted %v, len %d", ev, p.Len())
	}
}

// Hot keys survive a scan of one-hit wonders.
func TestScanResistance(t *testing.T) {
	p := New(1000)
	present := map[string]bool{}
	add := func(k string) {
		present[k] = true
		for _, e := range p.Add(k, h(k), 1) {
			delete(present, e)
		}
	}
	for round := 0; round < 20; round++ {
		for i := 0; i < 200; i++ {
			k := fmt.Sprint("hot", i)
			if present[k] {
				p.Access(k, h(k))
			} else {
				add(k)
			}
		}
	}
	for i := 0; i < 100_000; i++ {
		add(fmt.Sprint("scan", i))
	}
	kept := 0
	for i := 0; i < 200; i++ {
		if present[fmt.Sprint("hot", i)] {
			kept++
		}
	}
	if kept < 180 {
		t.Fatalf("only %d of 200 hot keys survived the scan", kept)
	}
}

// hitRatio replays trace through W-TinyLFU and through a reference LRU of
// the same size.
func hitRatio(t *testing.T, cacheSize int, trace []uint64) (tiny, plain float64) {
	p := New(int64(cacheSize))
	in := map[string]bool{}
	lastUse := map[string]int{}
	var hitsT, hitsL int
	for i, x := range trace {
		k := fmt.Sprint(x)
		if in[k] {
			hitsT++
			p.Access(k, h(k))
		} else {
			in[k] = true
			for _, e := range p.Add(k, h(k), 1) {
				delete(in, e)
			}
		}
		if _, ok := lastUse[k]; ok {
			hitsL++
		} else if len(lastUse) >= cacheSize {
			// Evict the least recently used (linear scan: fine for a test).
			oldK, oldT := "", i+1
			for kk, tt := range lastUse {
				if tt < oldT {
					oldK, oldT = kk, tt
				}
			}
			delete(lastUse, oldK)
		}
		lastUse[k] = i
	}
	return float64(hitsT) / float64(len(trace)), float64(hitsL) / float64(len(trace))
}

func TestBeatsLRUOnZipf(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	z := rand.NewZipf(r, 1.01, 1, 100_000)
	trace := make([]uint64, 60_000)
	for i := range trace {
		trace[i] = z.Uint64()
	}
	tiny, plain := hitRatio(t, 500, trace)
	t.Logf("hit ratio on Zipf(1.01), 500 of 100k keys: W-TinyLFU %.3f, LRU %.3f", tiny, plain)
	if tiny <= plain {
		t.Fatalf("W-TinyLFU %.3f did not beat LRU %.3f", tiny, plain)
	}
}

func TestRandomOperationsKeepInvariants(t *testing.T) {
	p := New(50)
	m := map[string]int64{}
	r := rand.New(rand.NewPCG(5, 6))
	for i := 0; i < 20000; i++ {
		k := fmt.Sprint("k", r.IntN(200))
		switch r.IntN(5) {
		case 0, 1:
			apply(m, p, k, 1)
		case 2:
			if _, ok := m[k]; ok {
				p.Access(k, h(k))
			}
		case 3:
			delete(m, k)
			p.Remove(k)
		case 4:
			if r.IntN(100) == 0 {
				clear(m)
				p.Clear()
			}
		}
		if len(m) != p.Len() || int64(len(m)) != p.Weight() || p.Len() > 50 {
			t.Fatalf("step %d: model %d, policy len %d weight %d", i, len(m), p.Len(), p.Weight())
		}
	}
}

func BenchmarkAccess(b *testing.B) {
	p := New(10000)
	keys := make([]string, 10000)
	for i := range keys {
		keys[i] = fmt.Sprint("k", i)
		p.Add(keys[i], h(keys[i]), 1)
	}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		k := keys[i%len(keys)]
		p.Access(k, uint64(i)*0x9E3779B97F4A7C15)
	}
}

func BenchmarkAddEvict(b *testing.B) {
	p := New(1000)
	keys := make([]string, 100000)
	for i := range keys {
		keys[i] = fmt.Sprint("k", i)
	}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		k := keys[i%len(keys)]
		p.Add(k, uint64(i%len(keys))*0x9E3779B97F4A7C15, 1)
	}
}
