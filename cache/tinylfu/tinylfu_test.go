package tinylfu

import (
	"container/list"
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"
)

// hashOf is FNV-1a, standing in for the cache's own key hash.
func hashOf(s string) uint64 {
	x := uint64(14695981039346656037)
	for i := 0; i < len(s); i++ {
		x ^= uint64(s[i])
		x *= 1099511628211
	}
	return x
}

// model is what the cache would hold: every key added and not yet evicted or
// removed, with its weight.
type model map[string]int64

func (m model) add(p *Policy, k string, w int64) {
	m[k] = w
	m.evict(p.Add(k, hashOf(k), w))
}

func (m model) update(p *Policy, k string, w int64) {
	m[k] = w
	m.evict(p.Update(k, hashOf(k), w))
}

func (m model) evict(keys []string) {
	for _, k := range keys {
		delete(m, k)
	}
}

func (m model) weight() (sum int64) {
	for _, w := range m {
		sum += w
	}
	return sum
}

// check verifies the policy's internal structure and that it agrees with m.
func check(t *testing.T, p *Policy, m model) {
	t.Helper()
	var total int64
	live := 0
	for q := range numQueues {
		var w int64
		prev := int32(q)
		for i := p.nodes[q].next; i != int32(q); i = p.nodes[i].next {
			n := &p.nodes[i]
			if n.queue != q || n.prev != prev {
				t.Fatalf("node %d (%q): queue %d prev %d, want queue %d prev %d", i, n.key, n.queue, n.prev, q, prev)
			}
			if j, ok := p.index[n.key]; !ok || j != i {
				t.Fatalf("node %d (%q) indexed as %d, %v", i, n.key, j, ok)
			}
			if mw, ok := m[n.key]; !ok || mw != max(n.weight, 0) {
				t.Fatalf("policy tracks %q weight %d; model has %d, %v", n.key, n.weight, mw, ok)
			}
			w += n.weight
			live++
			prev = i
		}
		if p.nodes[q].prev != prev {
			t.Fatalf("queue %d: sentinel prev %d, want %d", q, p.nodes[q].prev, prev)
		}
		if w != p.queueWeight[q] {
			t.Fatalf("queue %d weighs %d, recorded %d", q, w, p.queueWeight[q])
		}
		total += w
	}
	free := 0
	for i := p.free; i != none; i = p.nodes[i].next {
		if p.nodes[i].queue != freeSlot {
			t.Fatalf("node %d on the free list is in queue %d", i, p.nodes[i].queue)
		}
		free++
	}
	switch {
	case live != p.Len() || live != len(m):
		t.Fatalf("queues hold %d keys, Len %d, model %d", live, p.Len(), len(m))
	case live+free+int(numQueues) != len(p.nodes):
		t.Fatalf("%d live + %d free + sentinels != %d nodes", live, free, len(p.nodes))
	case total != p.Weight() || total != m.weight():
		t.Fatalf("queues weigh %d, Weight %d, model %d", total, p.Weight(), m.weight())
	case p.Weight() > p.Capacity():
		t.Fatalf("weight %d over capacity %d", p.Weight(), p.Capacity())
	case p.queueWeight[protected] > p.protectedMax:
		t.Fatalf("protected weighs %d, max %d", p.queueWeight[protected], p.protectedMax)
	}
}

func TestCapacityByCount(t *testing.T) {
	for _, capacity := range []int64{1, 2, 3, 10, 100, 1000} {
		t.Run(fmt.Sprint(capacity), func(t *testing.T) {
			p, m := New(capacity), model{}
			r := rand.New(rand.NewPCG(1, uint64(capacity)))
			for i := range 30 * capacity {
				k := fmt.Sprint("k", r.Int64N(3*capacity))
				if _, ok := m[k]; ok && i%2 == 0 {
					p.Access(k, hashOf(k))
				} else {
					m.add(p, k, 1)
				}
				if p.Len() > int(capacity) {
					t.Fatalf("step %d: len %d over capacity %d", i, p.Len(), capacity)
				}
			}
			if p.Len() != int(capacity) {
				t.Errorf("len %d, want a full cache of %d", p.Len(), capacity)
			}
			check(t, p, m)
		})
	}
}

func TestCapacityByWeight(t *testing.T) {
	p, m := New(10_000), model{}
	r := rand.New(rand.NewPCG(1, 2))
	for i := range 20_000 {
		k := fmt.Sprint("k", r.IntN(2000))
		if _, ok := m[k]; ok && r.IntN(3) == 0 {
			p.Access(k, hashOf(k))
			continue
		}
		m.add(p, k, r.Int64N(600))
		if p.Weight() > p.Capacity() {
			t.Fatalf("step %d: weight %d over capacity", i, p.Weight())
		}
	}
	check(t, p, m)
	if p.Weight() < p.Capacity()*9/10 {
		t.Errorf("weight %d: evicted far more than needed for %d", p.Weight(), p.Capacity())
	}
}

