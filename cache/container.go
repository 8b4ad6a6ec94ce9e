package cache

import (
	"context"
	"sync"
	"sync/atomic"
	"time"

	"github.com/hotgrid/hotgrid/cache/tinylfu"
	"github.com/hotgrid/hotgrid/config"
	"github.com/hotgrid/hotgrid/hash"
)

// entryOverhead estimates the bytes an entry costs beyond its key and value
// (entry header, map slot, allocation rounding); it weighs entries for
// memory-bounded caches and for the DataMemory statistic.
const entryOverhead = 96

// maxValueLen bounds a value: an entry records lengths in 32 bits.
const maxValueLen = 1<<32 - 1

// segment is the unit of locking: a map from key to entry, keyed by the
// entry's own key bytes (see entry).
type segment struct {
	mu sync.RWMutex
	m  map[string]*entry
	// mortal counts entries that can expire, so that Size can skip the
	// scan when none can.
	mortal int
	ev     Event // scratch for building events under mu
	ctr    counters
	_      [32]byte // keep neighbouring segments' locks off one cache line
}

// container is the in-memory Cache: segmented, with expiration, optional
// eviction, listeners and statistics.
type container struct {
	name     string
	cfg      *config.Cache
	segs     []segment
	versions *Versions
	clock    func() int64
	started  time.Time

	defLifespan int64 // ms, -1 none
	defMaxIdle  int64

	count atomic.Int64 // entries present (live or not yet purged)
	bytes atomic.Int64 // estimated data memory

	lis listeners

	// Eviction: evMu orders every write of a bounded cache with the
	// policy's view of it (lock order: evMu, then one segment at a time).
	bounded  bool
	bySize   bool
	capacity int64
	failFull bool // when-full=EXCEPTION
	evMu     sync.Mutex
	policy   *tinylfu.Policy

	// pers, when the cache has stores, is called under the segment lock
	// on misses and before every change (see Persister).
	pers Persister

	stop     chan struct{}
	stopOnce sync.Once
	wg       sync.WaitGroup
}

// containerOptions are the dependencies of a container.
type containerOptions struct {
	Versions  *Versions
	Clock     func() int64 // Unix ms; nil means the wall clock
	Persister Persister    // nil: memory only
}

func newContainer(cfg *config.Cache, o containerOptions) *container {
	n := cfg.Segments
	if n <= 0 {
		n = 256
	}
	c := &container{
		name:        cfg.Name,
		cfg:         cfg,
		segs:        make([]segment, n),
		versions:    o.Versions,
		clock:       o.Clock,
		started:     time.Now(),
		defLifespan: durMillis(cfg.Expiration.Lifespan),
		defMaxIdle:  durMillis(cfg.Expiration.MaxIdle),
		stop:        make(chan struct{}),
		pers:        o.Persister,
	}
	if c.clock == nil {
		c.clock = func() int64 { return time.Now().UnixMilli() }
	}
	if c.versions == nil {
		c.versions = NewVersions(0)
	}
	for i := range c.segs {
		c.segs[i].m = make(map[string]*entry)
	}
	mem := cfg.Memory
	switch {
	case mem.MaxCount > 0:
		c.bounded, c.capacity = true, mem.MaxCount
	case mem.MaxSize > 0:
		c.bounded, c.bySize, c.capacity = true, true, mem.MaxSize
	}
	if c.bounded {
		switch mem.WhenFull {
		case config.WhenFullManual:
			c.bounded = false
		case config.WhenFullException:
			c.failFull = true
		default:
			c.policy = tinylfu.New(c.capacity)
		}
	}
	if iv := cfg.Expiration.Interval; iv > 0 {
		c.wg.Add(1)
		go c.reaper(iv)
	}
	return c
}

func durMillis(d time.Duration) int64 {
	if d < 0 {
		return -1
	}
	return d.Milliseconds()
}

func (c *container) Name() string          { return c.name }
func (c *container) Config() *config.Cache { return c.cfg }
func (c *container) NumSegments() int      { return len(c.segs) }

