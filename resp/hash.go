package resp

import (
	"context"
	"math"
	"math/rand/v2"
	"strconv"
)

// hashMap is a decoded hash: fields and values alternate in kv, which
// alias the stored encoding or the command's arguments.
type hashMap struct {
	kv  [][]byte
	idx map[string]int // field -> position in kv, built for large hashes
}

func decodeHash(b []byte) (hashMap, bool) {
	if b == nil {
		return hashMap{}, true
	}
	items, ok := decodeItems(b, nil)
	if !ok || len(items)%2 != 0 {
		return hashMap{}, false
	}
	// The count of a hash is the number of pairs, stored as such.
	return hashMap{kv: items}, true
}

// decodeItems counts items, so a hash stores 2×pairs as its count; the
// count is read back with hashLen.
func hashLen(b []byte) int { return itemCount(b) / 2 }

func (h *hashMap) find(f []byte) int {
	if h.idx == nil && len(h.kv) > 32 {
		h.idx = make(map[string]int, len(h.kv)/2)
		for i := 0; i < len(h.kv); i += 2 {
			h.idx[string(h.kv[i])] = i
		}
	}
	if h.idx != nil {
		if i, ok := h.idx[string(f)]; ok {
			return i
		}
		return -1
	}
	for i := 0; i < len(h.kv); i += 2 {
		if string(h.kv[i]) == string(f) {
			return i
		}
	}
	return -1
}

// set sets f to v and reports whether f is new.
func (h *hashMap) set(f, v []byte) bool {
	if i := h.find(f); i >= 0 {
		h.kv[i+1] = v
		return false
	}
	h.kv = append(h.kv, f, v)
	if h.idx != nil {
		h.idx[string(f)] = len(h.kv) - 2
	}
	return true
}

func (h *hashMap) del(f []byte) bool {
	i := h.find(f)
	if i < 0 {
		return false
	}
	last := len(h.kv) - 2
	if i != last {
		h.kv[i], h.kv[i+1] = h.kv[last], h.kv[last+1]
		if h.idx != nil {
			h.idx[string(h.kv[i])] = i
		}
	}
	if h.idx != nil {
		delete(h.idx, string(f))
	}
	h.kv = h.kv[:last]
	return true
}

func (h *hashMap) encode(dst []byte) []byte {
	if len(h.kv) == 0 {
		return nil
	}
	return encodeItems(dst, h.kv)
}

func cmdHSet(c *conn, ctx context.Context, args [][]byte) {
	if len(args)%2 != 0 {
		c.out.err(arityError(c.lastCmd))
		return
	}
	cc, ok := c.db0()
	if !ok {
		return
	}
	added := 0
	bad := false
	if !c.mutate(ctx, cc, args[1], KindHash, func(cur []byte, exists bool) ([]byte, bool) {
		h, ok := decodeHash(cur)
		if !ok {
			bad = true
			return nil, false
		}
		for i := 2; i < len(args); i += 2 {
			if h.set(args[i], args[i+1]) {
				added++
			}
		}
		return h.encode(nil), true
	}) {
		return
	}
	switch {
	case bad:
		c.out.err(errCorrupt)
	case c.lastCmd == "hmset":
		c.out.ok()
	default:
		c.out.int(int64(added))
	}
}

func cmdHSetNX(c *conn, ctx context.Context, args [][]byte) {
	cc, ok := c.db0()
	if !ok {
		return
	}
	added := false
	bad := false
	if !c.mutate(ctx, cc, args[1], KindHash, func(cur []byte, exists bool) ([]byte, bool) {
		h, ok := decodeHash(cur)
		if !ok {
			bad = true
			return nil, false
		}
		if h.find(args[2]) >= 0 {
			return nil, false
		}
		h.set(args[2], args[3])
		added = true
		return h.encode(nil), true
	}) {
		return
	}
	switch {
	case bad:
		c.out.err(errCorrupt)
	case added:
		c.out.int(1)
	default:
		c.out.int(0)
	}
}

// readHash reads a hash for a read-only command; ok is false if a reply
// was already written.
func (c *conn) readHash(ctx context.Context, key []byte) (hashMap, bool) {
	v, _, ok := c.readKind(ctx, key, KindHash)
	if !ok {
		return hashMap{}, false
	}
	h, ok := decodeHash(v)
	if !ok {
		c.out.err(errCorrupt)
	}
	return h, ok
}

