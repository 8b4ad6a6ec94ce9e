// Package tinylfu is a W-TinyLFU admission and eviction policy, the design
// Caffeine (and so Infinispan's bounded caches) uses: a small LRU admission
// window in front of a segmented LRU main space, with a 4-bit count-min
// sketch of access frequencies deciding whether a candidate leaving the
// window may displace the main space's victim.
//
// The policy tracks keys and weights only; the cache stores the entries and
// removes what the policy evicts. A Policy is not safe for concurrent use:
// the cache serialises calls with its own lock.
package tinylfu

// Policy is a W-TinyLFU policy bounded by a total weight.
type Policy struct {
	capacity int64
	weight   int64

	nodes map[string]*node
	// Three LRU lists; the head's prev is the most recent entry.
	window, probation, protected list
	windowMax, protectedMax      int64

	sketch  sketch
	evicted []string
}

type region uint8

const (
	inWindow region = iota
	inProbation
	inProtected
)

type node struct {
	key        string
	hash       uint64
	weight     int64
	region     region
	prev, next *node
}

// list is a circular doubly-linked list with a sentinel.
type list struct {
	root   node
	weight int64
	len    int
}

func (l *list) init() { l.root.next, l.root.prev = &l.root, &l.root }

func (l *list) pushFront(n *node) {
	n.prev = &l.root
	n.next = l.root.next
	l.root.next.prev = n
	l.root.next = n
	l.weight += n.weight
	l.len++
}

func (l *list) remove(n *node) {
	n.prev.next = n.next
	n.next.prev = n.prev
	n.prev, n.next = nil, nil
	l.weight -= n.weight
	l.len--
}

func (l *list) back() *node {
	if l.len == 0 {
		return nil
	}
	return l.root.prev
}

// New returns a policy bounded by capacity: a number of entries when every
// weight is 1, or bytes when weights are sizes.
func New(capacity int64) *Policy {
	return NewWithSketchSize(capacity, capacity)
}

// NewWithSketchSize is New with the frequency sketch sized for an expected
// number of entries, for byte-weighted caches whose capacity is not a count.
func NewWithSketchSize(capacity, expectedEntries int64) *Policy {
	if capacity < 1 {
		capacity = 1
	}
	p := &Policy{capacity: capacity, nodes: make(map[string]*node)}
	p.window.init()
	p.probation.init()
	p.protected.init()
	p.windowMax = max(capacity/100, 1)
	p.protectedMax = (capacity - p.windowMax) * 8 / 10
	p.sketch.init(min(max(expectedEntries, 16), 1<<24))
	return p
}

// Len returns the number of tracked keys.
func (p *Policy) Len() int { return len(p.nodes) }

// Weight returns the total weight tracked.
func (p *Policy) Weight() int64 { return p.weight }

// Capacity returns the bound.
func (p *Policy) Capacity() int64 { return p.capacity }

// Access records a hit on key.
func (p *Policy) Access(key string, hash uint64) {
	p.sketch.increment(hash)
	n := p.nodes[key]
	if n == nil {
		return
	}
	switch n.region {
	case inWindow:
		p.window.remove(n)
		p.window.pushFront(n)
	case inProbation:
		// A second hit promotes to the protected segment; its overflow
		// goes back to probation.
		p.probation.remove(n)
		n.region = inProtected
		p.protected.pushFront(n)
		for p.protected.weight > p.protectedMax && p.protected.len > 1 {
			d := p.protected.back()
			p.protected.remove(d)
			d.region = inProbation
			p.probation.pushFront(d)
		}
	case inProtected:
		p.protected.remove(n)
		p.protected.pushFront(n)
	}
}

// Add records a new key and returns the keys to evict, which may include the
// new key itself. The returned slice is reused by the next call.
func (p *Policy) Add(key string, hash uint64, weight int64) []string {
	if n := p.nodes[key]; n != nil {
		return p.Update(key, hash, weight)
	}
	p.evicted = p.evicted[:0]
	p.sketch.increment(hash)
	if weight > p.capacity {
		return append(p.evicted, key)
	}
	n := &node{key: key, hash: hash, weight: weight, region: inWindow}
	p.nodes[key] = n
	p.window.pushFront(n)
	p.weight += weight
	p.rebalance()
	return p.evicted
}

// Update changes a present key's weight and returns the keys to evict.
func (p *Policy) Update(key string, hash uint64, weight int64) []string {
	p.evicted = p.evicted[:0]
	n := p.nodes[key]
	if n == nil {
		return p.Add(key, hash, weight)
	}
	if weight > p.capacity {
		p.removeNode(n)
		return append(p.evicted, key)
	}
	p.sketch.increment(hash)
	delta := weight - n.weight
	l := p.listOf(n.region)
	l.remove(n)
	n.weight = weight
	l.pushFront(n)
	p.weight += delta
	p.rebalance()
	return p.evicted
}

