// Package tinylfu is the eviction policy of bounded caches: W-TinyLFU, the
// design Caffeine (and so Infinispan) uses.
//
// New keys enter a small LRU admission window (1% of the capacity). Keys
// leaving the window become candidates for the main space, a segmented LRU
// of a probation segment (20%) and a protected segment (80%) that keys reach
// by being hit while on probation. When the cache is over its bound, each
// candidate competes with the probation segment's least recent key, and the
// one a count-min sketch of recent access frequencies deems less popular is
// evicted. The window lets bursts of new keys build up frequency; the sketch
// keeps one-hit wonders from flushing keys that are used again and again.
//
// A Policy tracks keys, weights and frequencies only; the cache stores the
// entries and removes the keys the policy returns. A Policy is not safe for
// concurrent use: the cache serialises every call with its own lock.
package tinylfu

// Queues, which are also the node indices of their list sentinels.
const (
	window uint8 = iota
	probation
	protected
	numQueues
	freeSlot = numQueues // marks a node on the free list
)

// none is the nil node index.
const none int32 = -1

// admitWarmFrequency is the estimated frequency from which a candidate that
// merely ties or loses to the victim is still admitted now and then. Without
// it an attacker who floods the victim's hash (or a victim that is
// legitimately hot but colliding) could keep every warm candidate out.
const admitWarmFrequency = 6

// node is one tracked key. Nodes live in one slice and link by index, so a
// new key costs no allocation once the slice has grown, and the garbage
// collector sees one object rather than one per key.
type node struct {
	key        string
	hash       uint64
	weight     int64
	prev, next int32 // next is the more recent neighbour
	queue      uint8
}

// Policy is a W-TinyLFU policy bounded by a total weight. Its methods must
// not be called concurrently.
type Policy struct {
	capacity     int64
	windowMax    int64
	protectedMax int64
	weight       int64
	queueWeight  [numQueues]int64

	// nodes[0:numQueues] are the sentinels of circular lists; a sentinel's
	// next is its queue's least recent node and its prev the most recent.
	nodes []node
	index map[string]int32
	free  int32 // head of the free list, chained through next

	sketch sketch
	// growSketch is whether the sketch follows the number of keys; false
	// once it has reached maxSketchWords.
	growSketch bool
	rng        uint64

	evicted []string
}

// New returns a policy bounded by capacity: a count of entries when every
// weight is 1, or bytes when weights are sizes. The frequency sketch starts
// small and grows with the number of tracked keys, so a byte capacity does
// not size it.
func New(capacity int64) *Policy {
	return NewWithSketchSize(capacity, min(capacity, initialSketchWords))
}

// NewWithSketchSize is New with the frequency sketch sized up front for
// expectedEntries keys; it still grows if more keys are tracked.
func NewWithSketchSize(capacity, expectedEntries int64) *Policy {
	capacity = max(capacity, 1)
	p := &Policy{
		capacity:  capacity,
		windowMax: max(capacity/100, 1),
		index:     make(map[string]int32),
		nodes:     make([]node, numQueues),
		free:      none,
	}
	p.protectedMax = (capacity - p.windowMax) * 8 / 10
	p.resetQueues()
	p.sketch.init(expectedEntries)
	p.growSketch = len(p.sketch.words) < maxSketchWords
	return p
}

func (p *Policy) resetQueues() {
	p.nodes = p.nodes[:numQueues]
	for q := range int32(numQueues) {
		p.nodes[q] = node{prev: q, next: q, queue: uint8(q)}
	}
	p.queueWeight = [numQueues]int64{}
	p.weight = 0
	p.free = none
}

// Len returns the number of tracked keys.
func (p *Policy) Len() int { return len(p.index) }

// Weight returns the total weight of the tracked keys.
func (p *Policy) Weight() int64 { return p.weight }

// Capacity returns the bound on Weight.
func (p *Policy) Capacity() int64 { return p.capacity }

// Access records a hit on key: its frequency grows and it becomes the most
// recent key of its segment, moving from probation to protected. A key the
// policy does not track only counts towards the frequency sketch.
func (p *Policy) Access(key string, hash uint64) {
	p.sketch.increment(hash)
	if i, ok := p.index[key]; ok {
		p.touch(i)
	}
}

