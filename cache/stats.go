package cache

import "sync/atomic"

// Stats is a snapshot of a cache's statistics, named as Hot Rod reports them.
type Stats struct {
	TimeSinceStart int64 // seconds
	Entries        int64 // currentNumberOfEntries
	Stores         int64
	Retrievals     int64
	Hits           int64
	Misses         int64
	RemoveHits     int64
	RemoveMisses   int64
	Evictions      int64
	// DataMemory is the estimated bytes held by entries.
	DataMemory int64
}

// counters are per-segment so that concurrent operations on different
// segments do not share cache lines.
type counters struct {
	stores, hits, misses, removeHits, removeMisses, evictions atomic.Int64
	_                                                         [16]byte
}

func (s *Stats) add(c *counters) {
	s.Stores += c.stores.Load()
	s.Hits += c.hits.Load()
	s.Misses += c.misses.Load()
	s.RemoveHits += c.removeHits.Load()
	s.RemoveMisses += c.removeMisses.Load()
	s.Evictions += c.evictions.Load()
}

func (c *counters) reset() {
	c.stores.Store(0)
	c.hits.Store(0)
	c.misses.Store(0)
	c.removeHits.Store(0)
	c.removeMisses.Store(0)
	c.evictions.Store(0)
}