// Remove forgets key.
func (p *Policy) Remove(key string) {
	if n := p.nodes[key]; n != nil {
		p.removeNode(n)
	}
}

// Clear forgets every key and the frequency history.
func (p *Policy) Clear() {
	clear(p.nodes)
	p.window.init()
	p.probation.init()
	p.protected.init()
	p.window.weight, p.window.len = 0, 0
	p.probation.weight, p.probation.len = 0, 0
	p.protected.weight, p.protected.len = 0, 0
	p.weight = 0
	p.sketch.reset()
}

func (p *Policy) listOf(r region) *list {
	switch r {
	case inWindow:
		return &p.window
	case inProbation:
		return &p.probation
	}
	return &p.protected
}

func (p *Policy) removeNode(n *node) {
	p.listOf(n.region).remove(n)
	delete(p.nodes, n.key)
	p.weight -= n.weight
}

func (p *Policy) evict(n *node) {
	p.removeNode(n)
	p.evicted = append(p.evicted, n.key)
}

// rebalance moves window overflow into the main space, where each candidate
// competes with the probation victim, until the total weight fits.
func (p *Policy) rebalance() {
	for p.window.weight > p.windowMax && p.window.len > 1 {
		c := p.window.back()
		p.window.remove(c)
		c.region = inProbation
		p.probation.pushFront(c)
		if p.weight <= p.capacity {
			continue
		}
		victim := p.probation.back()
		if victim == c {
			// Probation holds only the candidate: compete with protected.
			victim = p.protected.back()
		}
		if victim == nil {
			continue
		}
		if p.admit(c, victim) {
			p.evict(victim)
		} else {
			p.evict(c)
		}
	}
	// Still over (heavy entries, or everything in the window): evict in
	// LRU order from probation, then protected, then the window.
	for p.weight > p.capacity {
		v := p.probation.back()
		if v == nil {
			v = p.protected.back()
		}
		if v == nil {
			v = p.window.back()
		}
		if v == nil {
			return
		}
		p.evict(v)
	}
}

// admit decides whether candidate c may replace victim v: by estimated
// frequency, with a small random admission for warm candidates so that an
// attacker cannot pin the victim by flooding its hash.
func (p *Policy) admit(c, v *node) bool {
	cf, vf := p.sketch.estimate(c.hash), p.sketch.estimate(v.hash)
	if cf > vf {
		return true
	}
	if cf <= 5 {
		return false
	}
	// Pseudo-random from the candidate's hash and the sketch's clock.
	return (c.hash^uint64(p.sketch.additions)*0x9E3779B97F4A7C15)>>59 == 0
}

// sketch is a count-min sketch of 4-bit counters, four rows packed in
// uint64 words, halved every sampleSize increments so that old popularity
// fades.
type sketch struct {
	table      []uint64
	mask       uint64
	additions  int
	sampleSize int
}

func (s *sketch) init(entries int64) {
	width := uint64(1)
	for width < uint64(entries) {
		width <<= 1
	}
	s.table = make([]uint64, width)
	s.mask = width - 1
	s.sampleSize = int(10 * width)
	s.additions = 0
}

func (s *sketch) reset() {
	clear(s.table)
	s.additions = 0
}

var seeds = [4]uint64{0xc3a5c85c97cb3127, 0xb492b66fbe98f273, 0x9ae16a3b2f90404f, 0xcbf29ce484222325}

// slot returns the word index and the nibble shift of row i for hash h.
func (s *sketch) slot(h uint64, i int) (uint64, uint) {
	x := (h + seeds[i]) * seeds[(i+1)&3]
	x ^= x >> 32
	idx := x & s.mask
	// Each word holds 16 counters; row i uses counters 4i..4i+3.
	shift := uint((x>>20)&3+uint64(i)*4) * 4
	return idx, shift
}

func (s *sketch) increment(h uint64) {
	added := false
	for i := 0; i < 4; i++ {
		idx, shift := s.slot(h, i)
		if (s.table[idx]>>shift)&0xf < 15 {
			s.table[idx] += 1 << shift
			added = true
		}
	}
	if added {
		s.additions++
		if s.additions >= s.sampleSize {
			s.age()
		}
	}
}

func (s *sketch) estimate(h uint64) uint64 {
	m := uint64(15)
	for i := 0; i < 4; i++ {
		idx, shift := s.slot(h, i)
		m = min(m, (s.table[idx]>>shift)&0xf)
	}
	return m
}

// age halves every counter.
func (s *sketch) age() {
	for i, w := range s.table {
		s.table[i] = (w >> 1) & 0x7777777777777777
	}
	s.additions /= 2
}