// Add records a new key of the given weight and returns the keys to evict:
// possibly the new key itself, when it loses the admission contest or weighs
// more than the capacity. Adding a key already tracked is Update. Negative
// weights count as 0.
//
// The returned slice is reused: it is valid only until the next call.
func (p *Policy) Add(key string, hash uint64, weight int64) (evicted []string) {
	if i, ok := p.index[key]; ok {
		return p.update(i, hash, weight)
	}
	p.evicted = p.evicted[:0]
	weight = max(weight, 0)
	p.sketch.increment(hash)
	if weight > p.capacity {
		return append(p.evicted, key)
	}
	i := p.alloc()
	p.nodes[i] = node{key: key, hash: hash, weight: weight}
	p.index[key] = i
	p.push(window, i)
	p.weight += weight
	if p.growSketch && int64(len(p.index)) > int64(len(p.sketch.words)) {
		p.enlargeSketch()
	}
	p.evict()
	return p.evicted
}

// Update changes the weight of a tracked key, counts as a hit on it, and
// returns the keys to evict (the key itself if it now weighs more than the
// capacity). Updating a key the policy does not track is Add.
//
// The returned slice is reused: it is valid only until the next call.
func (p *Policy) Update(key string, hash uint64, weight int64) (evicted []string) {
	if i, ok := p.index[key]; ok {
		return p.update(i, hash, weight)
	}
	return p.Add(key, hash, weight)
}

func (p *Policy) update(i int32, hash uint64, weight int64) []string {
	p.evicted = p.evicted[:0]
	weight = max(weight, 0)
	if weight > p.capacity {
		p.evicted = append(p.evicted, p.nodes[i].key)
		p.remove(i)
		return p.evicted
	}
	p.sketch.increment(hash)
	n := &p.nodes[i]
	delta := weight - n.weight
	n.weight = weight
	p.queueWeight[n.queue] += delta
	p.weight += delta
	p.touch(i)
	p.evict()
	return p.evicted
}

// Remove forgets key, after an explicit removal or an expiration. Keys the
// policy does not track are ignored. The sketch keeps the key's frequency.
func (p *Policy) Remove(key string) {
	if i, ok := p.index[key]; ok {
		p.remove(i)
	}
}

// Clear forgets every key and all frequency history.
func (p *Policy) Clear() {
	clear(p.index)
	clear(p.nodes[numQueues:]) // drop the key strings
	p.resetQueues()
	p.sketch.reset()
	p.evicted = p.evicted[:0]
}

// touch moves node i to the most recent end of its segment, promoting it
// from probation to protected.
func (p *Policy) touch(i int32) {
	n := &p.nodes[i]
	switch n.queue {
	case window:
		p.unlink(i)
		p.push(window, i)
	case probation:
		p.unlink(i)
		if n.weight > p.protectedMax {
			// Too heavy to protect: stays on probation.
			p.push(probation, i)
			return
		}
		p.push(protected, i)
		p.demoteProtected()
	case protected:
		p.unlink(i)
		p.push(protected, i)
		p.demoteProtected() // an Update may have made it heavier
	}
}

// demoteProtected moves the least recent protected keys back to probation,
// where they face eviction again, until the protected segment fits.
func (p *Policy) demoteProtected() {
	for p.queueWeight[protected] > p.protectedMax {
		d := p.first(protected)
		if d == none {
			return
		}
		p.unlink(d)
		p.push(probation, d)
	}
}