func TestHeavierThanCapacity(t *testing.T) {
	p, m := New(10), model{}
	if ev := p.Add("big", hashOf("big"), 11); len(ev) != 1 || ev[0] != "big" {
		t.Fatalf("Add evicted %v, want [big]", ev)
	}
	check(t, p, m)

	m.add(p, "a", 3)
	m.add(p, "b", 10-3)
	check(t, p, m)
	if ev := p.Update("a", hashOf("a"), 11); len(ev) != 1 || ev[0] != "a" {
		t.Fatalf("Update evicted %v, want [a]", ev)
	}
	delete(m, "a")
	check(t, p, m)
	if ev := p.Add("b", hashOf("b"), 12); len(ev) != 1 || ev[0] != "b" {
		t.Fatalf("Add of a present key evicted %v, want [b]", ev)
	}
	delete(m, "b")
	check(t, p, m)
	if p.Len() != 0 || p.Weight() != 0 {
		t.Fatalf("len %d weight %d after evicting everything", p.Len(), p.Weight())
	}
}

func TestUpdateGrowsAndEvicts(t *testing.T) {
	p, m := New(100), model{}
	for i := range 100 {
		m.add(p, fmt.Sprint("k", i), 1)
	}
	check(t, p, m)
	m.update(p, "k50", 40)
	check(t, p, m)
	if _, ok := m["k50"]; !ok {
		t.Errorf("updated key evicted; want older keys to make room")
	}
	m.update(p, "k50", 1)
	check(t, p, m)
	if p.Weight() > 100-39 {
		t.Errorf("weight %d after shrinking the heavy key", p.Weight())
	}
}

// TestRandomOperations applies random operations, with random weights, and
// checks the policy against a model after each one.
func TestRandomOperations(t *testing.T) {
	for _, capacity := range []int64{1, 7, 50, 300} {
		t.Run(fmt.Sprint(capacity), func(t *testing.T) {
			p, m := New(capacity), model{}
			r := rand.New(rand.NewPCG(5, uint64(capacity)))
			weight := func() int64 {
				switch r.IntN(50) {
				case 0:
					return capacity + 1 // too heavy
				case 1:
					return -1 // counts as 0
				case 2, 3, 4:
					return 0
				}
				return r.Int64N(capacity/5+1) + 1
			}
			for range 20_000 {
				k := fmt.Sprint("k", r.IntN(int(4*capacity)+4))
				switch op := r.IntN(100); {
				case op < 35:
					m.add(p, k, weight())
				case op < 45:
					m.update(p, k, weight())
				case op < 85:
					p.Access(k, hashOf(k))
				case op < 99:
					delete(m, k)
					p.Remove(k)
				default:
					if r.IntN(10) == 0 {
						clear(m)
						p.Clear()
					}
				}
				for k, w := range m {
					if w < 0 {
						m[k] = 0
					}
				}
				if t.Failed() {
					return
				}
				check(t, p, m)
			}
		})
	}
}

// Hot keys survive a scan of keys each seen once.
func TestScanResistance(t *testing.T) {
	p, m := New(1000), model{}
	hot := func(i int) string { return fmt.Sprint("hot", i) }
	for range 20 {
		for i := range 200 {
			if _, ok := m[hot(i)]; ok {
				p.Access(hot(i), hashOf(hot(i)))
			} else {
				m.add(p, hot(i), 1)
			}
		}
	}
	for i := range 100_000 {
		m.add(p, fmt.Sprint("scan", i), 1)
	}
	kept := 0
	for i := range 200 {
		if _, ok := m[hot(i)]; ok {
			kept++
		}
	}
	t.Logf("%d of 200 hot keys survived a scan of 100k keys", kept)
	if kept < 180 {
		t.Fatalf("only %d of 200 hot keys survived the scan", kept)
	}
	check(t, p, m)
}

// A newcomer seen once loses to main-space keys seen often, so Add returns
// it (or an earlier newcomer) rather than a frequent key.
func TestAdmissionRejectsColdKeys(t *testing.T) {
	p, m := New(100), model{}
	for i := range 100 {
		m.add(p, fmt.Sprint("k", i), 1)
	}
	for range 3 {
		for i := range 100 {
			k := fmt.Sprint("k", i)
			p.Access(k, hashOf(k))
		}
	}
	for i := range 50 {
		k := fmt.Sprint("cold", i)
		ev := p.Add(k, hashOf(k), 1)
		for _, e := range ev {
			// The first newcomer pushes the last frequent key out of the
			// window, where it may lose a tie; after that, newcomers meet
			// each other.
			if i > 0 && !strings.HasPrefix(e, "cold") {
				t.Fatalf("adding %s evicted the frequent key %s", k, e)
			}
		}
		m[k] = 1
		m.evict(ev)
	}
	check(t, p, m)
}