func cmdHGet(c *conn, ctx context.Context, args [][]byte) {
	h, ok := c.readHash(ctx, args[1])
	if !ok {
		return
	}
	if i := h.find(args[2]); i >= 0 {
		c.out.bulk(h.kv[i+1])
	} else {
		c.out.null()
	}
}

func cmdHMGet(c *conn, ctx context.Context, args [][]byte) {
	h, ok := c.readHash(ctx, args[1])
	if !ok {
		return
	}
	c.out.array(len(args) - 2)
	for _, f := range args[2:] {
		if i := h.find(f); i >= 0 {
			c.out.bulk(h.kv[i+1])
		} else {
			c.out.null()
		}
	}
}

func cmdHDel(c *conn, ctx context.Context, args [][]byte) {
	cc, ok := c.db0()
	if !ok {
		return
	}
	n := 0
	bad := false
	if !c.mutate(ctx, cc, args[1], KindHash, func(cur []byte, exists bool) ([]byte, bool) {
		if !exists {
			return nil, false
		}
		h, ok := decodeHash(cur)
		if !ok {
			bad = true
			return nil, false
		}
		for _, f := range args[2:] {
			if h.del(f) {
				n++
			}
		}
		return h.encode(nil), n > 0
	}) {
		return
	}
	if bad {
		c.out.err(errCorrupt)
		return
	}
	c.out.int(int64(n))
}

func cmdHLen(c *conn, ctx context.Context, args [][]byte) {
	v, _, ok := c.readKind(ctx, args[1], KindHash)
	if ok {
		c.out.int(int64(hashLen(v)))
	}
}

func cmdHExists(c *conn, ctx context.Context, args [][]byte) {
	h, ok := c.readHash(ctx, args[1])
	if ok {
		c.out.int(b2i(h.find(args[2]) >= 0))
	}
}

func b2i(b bool) int64 {
	if b {
		return 1
	}
	return 0
}

func cmdHKeys(c *conn, ctx context.Context, args [][]byte) { hashList(c, ctx, args, true, false) }
func cmdHVals(c *conn, ctx context.Context, args [][]byte) { hashList(c, ctx, args, false, true) }
func cmdHGetAll(c *conn, ctx context.Context, args [][]byte) {
	hashList(c, ctx, args, true, true)
}

func hashList(c *conn, ctx context.Context, args [][]byte, keys, vals bool) {
	h, ok := c.readHash(ctx, args[1])
	if !ok {
		return
	}
	n := len(h.kv) / 2
	if keys && vals {
		c.out.mapLen(n)
	} else {
		c.out.array(n)
	}
	for i := 0; i < len(h.kv); i += 2 {
		if keys {
			c.out.bulk(h.kv[i])
		}
		if vals {
			c.out.bulk(h.kv[i+1])
		}
	}
}

func cmdHStrlen(c *conn, ctx context.Context, args [][]byte) {
	h, ok := c.readHash(ctx, args[1])
	if !ok {
		return
	}
	if i := h.find(args[2]); i >= 0 {
		c.out.int(int64(len(h.kv[i+1])))
	} else {
		c.out.int(0)
	}
}

func cmdHIncrBy(c *conn, ctx context.Context, args [][]byte) {
	cc, ok := c.db0()
	if !ok {
		return
	}
	delta, ok := parseInt(args[3])
	if !ok {
		c.out.err(errNotInt)
		return
	}
	var res int64
	var fail string
	if !c.mutate(ctx, cc, args[1], KindHash, func(cur []byte, exists bool) ([]byte, bool) {
		h, ok := decodeHash(cur)
		if !ok {
			fail = errCorrupt
			return nil, false
		}
		var v int64
		if i := h.find(args[2]); i >= 0 {
			n, ok := parseInt(h.kv[i+1])
			if !ok {
				fail = "ERR hash value is not an integer"
				return nil, false
			}
			v = n
		}
		if (delta > 0 && v > math.MaxInt64-delta) || (delta < 0 && v < math.MinInt64-delta) {
			fail = errOverflow
			return nil, false
		}
		res = v + delta
		h.set(args[2], strconv.AppendInt(nil, res, 10))
		return h.encode(nil), true
	}) {
		return
	}
	if fail != "" {
		c.out.err(fail)
		return
	}
	c.out.int(res)
}