// evict restores the bounds: window overflow becomes main-space candidates,
// then while the total weight exceeds the capacity each candidate competes
// with the probation victim, the least recent key, and the less frequent
// one goes.
func (p *Policy) evict() {
	candidate := none
	for p.queueWeight[window] > p.windowMax {
		c := p.first(window)
		p.unlink(c)
		p.push(probation, c)
		if candidate == none {
			candidate = c
		}
	}
	if p.weight <= p.capacity {
		return
	}
	// Candidates sit at the recent end of probation, in the order they left
	// the window; the victim pointer walks up from the least recent end.
	victim := p.first(probation)
	for p.weight > p.capacity {
		switch {
		case victim == none:
			// Probation is exhausted (everything is protected or in the
			// window): fall back to plain LRU order.
			v := p.first(protected)
			if v == none {
				v = p.first(window)
			}
			if v == none {
				return
			}
			p.drop(v)
		case p.nodes[victim].weight == 0:
			// Evicting a weightless key would not help.
			victim = p.after(victim)
		case candidate == none:
			v := victim
			victim = p.after(v)
			p.drop(v)
		case p.nodes[candidate].weight == 0:
			candidate = p.after(candidate)
		case candidate == victim:
			// Only candidates remain: evict them oldest first.
			v := victim
			victim = p.after(v)
			candidate = victim
			p.drop(v)
		case p.admit(candidate, victim):
			v := victim
			victim = p.after(v)
			candidate = p.after(candidate)
			p.drop(v)
		default:
			c := candidate
			candidate = p.after(c)
			p.drop(c)
		}
	}
}

// admit reports whether candidate c should replace victim v in the main
// space: yes if it is more frequent, and, against hash flooding, with
// probability 1/128 if it is merely warm.
func (p *Policy) admit(c, v int32) bool {
	cf := p.sketch.estimate(p.nodes[c].hash)
	vf := p.sketch.estimate(p.nodes[v].hash)
	if cf > vf {
		return true
	}
	if cf < admitWarmFrequency {
		return false
	}
	// A cheap random stream: the state folds in each candidate's hash, so an
	// attacker who does not know the history cannot predict it.
	p.rng = mix(p.rng + p.nodes[c].hash + 0x9e3779b97f4a7c15)
	return p.rng>>57 == 0
}

// drop evicts node i.
func (p *Policy) drop(i int32) {
	p.evicted = append(p.evicted, p.nodes[i].key)
	p.remove(i)
}

func (p *Policy) remove(i int32) {
	n := &p.nodes[i]
	p.unlink(i)
	p.weight -= n.weight
	delete(p.index, n.key)
	*n = node{next: p.free, queue: freeSlot}
	p.free = i
}

func (p *Policy) alloc() int32 {
	if i := p.free; i != none {
		p.free = p.nodes[i].next
		return i
	}
	p.nodes = append(p.nodes, node{})
	return int32(len(p.nodes) - 1)
}

// push makes node i the most recent of queue q.
func (p *Policy) push(q uint8, i int32) {
	s := int32(q)
	last := p.nodes[s].prev
	n := &p.nodes[i]
	n.prev, n.next, n.queue = last, s, q
	p.nodes[last].next = i
	p.nodes[s].prev = i
	p.queueWeight[q] += n.weight
}

func (p *Policy) unlink(i int32) {
	n := &p.nodes[i]
	p.nodes[n.prev].next = n.next
	p.nodes[n.next].prev = n.prev
	p.queueWeight[n.queue] -= n.weight
}

// first returns the least recent node of queue q, or none.
func (p *Policy) first(q uint8) int32 {
	if i := p.nodes[q].next; i != int32(q) {
		return i
	}
	return none
}

// after returns the next more recent node in i's queue, or none.
func (p *Policy) after(i int32) int32 {
	if j := p.nodes[i].next; j >= int32(numQueues) {
		return j
	}
	return none
}

// enlargeSketch doubles the sketch once more keys are tracked than it has
// words, carrying over the frequencies of the tracked keys (the history of
// keys no longer present is lost, which only matters briefly).
func (p *Policy) enlargeSketch() {
	old := p.sketch
	p.sketch.init(int64(len(old.words)) * 2)
	if len(p.sketch.words) >= maxSketchWords {
		p.growSketch = false
	}
	for i := int(numQueues); i < len(p.nodes); i++ {
		if n := &p.nodes[i]; n.queue != freeSlot {
			f := old.estimate(n.hash)
			p.sketch.raise(n.hash, f)
			p.sketch.additions += int64(f)
		}
	}
}
