package httpauth

import (
	"slices"
	"strings"
	"sync"
	"time"
)

// ncWindowSize is how far below the highest nonce count seen a count may
// arrive and still be accepted once, for requests that overtake each other
// (HTTP/2, several connections).
const ncWindowSize = 64

// DefaultReplayCacheSize is the number of nonces whose counts are kept when
// Options.ReplayCacheSize is zero: about 10 MiB at most.
const DefaultReplayCacheSize = 1 << 16

// ncWindow is the nonce counts seen for one nonce: the highest, and a
// bitmap of the ncWindowSize counts at and below it (bit i is top-i).
type ncWindow struct {
	issued int64
	top    uint32
	seen   uint64
}

// replayCache remembers which nonce counts each nonce has authenticated.
// It holds at most max nonces; only requests whose digest verified add
// one, so unauthenticated clients cannot fill it. When it is full it first
// drops expired nonces, then the older half, and raises floor: nonces
// issued at or before floor have lost their history, so they are answered
// as stale and clients move to a fresh nonce without asking their user.
type replayCache struct {
	mu      sync.Mutex
	max     int
	floor   int64
	entries map[string]*ncWindow
}

func newReplayCache(size int) *replayCache {
	return &replayCache{max: size, floor: -1 << 63, entries: make(map[string]*ncWindow)}
}

// use records count nc of nonce, issued at issued. It returns ok when the
// count is new, stale when the nonce's history was evicted.
func (c *replayCache) use(nonce string, issued time.Time, nc uint32, now time.Time, lifetime time.Duration) (ok, stale bool) {
	t := issued.UnixNano()
	c.mu.Lock()
	defer c.mu.Unlock()
	if t <= c.floor {
		return false, true
	}
	w := c.entries[nonce]
	if w == nil {
		if len(c.entries) >= c.max {
			c.evict(now.Add(-lifetime).UnixNano())
			if t <= c.floor {
				return false, true
			}
		}
		// The nonce may be a slice of a large header; keep only its bytes.
		w = &ncWindow{issued: t}
		c.entries[strings.Clone(nonce)] = w
	}
	switch {
	case nc > w.top:
		if d := nc - w.top; d >= ncWindowSize {
			w.seen = 0
		} else {
			w.seen <<= d
		}
		w.seen |= 1
		w.top = nc
		return true, false
	case w.top-nc >= ncWindowSize:
		return false, false
	default:
		bit := uint64(1) << (w.top - nc)
		if w.seen&bit != 0 {
			return false, false
		}
		w.seen |= bit
		return true, false
	}
}

// evict makes room: it drops nonces issued before expired, and if that is
// not enough, the older half, raising floor to the newest one dropped.
func (c *replayCache) evict(expired int64) {
	for k, w := range c.entries {
		if w.issued < expired {
			delete(c.entries, k)
		}
	}
	if len(c.entries) < c.max {
		return
	}
	times := make([]int64, 0, len(c.entries))
	for _, w := range c.entries {
		times = append(times, w.issued)
	}
	slices.Sort(times)
	cut := times[len(times)/2]
	for k, w := range c.entries {
		if w.issued <= cut {
			delete(c.entries, k)
		}
	}
	c.floor = max(c.floor, cut)
}

// evicted reports whether nonces issued at issued have lost their count
// history to eviction.
func (c *replayCache) evicted(issued time.Time) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return issued.UnixNano() <= c.floor
}

// len is the number of nonces held, for tests.
func (c *replayCache) len() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.entries)
}