// close stops the reaper and closes the stores, passivating what memory
// holds when the configuration says so.
func (c *container) close(ctx context.Context) error {
	c.stopOnce.Do(func() { close(c.stop) })
	c.wg.Wait()
	if c.pers == nil {
		return nil
	}
	return c.pers.Close(ctx, func(fn func(int, Entry) error) error {
		now := c.clock()
		for i := range c.segs {
			s := &c.segs[i]
			s.mu.RLock()
			for k, e := range s.m {
				if e.meta.Mortal() && e.meta.Expired(now) {
					continue
				}
				if err := fn(i, e.export([]byte(k))); err != nil {
					s.mu.RUnlock()
					return err
				}
			}
			s.mu.RUnlock()
		}
		return nil
	})
}

func (c *container) segmentOf(key []byte) (*segment, int32) {
	s, _, h := c.locate(key)
	return s, h
}

// locate returns key's segment, its index and the key's hash.
func (c *container) locate(key []byte) (*segment, int, int32) {
	h := hash.Murmur3(key)
	idx := int((h & 0x7fffffff) / hash.SegmentSize(len(c.segs)))
	return &c.segs[idx], idx, h
}

// lookupOrLoad is lookup followed, on a miss in a cache with stores, by a
// load that puts the stored entry in memory (without events: the entry
// exists already). loaded reports that; the caller then admits the key to
// the eviction policy once the segment is unlocked.
func (c *container) lookupOrLoad(ctx context.Context, s *segment, idx int, key []byte, now int64, evHeld bool) (e *entry, loaded bool, err error) {
	e = c.lookup(s, key, now, evHeld)
	if e != nil || c.pers == nil {
		return e, false, nil
	}
	le, ok, err := c.pers.Load(ctx, idx, key, now)
	if err != nil || !ok {
		return nil, false, err
	}
	e = newEntry(key, le.Value, le.Meta)
	c.install(s, e)
	return e, true, nil
}

// install adds a new entry to s; s.mu is write-locked.
func (c *container) install(s *segment, e *entry) {
	s.m[e.key()] = e
	if e.meta.Mortal() {
		s.mortal++
	}
	c.count.Add(1)
	c.bytes.Add(e.size())
}

// replace puts ne in the place of old, the entry of the same key; s.mu is
// write-locked. The map then holds ne's key bytes (a Go map updates a
// string key on assignment), so nothing keeps old alive but its readers.
func (c *container) replace(s *segment, old, ne *entry) {
	if old.meta.Mortal() {
		s.mortal--
	}
	s.m[ne.key()] = ne
	c.bytes.Add(ne.size() - old.size())
	if ne.meta.Mortal() {
		s.mortal++
	}
}

// admit tells the eviction policy about a key loaded from the stores and
// evicts what it must; evMu is held, no segment lock is.
func (c *container) admit(key []byte, h int32, vlen int) {
	c.account(key, h, vlen, false)
}

// account records a key's new weight in the eviction policy (update: the
// policy already tracks it) and evicts what it must; evMu is held, no
// segment lock is. The policy gets a key string of its own: sharing the
// entry's would keep every value the key ever had alive in the policy.
func (c *container) account(key []byte, h int32, vlen int, update bool) {
	if c.policy == nil {
		return
	}
	wkey := string(key)
	wt := weight(c.bySize, len(key), vlen)
	if update {
		c.evict(c.policy.Update(wkey, policyHash(h), wt))
	} else {
		c.evict(c.policy.Add(wkey, policyHash(h), wt))
	}
}

// preload fills memory from the stores that ask for it, up to the cache's
// bound.
func (c *container) preload(ctx context.Context) error {
	if c.pers == nil {
		return nil
	}
	c.lockWrite()
	defer c.unlockWrite()
	return c.pers.Preload(ctx, c.clock(), func(idx int, e Entry) bool {
		if c.bounded && (!c.bySize && c.count.Load() >= c.capacity || c.bySize && c.bytes.Load() >= c.capacity) {
			return false
		}
		s := &c.segs[idx%len(c.segs)]
		s.mu.Lock()
		if s.m[string(e.Key)] == nil {
			c.install(s, newEntry(e.Key, e.Value, e.Meta))
		}
		s.mu.Unlock()
		if c.policy != nil {
			c.admit(e.Key, hash.Murmur3(e.Key), len(e.Value))
		}
		return true
	})
}