// A warm candidate that does not beat the victim is still admitted now and
// then, so that flooding the victim's hash cannot lock the cache.
func TestWarmCandidatesSometimesAdmitted(t *testing.T) {
	p := New(100)
	p.Add("candidate", hashOf("candidate"), 1)
	p.Add("victim", hashOf("victim"), 1)
	for range 20 {
		p.sketch.increment(hashOf("victim"))
	}
	for range admitWarmFrequency {
		p.sketch.increment(hashOf("candidate"))
	}
	c, v := p.index["candidate"], p.index["victim"]
	admitted := 0
	for range 12800 {
		if p.admit(c, v) {
			admitted++
		}
	}
	if admitted < 50 || admitted > 150 {
		t.Fatalf("warm candidate admitted %d times in 12800, want about 100", admitted)
	}
	p.sketch.reset()
	for range admitWarmFrequency - 1 {
		p.sketch.increment(hashOf("candidate"))
	}
	for range 20 {
		p.sketch.increment(hashOf("victim"))
	}
	for range 1000 {
		if p.admit(c, v) {
			t.Fatal("a cool candidate was admitted against a hotter victim")
		}
	}
}

// lru is a plain LRU cache of keys, the baseline W-TinyLFU should beat.
type lru struct {
	capacity int
	order    *list.List // front is the most recent
	items    map[uint64]*list.Element
}

func newLRU(capacity int) *lru {
	return &lru{capacity: capacity, order: list.New(), items: make(map[uint64]*list.Element)}
}

// get reports a hit, or inserts k, evicting the least recent key.
func (c *lru) get(k uint64) bool {
	if e, ok := c.items[k]; ok {
		c.order.MoveToFront(e)
		return true
	}
	if c.order.Len() >= c.capacity {
		delete(c.items, c.order.Remove(c.order.Back()).(uint64))
	}
	c.items[k] = c.order.PushFront(k)
	return false
}

// hitRatios replays trace through W-TinyLFU and through an LRU of the same
// size.
func hitRatios(size int, trace []uint64) (tiny, plain float64) {
	p, in, ref := New(int64(size)), map[string]bool{}, newLRU(size)
	names := map[uint64]string{}
	var hitsT, hitsL int
	for _, x := range trace {
		k, ok := names[x]
		if !ok {
			k = fmt.Sprint(x)
			names[x] = k
		}
		if in[k] {
			hitsT++
			p.Access(k, hashOf(k))
		} else {
			in[k] = true
			for _, e := range p.Add(k, hashOf(k), 1) {
				delete(in, e)
			}
		}
		if ref.get(x) {
			hitsL++
		}
	}
	n := float64(len(trace))
	return float64(hitsT) / n, float64(hitsL) / n
}

func TestBeatsLRUOnZipf(t *testing.T) {
	const universe = 100_000
	r := rand.New(rand.NewPCG(3, 4))
	z := rand.NewZipf(r, 1.01, 1, universe-1)
	trace := make([]uint64, 200_000)
	for i := range trace {
		// Scatter ranks so that popularity does not follow key order.
		trace[i] = (z.Uint64() * 0x9e3779b97f4a7c15) % (1 << 40)
	}
	for _, size := range []int{100, 1000, 5000} {
		tiny, plain := hitRatios(size, trace)
		t.Logf("Zipf(1.01) over %d keys, %d requests, cache of %d: W-TinyLFU %.3f, LRU %.3f",
			universe, len(trace), size, tiny, plain)
		if tiny < plain+0.03 {
			t.Errorf("cache of %d: W-TinyLFU %.3f does not clearly beat LRU %.3f", size, tiny, plain)
		}
	}
}

func TestSketch(t *testing.T) {
	var s sketch
	s.init(64)
	h := hashOf("a")
	for i := range 20 {
		if got, want := s.estimate(h), uint64(min(i, maxCount)); got != want {
			t.Fatalf("after %d increments estimate %d, want %d", i, got, want)
		}
		s.increment(h)
	}
	s.age()
	if got := s.estimate(h); got != maxCount/2 {
		t.Fatalf("aged estimate %d, want %d", got, maxCount/2)
	}
	// Many other keys may raise a's estimate by collision, never lower it.
	for i := range 200 {
		s.increment(hashOf(fmt.Sprint("k", i)))
	}
	if got := s.estimate(h); got < maxCount/2 {
		t.Fatalf("estimate fell to %d without aging", got)
	}
	s.sampleSize = s.additions + 1
	s.increment(hashOf("b"))
	if s.additions >= s.sampleSize/2+1 {
		t.Fatalf("additions %d not halved by aging", s.additions)
	}
}

