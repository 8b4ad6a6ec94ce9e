package hotrod

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"sync"

	"github.com/hotgrid/hotgrid/cache"
	"github.com/hotgrid/hotgrid/hotrod/wire"
)

// emptyValueConverter is the filter the Java client names to iterate keys
// only: every value comes back as an empty array.
const emptyValueConverter = "org.infinispan.server.hotrod.HotRodServer$ToEmptyBytesKeyValueFilterConverter"

// iteration is the server side of a client's entry iteration: it walks the
// requested segments, one segment snapshot at a time.
type iteration struct {
	mu       sync.Mutex
	cache    cache.Cache
	segments []int // segments not yet loaded, in order
	cur      []cache.Entry
	curSeg   int // -1 when no segment is loaded
	pos      int
	batch    int
	metadata bool
	// keysOnly sends empty values, for the Java client's keySet().
	keysOnly  bool
	keyType   string
	valueType string
}

// iterations is the server's registry of open iterations.
type iterations struct {
	mu sync.Mutex
	m  map[string]*iteration
}

func (it *iterations) add(i *iteration) string {
	var b [16]byte
	rand.Read(b[:])
	id := hex.EncodeToString(b[:])
	it.mu.Lock()
	it.m[id] = i
	it.mu.Unlock()
	return id
}

func (it *iterations) get(id []byte) *iteration {
	it.mu.Lock()
	defer it.mu.Unlock()
	return it.m[string(id)]
}

func (it *iterations) remove(id string) bool {
	it.mu.Lock()
	defer it.mu.Unlock()
	_, ok := it.m[id]
	delete(it.m, id)
	return ok
}

func (c *conn) iterationStart(ctx context.Context, cc cache.Cache) {
	r := &c.req
	keysOnly := false
	if r.filterSet {
		if string(r.filterName) != emptyValueConverter {
			c.fail(wire.StatusServerError, "ISPN006016: Iteration filter factory '"+string(r.filterName)+"' not found in server")
			return
		}
		keysOnly = true
	}
	n := cc.NumSegments()
	it := &iteration{
		cache:     cc,
		curSeg:    -1,
		batch:     int(r.count),
		metadata:  r.metadata,
		keysOnly:  keysOnly,
		keyType:   r.keyType.Name,
		valueType: r.valueType.Name,
	}
	if it.batch <= 0 {
		it.batch = 1000
	}
	for s := 0; s < n; s++ {
		// A java.util.BitSet byte array: bit s is byte s/8, bit s%8.
		if r.allSegments || (s/8 < len(r.segments) && r.segments[s/8]&(1<<(s%8)) != 0) {
			it.segments = append(it.segments, s)
		}
	}
	id := c.srv.iterations.add(it)
	c.iterIDs = append(c.iterIDs, id)
	b := c.out.lock()
	b = c.header(b, wire.StatusSuccess, cc)
	b = wire.AppendString(b, id)
	c.out.unlock(b)
}

func (c *conn) iterationNext(ctx context.Context, cc cache.Cache) {
	it := c.srv.iterations.get(c.req.iterationID)
	if it == nil {
		c.status(cc, wire.StatusInvalidIteration)
		return
	}
	it.mu.Lock()
	defer it.mu.Unlock()
	var finished []byte
	batch := make([]cache.Entry, 0, min(it.batch, 1024))
	for len(batch) < it.batch {
		if it.pos >= len(it.cur) {
			if it.curSeg >= 0 {
				finished = setBit(finished, it.curSeg)
				it.curSeg = -1
			}
			if len(it.segments) == 0 {
				break
			}
			it.curSeg = it.segments[0]
			it.segments = it.segments[1:]
			var err error
			it.cur, err = it.cache.Segment(ctx, it.curSeg, it.cur[:0])
			it.pos = 0
			if err != nil {
				c.failErr(err)
				return
			}
			continue
		}
		batch = append(batch, it.cur[it.pos])
		it.pos++
	}
	// A segment whose last entry went out in this batch is finished too.
	if it.curSeg >= 0 && it.pos >= len(it.cur) {
		finished = setBit(finished, it.curSeg)
		it.curSeg = -1
	}
	cfg := it.cache.Config()
	b := c.out.lock()
	b = c.header(b, wire.StatusSuccess, cc)
	b = wire.AppendBytes(b, finished)
	b = wire.AppendVInt(b, int32(len(batch)))
	if len(batch) > 0 && c.req.version >= wire.Version24 {
		b = wire.AppendVInt(b, 1) // projections: the plain value
	}
	for i := range batch {
		e := &batch[i]
		if c.req.version >= wire.Version25 {
			if it.metadata {
				b = append(b, 1)
				b = appendMeta(b, &e.Meta)
			} else {
				b = append(b, 0)
			}
		}
		b = appendOut(b, e.Key, cfg.KeyMediaType, it.keyType)
		if it.keysOnly {
			b = append(b, 0)
		} else {
			b = appendOut(b, e.Value, cfg.ValueMediaType, it.valueType)
		}
	}
	c.out.unlock(b)
}

// setBit sets bit n in a java.util.BitSet-style little-endian byte array.
func setBit(b []byte, n int) []byte {
	for len(b) <= n/8 {
		b = append(b, 0)
	}
	b[n/8] |= 1 << (n % 8)
	return b
}

func (c *conn) iterationEnd(cc cache.Cache) {
	id := string(c.req.iterationID)
	if !c.srv.iterations.remove(id) {
		c.status(cc, wire.StatusInvalidIteration)
		return
	}
	for i, x := range c.iterIDs {
		if x == id {
			c.iterIDs = append(c.iterIDs[:i], c.iterIDs[i+1:]...)
			break
		}
	}
	c.status(cc, wire.StatusSuccess)
}