func policyHash(h int32) uint64 { return uint64(uint32(h)) * 0x9E3779B97F4A7C15 }

func weight(bySize bool, klen, vlen int) int64 {
	if !bySize {
		return 1
	}
	return entrySize(klen, vlen)
}

// entrySize estimates the memory an entry takes: what it adds to the
// DataMemory statistic and, in a cache bounded by size, its weight.
func entrySize(klen, vlen int) int64 { return int64(klen) + int64(vlen) + entryOverhead }

// meta builds the metadata of a new write from its options.
func (c *container) meta(w Write, now int64) Metadata {
	m := Metadata{Version: c.versions.Next(), Created: now, LastUsed: now, Lifespan: -1, MaxIdle: -1, Kind: w.Kind, Flags: w.Flags}
	switch {
	case w.Lifespan == ExpiryDefault:
		m.Lifespan = c.defLifespan
	case w.Lifespan > 0:
		m.Lifespan = max(w.Lifespan.Milliseconds(), 1)
	}
	switch {
	case w.MaxIdle == ExpiryDefault:
		m.MaxIdle = c.defMaxIdle
	case w.MaxIdle > 0:
		m.MaxIdle = max(w.MaxIdle.Milliseconds(), 1)
	}
	return m
}

func (c *container) lockWrite() {
	if c.bounded {
		c.evMu.Lock()
	}
}

func (c *container) unlockWrite() {
	if c.bounded {
		c.evMu.Unlock()
	}
}

// notify sends an event to every listener; s.mu is held.
func (c *container) notify(s *segment, t EventType, key []byte, e *entry, prev *entry) {
	ls := c.lis.load()
	if len(ls) == 0 {
		return
	}
	ev := &s.ev
	*ev = Event{Type: t, Key: key, Value: e.value(), Meta: e.meta}
	if prev != nil {
		ev.Prev, ev.PrevMeta = prev.value(), prev.meta
	}
	for _, l := range ls {
		l.OnEvent(ev)
	}
}

// lookup returns the live entry for key, removing it (and firing an expired
// event) if it has expired. s.mu is write-locked; evHeld says whether the
// caller holds evMu.
func (c *container) lookup(s *segment, key []byte, now int64, evHeld bool) *entry {
	e := s.m[string(key)]
	if e == nil {
		return nil
	}
	if e.meta.Mortal() && e.meta.Expired(now) {
		c.deleteLocked(s, key, e)
		c.notify(s, EventExpired, key, e, nil)
		if c.policy != nil {
			c.forget(string(key), evHeld)
		}
		return nil
	}
	return e
}

// deleteLocked removes key from s; s.mu is write-locked.
func (c *container) deleteLocked(s *segment, key []byte, e *entry) {
	delete(s.m, string(key))
	if e.meta.Mortal() {
		s.mortal--
	}
	c.count.Add(-1)
	c.bytes.Add(-e.size())
}

// forget removes key from the eviction policy. Without evMu held (the read
// path) it only tries: the policy tolerates a key it no longer tracks, so a
// missed Remove costs accuracy, never correctness.
func (c *container) forget(key string, evHeld bool) {
	if evHeld {
		c.policy.Remove(key)
		return
	}
	if c.evMu.TryLock() {
		c.policy.Remove(key)
		c.evMu.Unlock()
	}
}