func TestSketchGrowsWithKeys(t *testing.T) {
	p := New(1 << 40) // a byte bound: must not size the sketch
	if n := len(p.sketch.words); n > initialSketchWords {
		t.Fatalf("sketch of %d words for a byte-weighted cache", n)
	}
	for range 5 {
		p.Access("hot", hashOf("hot"))
	}
	p.Add("hot", hashOf("hot"), 100)
	for i := range 3 * initialSketchWords {
		k := fmt.Sprint("k", i)
		p.Add(k, hashOf(k), 100)
	}
	if n := len(p.sketch.words); n < p.Len() {
		t.Fatalf("sketch of %d words for %d keys", n, p.Len())
	}
	if f := p.sketch.estimate(hashOf("hot")); f < 6 {
		t.Fatalf("a tracked key's frequency fell to %d when the sketch grew", f)
	}
	if p := NewWithSketchSize(1<<40, 100_000); len(p.sketch.words) < 100_000 {
		t.Fatalf("NewWithSketchSize(_, 100000) made %d words", len(p.sketch.words))
	}
}

func TestClear(t *testing.T) {
	p := New(100)
	for i := range 300 {
		k := fmt.Sprint("k", i)
		p.Add(k, hashOf(k), 1)
		p.Access(k, hashOf(k))
	}
	p.Clear()
	check(t, p, model{})
	if f := p.sketch.estimate(hashOf("k299")); f != 0 {
		t.Fatalf("frequency %d survived Clear", f)
	}
	m := model{}
	for i := range 300 {
		m.add(p, fmt.Sprint("n", i), 1)
	}
	check(t, p, m)
}

// The hot paths allocate nothing: Access, and Add or Update of a known key.
func TestNoAllocations(t *testing.T) {
	p := New(1000)
	keys := make([]string, 1000)
	for i := range keys {
		keys[i] = fmt.Sprint("k", i)
		p.Add(keys[i], hashOf(keys[i]), 1)
	}
	i := 0
	next := func() string { i++; return keys[i%len(keys)] }
	for name, f := range map[string]func(){
		"Access":        func() { k := next(); p.Access(k, hashOf(k)) },
		"Access miss":   func() { p.Access("absent", 42) },
		"Add known key": func() { k := next(); p.Add(k, hashOf(k), 1) },
		"Update":        func() { k := next(); p.Update(k, hashOf(k), 1) },
	} {
		if n := testing.AllocsPerRun(1000, f); n != 0 {
			t.Errorf("%s: %v allocations", name, n)
		}
	}
}

func benchKeys(n int) ([]string, []uint64) {
	keys, hashes := make([]string, n), make([]uint64, n)
	for i := range keys {
		keys[i] = fmt.Sprint("key-", i)
		hashes[i] = hashOf(keys[i])
	}
	return keys, hashes
}

// BenchmarkAccess is a hit on a tracked key.
func BenchmarkAccess(b *testing.B) {
	keys, hashes := benchKeys(10_000)
	p := New(int64(len(keys)))
	for i := range keys {
		p.Add(keys[i], hashes[i], 1)
	}
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		p.Access(keys[i], hashes[i])
		if i++; i == len(keys) {
			i = 0
		}
	}
}

// BenchmarkAddKnown adds keys that are already tracked (an overwrite).
func BenchmarkAddKnown(b *testing.B) {
	keys, hashes := benchKeys(10_000)
	p := New(int64(len(keys)))
	for i := range keys {
		p.Add(keys[i], hashes[i], 1)
	}
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		p.Add(keys[i], hashes[i], 1)
		if i++; i == len(keys) {
			i = 0
		}
	}
}

// BenchmarkAddEvict adds a new key to a full cache each time, so every Add
// evicts one key.
func BenchmarkAddEvict(b *testing.B) {
	keys, hashes := benchKeys(100_000)
	p := New(1000)
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		p.Add(keys[i], hashes[i], 1)
		if i++; i == len(keys) {
			i = 0
		}
	}
}

// BenchmarkSketchIncrement is the frequency sketch alone.
func BenchmarkSketchIncrement(b *testing.B) {
	var s sketch
	s.init(16384)
	_, hashes := benchKeys(10_000)
	i := 0
	for b.Loop() {
		s.increment(hashes[i])
		if i++; i == len(hashes) {
			i = 0
		}
	}
}