func cmdHIncrByFloat(c *conn, ctx context.Context, args [][]byte) {
	cc, ok := c.db0()
	if !ok {
		return
	}
	delta, ok := parseFloat(args[3])
	if !ok {
		c.out.err(errNotFloat)
		return
	}
	var res []byte
	var fail string
	if !c.mutate(ctx, cc, args[1], KindHash, func(cur []byte, exists bool) ([]byte, bool) {
		h, ok := decodeHash(cur)
		if !ok {
			fail = errCorrupt
			return nil, false
		}
		var v float64
		if i := h.find(args[2]); i >= 0 {
			f, ok := parseFloat(h.kv[i+1])
			if !ok {
				fail = "ERR hash value is not a float"
				return nil, false
			}
			v = f
		}
		v += delta
		if math.IsNaN(v) || math.IsInf(v, 0) {
			fail = "ERR increment would produce NaN or Infinity"
			return nil, false
		}
		res = strconv.AppendFloat(nil, v, 'f', -1, 64)
		h.set(args[2], res)
		return h.encode(nil), true
	}) {
		return
	}
	if fail != "" {
		c.out.err(fail)
		return
	}
	c.out.bulk(res)
}

func cmdHRandField(c *conn, ctx context.Context, args [][]byte) {
	if len(args) > 4 || (len(args) == 4 && !eq(args[3], "withvalues")) {
		c.out.err(errSyntax)
		return
	}
	var count int64
	hasCount := len(args) >= 3
	if hasCount {
		n, ok := parseInt(args[2])
		if !ok {
			c.out.err(errNotInt)
			return
		}
		count = n
	}
	withValues := len(args) == 4
	h, ok := c.readHash(ctx, args[1])
	if !ok {
		return
	}
	n := len(h.kv) / 2
	if !hasCount {
		if n == 0 {
			c.out.null()
			return
		}
		c.out.bulk(h.kv[2*rand.IntN(n)])
		return
	}
	picks := randomPicks(n, count)
	if withValues && c.out.resp3() {
		c.out.array(len(picks))
	} else if withValues {
		c.out.array(2 * len(picks))
	} else {
		c.out.array(len(picks))
	}
	for _, i := range picks {
		if withValues && c.out.resp3() {
			c.out.array(2)
		}
		c.out.bulk(h.kv[2*i])
		if withValues {
			c.out.bulk(h.kv[2*i+1])
		}
	}
}

// randomPicks returns indexes into n elements as Redis' random-member
// commands choose them: count >= 0 distinct elements (at most n), count < 0
// |count| elements that may repeat.
func randomPicks(n int, count int64) []int {
	if n == 0 || count == 0 {
		return nil
	}
	if count < 0 {
		k := min(-count, 1<<24)
		out := make([]int, k)
		for i := range out {
			out[i] = rand.IntN(n)
		}
		return out
	}
	if count >= int64(n) {
		out := make([]int, n)
		for i := range out {
			out[i] = i
		}
		return out
	}
	perm := rand.Perm(n)
	return perm[:count]
}

func cmdHScan(c *conn, ctx context.Context, args [][]byte) {
	cur, ok := c.parseCursor(args[2])
	if !ok {
		return
	}
	o, ok := c.parseScanOpts(args[3:], false)
	if !ok {
		return
	}
	h, ok := c.readHash(ctx, args[1])
	if !ok {
		return
	}
	n := len(h.kv) / 2
	var idx []int
	i := int(min(cur, uint64(n)))
	end := min(i+int(o.count), n)
	for ; i < end; i++ {
		if o.match == nil || globMatch(o.match, h.kv[2*i], false) {
			idx = append(idx, i)
		}
	}
	next := 0
	if end < n {
		next = end
	}
	c.out.array(2)
	c.out.bulkInt(int64(next))
	if o.noValue {
		c.out.array(len(idx))
	} else {
		c.out.array(2 * len(idx))
	}
	for _, i := range idx {
		c.out.bulk(h.kv[2*i])
		if !o.noValue {
			c.out.bulk(h.kv[2*i+1])
		}
	}
}