func (c *container) Get(ctx context.Context, key []byte) (Entry, bool, error) {
	s, h := c.segmentOf(key)
	s.mu.RLock()
	e := s.m[string(key)]
	if e == nil {
		s.mu.RUnlock()
		if c.pers != nil {
			return c.getStored(ctx, key, true)
		}
		s.ctr.misses.Add(1)
		return Entry{}, false, nil
	}
	if !e.meta.Mortal() {
		out := e.export(key)
		s.mu.RUnlock()
		s.ctr.hits.Add(1)
		c.access(key, h)
		return out, true, nil
	}
	s.mu.RUnlock()
	// A mortal entry may need removing (expired) or touching (max-idle).
	now := c.clock()
	s.mu.Lock()
	e = c.lookup(s, key, now, false)
	if e == nil {
		s.mu.Unlock()
		s.ctr.misses.Add(1)
		return Entry{}, false, nil
	}
	if e.meta.MaxIdle >= 0 {
		e.meta.LastUsed = now
	}
	out := e.export(key)
	s.mu.Unlock()
	s.ctr.hits.Add(1)
	c.access(key, h)
	return out, true, nil
}

// getStored is the read path after a memory miss in a cache with stores.
func (c *container) getStored(ctx context.Context, key []byte, count bool) (Entry, bool, error) {
	c.lockWrite()
	defer c.unlockWrite()
	s, idx, h := c.locate(key)
	now := c.clock()
	s.mu.Lock()
	e, loaded, err := c.lookupOrLoad(ctx, s, idx, key, now, c.bounded)
	if err != nil || e == nil {
		s.mu.Unlock()
		if count && err == nil {
			s.ctr.misses.Add(1)
		}
		return Entry{}, false, err
	}
	if count && e.meta.MaxIdle >= 0 {
		e.meta.LastUsed = now
	}
	out := e.export(key)
	s.mu.Unlock()
	if count {
		s.ctr.hits.Add(1)
	}
	if loaded {
		c.admit(key, h, len(out.Value))
	}
	return out, true, nil
}

// access records a read in the eviction policy. Reads never wait for the
// policy: under contention the sample is dropped, as Caffeine's read
// buffers drop them.
func (c *container) access(key []byte, h int32) {
	if c.policy == nil {
		return
	}
	if c.evMu.TryLock() {
		c.policy.Access(string(key), policyHash(h))
		c.evMu.Unlock()
	}
}

func (c *container) ContainsKey(ctx context.Context, key []byte) (bool, error) {
	s, _ := c.segmentOf(key)
	s.mu.RLock()
	e := s.m[string(key)]
	ok := e != nil && !(e.meta.Mortal() && e.meta.Expired(c.clock()))
	s.mu.RUnlock()
	if !ok && e == nil && c.pers != nil {
		_, ok, err := c.getStored(ctx, key, false)
		return ok, err
	}
	return ok, nil
}

// writeKind selects what a conditional write requires.
type writeKind int

const (
	writeAlways writeKind = iota
	writeIfAbsent
	writeIfPresent
	writeIfVersion
	writeCompute
)

// write is the single path for every store; it returns the entry that was
// there before (or the current one when the condition failed) and whether
// the write happened.
func (c *container) write(ctx context.Context, key, value []byte, w Write, kind writeKind, version int64, fn ComputeFunc) (Entry, bool, CondResult, error) {
	c.lockWrite()
	defer c.unlockWrite()
	s, idx, h := c.locate(key)
	now := c.clock()
	s.mu.Lock()
	cur, loaded, err := c.lookupOrLoad(ctx, s, idx, key, now, c.bounded)
	if err != nil {
		s.mu.Unlock()
		return Entry{}, false, CondMismatch, err
	}
	if loaded {
		// Admit the loaded key to the policy on every path that does not
		// write it (writing admits it below).
		defer func() {
			if loaded {
				c.admit(key, h, int(cur.vlen))
			}
		}()
	}
	switch kind {
	case writeCompute:
		var old Entry
		if cur != nil {
			old = cur.export(key)
		}
		var action ComputeAction
		value, w, action = fn(old, cur != nil)
		switch {
		case action == ComputeKeep:
			s.mu.Unlock()
			return old, cur != nil, CondMismatch, nil
		case action == ComputeRemove:
			if cur != nil && c.pers != nil {
				if err := c.pers.Delete(ctx, idx, key); err != nil {
					s.mu.Unlock()
					return old, true, CondMismatch, err
				}
			}
			loaded = false
			if cur != nil {
				c.deleteLocked(s, key, cur)
				if !w.SkipListeners {
					c.notify(s, EventRemoved, key, cur, nil)
				}
				s.ctr.removeHits.Add(1)
			}
			s.mu.Unlock()
			if cur != nil && c.policy != nil {
				c.policy.Remove(string(key))
			}
			return Entry{}, false, CondOK, nil
		}
	case writeIfAbsent:
		if cur != nil {
			out := cur.export(key)
			s.mu.Unlock()
			return out, true, CondMismatch, nil
		}
	case writeIfPresent:
		if cur == nil {
			s.mu.Unlock()
			return Entry{}, false, CondAbsent, nil
		}
	case writeIfVersion:
		if cur == nil {
			s.mu.Unlock()
			return Entry{}, false, CondAbsent, nil
		}
		if cur.meta.Version != version {
			out := cur.export(key)
			s.mu.Unlock()
			return out, true, CondMismatch, nil
		}
	}
	if cur == nil && c.failFull && c.count.Load() >= c.capacity {
		s.mu.Unlock()
		return Entry{}, false, CondMismatch, ErrContainerFull
	}
	if uint64(len(value)) > maxValueLen {
		s.mu.Unlock()
		return Entry{}, false, CondMismatch, ErrInvalidRequest
	}
	ne := newEntry(key, value, c.meta(w, now))
	if c.pers != nil {
		if err := c.pers.Store(ctx, idx, ne.export(key)); err != nil {
			s.mu.Unlock()
			return Entry{}, false, CondMismatch, err
		}
	}
	var prev Entry
	existed := cur != nil
	if existed {
		prev = cur.export(key)
		c.replace(s, cur, ne)
		if !w.SkipListeners {
			c.notify(s, EventModified, key, ne, cur)
		}
	} else {
		c.install(s, ne)
		if !w.SkipListeners {
			c.notify(s, EventCreated, key, ne, nil)
		}
	}
	s.mu.Unlock()
	s.ctr.stores.Add(1)
	c.account(key, h, int(ne.vlen), existed && !loaded)
	loaded = false // admitted
	if kind == writeCompute {
		return ne.export(key), true, CondOK, nil
	}
	return prev, true, CondOK, nil
}

// evict removes the policy's victims; evMu is held.
func (c *container) evict(victims []string) {
	for _, k := range victims {
		kb := []byte(k)
		s, idx, _ := c.locate(kb)
		s.mu.Lock()
		if e := s.m[k]; e != nil {
			if c.pers != nil {
				if err := c.pers.Passivate(context.Background(), idx, e.export(kb)); err != nil {
					// Kept in memory: nothing is lost, the bound is
					// exceeded until a later eviction succeeds.
					s.mu.Unlock()
					continue
				}
			}
			c.deleteLocked(s, kb, e)
			s.ctr.evictions.Add(1)
		}
		s.mu.Unlock()
	}
}

func (c *container) Put(ctx context.Context, key, value []byte, w Write) (Entry, bool, error) {
	prev, _, _, err := c.write(ctx, key, value, w, writeAlways, 0, nil)
	return prev, prev.Key != nil, err
}

func (c *container) PutIfAbsent(ctx context.Context, key, value []byte, w Write) (Entry, bool, error) {
	cur, _, res, err := c.write(ctx, key, value, w, writeIfAbsent, 0, nil)
	return cur, err == nil && res == CondMismatch, err
}

func (c *container) Replace(ctx context.Context, key, value []byte, w Write) (Entry, bool, error) {
	prev, done, _, err := c.write(ctx, key, value, w, writeIfPresent, 0, nil)
	return prev, done, err
}

func (c *container) ReplaceIfVersion(ctx context.Context, key, value []byte, version int64, w Write) (Entry, CondResult, error) {
	e, _, res, err := c.write(ctx, key, value, w, writeIfVersion, version, nil)
	return e, res, err
}

func (c *container) Compute(ctx context.Context, key []byte, fn ComputeFunc) (Entry, bool, error) {
	e, exists, _, err := c.write(ctx, key, nil, Write{}, writeCompute, 0, fn)
	if err != nil {
		return Entry{}, false, err
	}
	return e, exists, nil
}

// remove is the single path for deletes.
func (c *container) remove(ctx context.Context, key []byte, w Write, checkVersion bool, version int64) (Entry, CondResult, error) {
	c.lockWrite()
	defer c.unlockWrite()
	s, idx, h := c.locate(key)
	s.mu.Lock()
	cur, loaded, err := c.lookupOrLoad(ctx, s, idx, key, c.clock(), c.bounded)
	if err != nil {
		s.mu.Unlock()
		return Entry{}, CondAbsent, err
	}
	if cur == nil {
		s.mu.Unlock()
		s.ctr.removeMisses.Add(1)
		return Entry{}, CondAbsent, nil
	}
	if checkVersion && cur.meta.Version != version {
		out := cur.export(key)
		s.mu.Unlock()
		if loaded {
			c.admit(key, h, len(out.Value))
		}
		return out, CondMismatch, nil
	}
	out := cur.export(key)
	if c.pers != nil {
		if err := c.pers.Delete(ctx, idx, key); err != nil {
			s.mu.Unlock()
			if loaded {
				c.admit(key, h, len(out.Value))
			}
			return Entry{}, CondAbsent, err
		}
	}
	c.deleteLocked(s, key, cur)
	if !w.SkipListeners {
		c.notify(s, EventRemoved, key, cur, nil)
	}
	s.mu.Unlock()
	s.ctr.removeHits.Add(1)
	if c.policy != nil && !loaded {
		c.policy.Remove(string(key))
	}
	return out, CondOK, nil
}

func (c *container) Remove(ctx context.Context, key []byte, w Write) (Entry, bool, error) {
	e, res, err := c.remove(ctx, key, w, false, 0)
	return e, res == CondOK, err
}

func (c *container) RemoveIfVersion(ctx context.Context, key []byte, version int64, w Write) (Entry, CondResult, error) {
	return c.remove(ctx, key, w, true, version)
}

func (c *container) Size(ctx context.Context) (int64, error) {
	var n int64
	now := c.clock()
	for i := range c.segs {
		s := &c.segs[i]
		s.mu.RLock()
		if s.mortal == 0 {
			n += int64(len(s.m))
		} else {
			for _, e := range s.m {
				if !(e.meta.Mortal() && e.meta.Expired(now)) {
					n++
				}
			}
		}
		s.mu.RUnlock()
		if i%32 == 31 && ctx.Err() != nil {
			return 0, ctx.Err()
		}
	}
	if c.pers != nil {
		return c.pers.Size(ctx, now, n)
	}
	return n, nil
}

func (c *container) Clear(ctx context.Context) error {
	c.lockWrite()
	defer c.unlockWrite()
	for i := range c.segs {
		s := &c.segs[i]
		s.mu.Lock()
		var b int64
		for _, e := range s.m {
			b += e.size()
		}
		c.count.Add(-int64(len(s.m)))
		c.bytes.Add(-b)
		clear(s.m)
		s.mortal = 0
		s.mu.Unlock()
	}
	if c.policy != nil {
		c.policy.Clear()
	}
	if c.pers != nil {
		return c.pers.Clear(ctx)
	}
	return nil
}

func (c *container) Segment(ctx context.Context, seg int, buf []Entry) ([]Entry, error) {
	if seg < 0 || seg >= len(c.segs) {
		return buf, ErrInvalidRequest
	}
	s := &c.segs[seg]
	now := c.clock()
	start := len(buf)
	s.mu.RLock()
	for k, e := range s.m {
		if e.meta.Mortal() && e.meta.Expired(now) {
			continue
		}
		buf = append(buf, e.export([]byte(k)))
	}
	s.mu.RUnlock()
	if c.pers == nil {
		return buf, nil
	}
	// Stored entries that memory does not hold; memory's copy wins.
	inMem := make(map[string]struct{}, len(buf)-start)
	for _, e := range buf[start:] {
		inMem[string(e.Key)] = struct{}{}
	}
	err := c.pers.Publish(ctx, seg, now, func(e Entry) error {
		if _, ok := inMem[string(e.Key)]; !ok {
			buf = append(buf, e)
		}
		return nil
	})
	return buf, err
}

func (c *container) AddListener(l Listener)    { c.lis.add(l) }
func (c *container) RemoveListener(l Listener) { c.lis.remove(l) }

func (c *container) Stats() Stats {
	st := Stats{
		TimeSinceStart: int64(time.Since(c.started).Seconds()),
		Entries:        c.count.Load(),
		DataMemory:     c.bytes.Load(),
	}
	for i := range c.segs {
		st.add(&c.segs[i].ctr)
	}
	st.Retrievals = st.Hits + st.Misses
	return st
}

// ResetStats zeroes the counters.
func (c *container) ResetStats() {
	for i := range c.segs {
		c.segs[i].ctr.reset()
	}
	c.started = time.Now()
}

// reaper purges expired entries every interval, firing expired events.
func (c *container) reaper(interval time.Duration) {
	defer c.wg.Done()
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-c.stop:
			return
		case <-t.C:
			c.purgeExpired()
			if c.pers != nil {
				c.pers.PurgeExpired(context.Background(), c.clock())
			}
		}
	}
}

// purgeExpired removes every expired entry and returns how many.
func (c *container) purgeExpired() int {
	n := 0
	for i := range c.segs {
		s := &c.segs[i]
		s.mu.RLock()
		mortal := s.mortal
		s.mu.RUnlock()
		if mortal == 0 {
			continue
		}
		c.lockWrite()
		now := c.clock()
		s.mu.Lock()
		for k, e := range s.m {
			if e.meta.Mortal() && e.meta.Expired(now) {
				kb := []byte(k)
				c.deleteLocked(s, kb, e)
				c.notify(s, EventExpired, kb, e, nil)
				if c.policy != nil {
					c.policy.Remove(k)
				}
				n++
			}
		}
		s.mu.Unlock()
		c.unlockWrite()
	}
	return n
}

// Versions hands out entry versions unique across the cluster: the high 16
// bits hold the node's id, the low 48 a counter.
type Versions struct {
	base uint64
	ctr  atomic.Uint64
}

// NewVersions returns a generator for node id (0–65535).
func NewVersions(node uint16) *Versions {
	v := &Versions{base: uint64(node) << 48}
	// Start away from zero so that versions stay unique across restarts
	// of the same node within a second's resolution.
	v.ctr.Store(uint64(time.Now().UnixMilli()) & (1<<40 - 1) << 8)
	return v
}

// Next returns a new version.
func (v *Versions) Next() int64 {
	return int64(v.base | (v.ctr.Add(1) & (1<<48 - 1)))
}

// restore puts an entry back as a backup recorded it, metadata included
// (version, creation time, remaining lifespan), through the stores, without
// events. An entry that has expired since is skipped.
func (c *container) restore(ctx context.Context, e Entry) error {
	now := c.clock()
	if e.Meta.Expired(now) {
		return nil
	}
	c.lockWrite()
	defer c.unlockWrite()
	s, idx, h := c.locate(e.Key)
	s.mu.Lock()
	cur, loaded, err := c.lookupOrLoad(ctx, s, idx, e.Key, now, c.bounded)
	if err != nil {
		s.mu.Unlock()
		return err
	}
	if uint64(len(e.Value)) > maxValueLen {
		s.mu.Unlock()
		return ErrInvalidRequest
	}
	ne := newEntry(e.Key, e.Value, e.Meta)
	if c.pers != nil {
		if err := c.pers.Store(ctx, idx, ne.export(e.Key)); err != nil {
			s.mu.Unlock()
			if loaded {
				c.admit(e.Key, h, int(cur.vlen))
			}
			return err
		}
	}
	if cur != nil {
		c.replace(s, cur, ne)
	} else {
		c.install(s, ne)
	}
	s.mu.Unlock()
	s.ctr.stores.Add(1)
	c.account(e.Key, h, int(ne.vlen), cur != nil && !loaded)
	return nil
}
