package resp

import (
	"bytes"
	"context"
	"encoding/binary"
	"math"
	"time"

	"github.com/hotgrid/hotgrid/cache"
)

// listBody returns the count of a list encoding and the bytes after it.
func listBody(b []byte) (int, []byte) {
	if b == nil {
		return 0, nil
	}
	n, k := binary.Uvarint(b)
	if k <= 0 {
		return 0, nil
	}
	return int(n), b[k:]
}

// nextItem splits the first element off a list body.
func nextItem(b []byte) (item, rest []byte, ok bool) {
	l, k := binary.Uvarint(b)
	if k <= 0 || l > uint64(len(b)-k) {
		return nil, nil, false
	}
	return b[k : k+int(l) : k+int(l)], b[k+int(l):], true
}

// pushed builds the encoding of cur with elems added at the head (in
// argument order, so the last ends first, as LPUSH does) or the tail.
func pushed(dst, cur []byte, elems [][]byte, left bool) []byte {
	n, body := listBody(cur)
	dst = binary.AppendUvarint(dst, uint64(n+len(elems)))
	if left {
		for i := len(elems) - 1; i >= 0; i-- {
			dst = binary.AppendUvarint(dst, uint64(len(elems[i])))
			dst = append(dst, elems[i]...)
		}
		return append(dst, body...)
	}
	dst = append(dst, body...)
	for _, e := range elems {
		dst = binary.AppendUvarint(dst, uint64(len(e)))
		dst = append(dst, e...)
	}
	return dst
}

// cmdPush serves LPUSH, RPUSH, LPUSHX and RPUSHX.
func cmdPush(c *conn, ctx context.Context, args [][]byte) {
	cc, ok := c.db0()
	if !ok {
		return
	}
	left := c.lastCmd[0] == 'l'
	onlyExisting := c.lastCmd[len(c.lastCmd)-1] == 'x'
	n := 0
	if !c.mutate(ctx, cc, args[1], KindList, func(cur []byte, exists bool) ([]byte, bool) {
		if !exists && onlyExisting {
			return nil, false
		}
		c.scratch = pushed(c.scratch[:0], cur, args[2:], left)
		n, _ = listBody(c.scratch)
		return c.scratch, true
	}) {
		return
	}
	c.shrinkScratch()
	c.out.int(int64(n))
	if n > 0 {
		c.srv.signalKey(cc, args[1])
	}
}

// popList removes up to count elements from one end of the list at key;
// it returns them and whether the key held a list. The popped elements
// alias the old stored value, which the cache never modifies. The new
// value is built in the connection's scratch buffer without decoding the
// list, so a pop costs one copy of the list's bytes.
func (c *conn) popList(ctx context.Context, cc cache.Cache, key []byte, left bool, count int) (popped [][]byte, exists, ok bool) {
	bad := false
	ok = c.mutate(ctx, cc, key, KindList, func(cur []byte, ex bool) ([]byte, bool) {
		exists = ex
		if !ex || count <= 0 {
			return nil, false
		}
		n, body := listBody(cur)
		k := min(count, n)
		popped = make([][]byte, 0, k)
		if left {
			rest := body
			for range k {
				item, r, good := nextItem(rest)
				if !good {
					bad = true
					return nil, false
				}
				popped = append(popped, item)
				rest = r
			}
			if n == k {
				return nil, true
			}
			c.scratch = binary.AppendUvarint(c.scratch[:0], uint64(n-k))
			c.scratch = append(c.scratch, rest...)
			return c.scratch, true
		}
		// From the right: record where each element starts.
		offs := c.offs[:0]
		rest := body
		for range n {
			offs = append(offs, len(body)-len(rest))
			_, r, good := nextItem(rest)
			if !good {
				bad = true
				return nil, false
			}
			rest = r
		}
		c.offs = offs
		for i := range k {
			item, _, _ := nextItem(body[offs[n-1-i]:])
			popped = append(popped, item)
		}
		if n == k {
			return nil, true
		}
		c.scratch = binary.AppendUvarint(c.scratch[:0], uint64(n-k))
		c.scratch = append(c.scratch, body[:offs[n-k]]...)
		return c.scratch, true
	})
	c.shrinkScratch()
	if cap(c.offs) > 1<<16 {
		c.offs = nil
	}
	if ok && bad {
		c.out.err(errCorrupt)
		return nil, false, false
	}
	return popped, exists, ok
}

// cmdPop serves LPOP and RPOP with an optional count.
func cmdPop(c *conn, ctx context.Context, args [][]byte) {
	if len(args) > 3 {
		c.out.err(arityError(c.lastCmd))
		return
	}
	cc, ok := c.db0()
	if !ok {
		return
	}
	count := 1
	if len(args) == 3 {
		n, ok := parseInt(args[2])
		if !ok || n < 0 {
			c.out.err(errNotPos)
			return
		}
		count = int(min(n, math.MaxInt32))
	}
	popped, exists, ok := c.popList(ctx, cc, args[1], c.lastCmd[0] == 'l', count)
	if !ok {
		return
	}
	if len(args) == 2 {
		if len(popped) == 0 {
			c.out.null()
		} else {
			c.out.bulk(popped[0])
		}
		return
	}
	if !exists {
		c.out.nullArray()
		return
	}
	c.out.array(len(popped))
	for _, p := range popped {
		c.out.bulk(p)
	}
}

func cmdLLen(c *conn, ctx context.Context, args [][]byte) {
	v, _, ok := c.readKind(ctx, args[1], KindList)
	if ok {
		c.out.int(int64(itemCount(v)))
	}
}

// listRange normalises Redis start/stop indexes for a list of n elements;
// ok is false for an empty range.
func listRange(start, stop int64, n int) (int, int, bool) {
	if start < 0 {
		start += int64(n)
	}
	if stop < 0 {
		stop += int64(n)
	}
	start = max(start, 0)
	if start > stop || start >= int64(n) {
		return 0, 0, false
	}
	stop = min(stop, int64(n)-1)
	return int(start), int(stop), true
}

func cmdLRange(c *conn, ctx context.Context, args [][]byte) {
	start, ok1 := parseInt(args[2])
	stop, ok2 := parseInt(args[3])
	if !ok1 || !ok2 {
		c.out.err(errNotInt)
		return
	}
	v, _, ok := c.readKind(ctx, args[1], KindList)
	if !ok {
		return
	}
	n, body := listBody(v)
	s, e, nonEmpty := listRange(start, stop, n)
	if !nonEmpty {
		c.out.array(0)
		return
	}
	c.out.array(e - s + 1)
	for i := 0; i <= e; i++ {
		item, rest, good := nextItem(body)
		if !good {
			break
		}
		if i >= s {
			c.out.bulk(item)
		}
		body = rest
	}
}

func cmdLIndex(c *conn, ctx context.Context, args [][]byte) {
	idx, ok := parseInt(args[2])
	if !ok {
		c.out.err(errNotInt)
		return
	}
	v, _, ok := c.readKind(ctx, args[1], KindList)
	if !ok {
		return
	}
	n, body := listBody(v)
	if idx < 0 {
		idx += int64(n)
	}
	if idx < 0 || idx >= int64(n) {
		c.out.null()
		return
	}
	for i := int64(0); ; i++ {
		item, rest, good := nextItem(body)
		if !good {
			c.out.null()
			return
		}
		if i == idx {
			c.out.bulk(item)
			return
		}
		body = rest
	}
}

// listEdit decodes the list at key, lets fn change its elements and
// stores the result; fn returns false to leave the list alone.
func (c *conn) listEdit(ctx context.Context, key []byte, fn func(items [][]byte, exists bool) ([][]byte, bool)) bool {
	cc, ok := c.db0()
	if !ok {
		return false
	}
	bad := false
	ok = c.mutate(ctx, cc, key, KindList, func(cur []byte, exists bool) ([]byte, bool) {
		items, good := decodeItems(cur, nil)
		if exists && !good {
			bad = true
			return nil, false
		}
		items, write := fn(items, exists)
		if !write {
			return nil, false
		}
		if len(items) == 0 {
			return nil, true
		}
		return encodeItems(nil, items), true
	})
	if ok && bad {
		c.out.err(errCorrupt)
		return false
	}
	return ok
}

func cmdLSet(c *conn, ctx context.Context, args [][]byte) {
	idx, ok := parseInt(args[2])
	if !ok {
		c.out.err(errNotInt)
		return
	}
	fail := ""
	if !c.listEdit(ctx, args[1], func(items [][]byte, exists bool) ([][]byte, bool) {
		if !exists {
			fail = errNoSuchKey
			return nil, false
		}
		i := idx
		if i < 0 {
			i += int64(len(items))
		}
		if i < 0 || i >= int64(len(items)) {
			fail = errIndexRange
			return nil, false
		}
		items[i] = args[3]
		return items, true
	}) {
		return
	}
	if fail != "" {
		c.out.err(fail)
		return
	}
	c.out.ok()
}

func cmdLRem(c *conn, ctx context.Context, args [][]byte) {
	count, ok := parseInt(args[2])
	if !ok {
		c.out.err(errNotInt)
		return
	}
	removed := int64(0)
	if !c.listEdit(ctx, args[1], func(items [][]byte, exists bool) ([][]byte, bool) {
		if !exists {
			return nil, false
		}
		keep := make([][]byte, 0, len(items))
		if count >= 0 {
			for _, it := range items {
				if bytes.Equal(it, args[3]) && (count == 0 || removed < count) {
					removed++
					continue
				}
				keep = append(keep, it)
			}
		} else {
			for i := len(items) - 1; i >= 0; i-- {
				if bytes.Equal(items[i], args[3]) && removed < -count {
					removed++
					continue
				}
				keep = append(keep, items[i])
			}
			for i, j := 0, len(keep)-1; i < j; i, j = i+1, j-1 {
				keep[i], keep[j] = keep[j], keep[i]
			}
		}
		return keep, removed > 0
	}) {
		return
	}
	c.out.int(removed)
}

func cmdLTrim(c *conn, ctx context.Context, args [][]byte) {
	start, ok1 := parseInt(args[2])
	stop, ok2 := parseInt(args[3])
	if !ok1 || !ok2 {
		c.out.err(errNotInt)
		return
	}
	if !c.listEdit(ctx, args[1], func(items [][]byte, exists bool) ([][]byte, bool) {
		if !exists {
			return nil, false
		}
		s, e, ok := listRange(start, stop, len(items))
		if !ok {
			return nil, true
		}
		return items[s : e+1], true
	}) {
		return
	}
	c.out.ok()
}

func cmdLInsert(c *conn, ctx context.Context, args [][]byte) {
	var before bool
	switch {
	case eq(args[2], "before"):
		before = true
	case eq(args[2], "after"):
	default:
		c.out.err(errSyntax)
		return
	}
	res := int64(0)
	if !c.listEdit(ctx, args[1], func(items [][]byte, exists bool) ([][]byte, bool) {
		if !exists {
			return nil, false
		}
		for i, it := range items {
			if bytes.Equal(it, args[3]) {
				at := i
				if !before {
					at = i + 1
				}
				items = append(items[:at], append([][]byte{args[4]}, items[at:]...)...)
				res = int64(len(items))
				return items, true
			}
		}
		res = -1
		return nil, false
	}) {
		return
	}
	c.out.int(res)
	if res > 0 {
		if cc, err := c.cache(); err == nil {
			c.srv.signalKey(cc, args[1])
		}
	}
}

func cmdLPos(c *conn, ctx context.Context, args [][]byte) {
	rank, count, maxlen := int64(1), int64(-1), int64(0)
	for i := 3; i < len(args); i += 2 {
		if i+1 >= len(args) {
			c.out.err(errSyntax)
			return
		}
		n, ok := parseInt(args[i+1])
		if !ok {
			c.out.err(errNotInt)
			return
		}
		switch {
		case eq(args[i], "rank"):
			if n == 0 || n == math.MinInt64 {
				c.out.err("ERR RANK can't be zero: use 1 to start from the first match, 2 from the second ... or use negative to start from the end of the list")
				return
			}
			rank = n
		case eq(args[i], "count"):
			if n < 0 {
				c.out.err("ERR COUNT can't be negative")
				return
			}
			count = n
		case eq(args[i], "maxlen"):
			if n < 0 {
				c.out.err("ERR MAXLEN can't be negative")
				return
			}
			maxlen = n
		default:
			c.out.err(errSyntax)
			return
		}
	}
	v, exists, ok := c.readKind(ctx, args[1], KindList)
	if !ok {
		return
	}
	items, _ := decodeItems(v, nil)
	if !exists {
		items = nil
	}
	var hits []int64
	want := count
	if count == 0 {
		want = math.MaxInt64
	} else if count < 0 {
		want = 1
	}
	skip := rank
	if skip < 0 {
		skip = -skip
	}
	n := len(items)
	for k := 0; k < n && int64(len(hits)) < want; k++ {
		if maxlen > 0 && int64(k) >= maxlen {
			break
		}
		i := k
		if rank < 0 {
			i = n - 1 - k
		}
		if bytes.Equal(items[i], args[2]) {
			if skip > 1 {
				skip--
				continue
			}
			hits = append(hits, int64(i))
		}
	}
	if count < 0 {
		if len(hits) == 0 {
			c.out.null()
		} else {
			c.out.int(hits[0])
		}
		return
	}
	c.out.array(len(hits))
	for _, h := range hits {
		c.out.int(h)
	}
}

// parseTimeout parses a blocking command's timeout in seconds (a float).
func (c *conn) parseTimeout(b []byte) (time.Duration, bool) {
	f, ok := parseFloat(b)
	if !ok || math.IsInf(f, 0) {
		c.out.err(errTimeout)
		return 0, false
	}
	if f < 0 {
		c.out.err(errNegTimeout)
		return 0, false
	}
	return time.Duration(f * float64(time.Second)), true
}

// block waits until try succeeds (it answers and returns true), the
// timeout passes (0: never) or the client goes away. Inside MULTI it does
// not wait. It answers a timeout with onTimeout.
func (c *conn) block(ctx context.Context, cc cache.Cache, keys [][]byte, timeout time.Duration, try func() bool, onTimeout func()) {
	if try() {
		return
	}
	if c.inExec {
		onTimeout()
		return
	}
	var deadline time.Time
	if timeout > 0 {
		deadline = time.Now().Add(timeout)
	}
	// The keys alias the read buffer, which the wait may refill (only
	// beyond the unread input, so they stay valid).
	c.srv.waiters.add(c, cc.Name(), keys)
	c.blocked.Store(true)
	defer func() {
		c.blocked.Store(false)
		c.srv.waiters.remove(c, cc.Name(), keys)
	}()
	for {
		woken, alive := c.waitWake(deadline)
		if !alive {
			c.quit = true
			return
		}
		if c.unblocked.Swap(false) {
			if c.unblockErr.Swap(false) {
				c.out.err("UNBLOCKED client unblocked via CLIENT UNBLOCK")
			} else {
				onTimeout()
			}
			return
		}
		if !woken {
			onTimeout()
			return
		}
		c.lockShared()
		if try() {
			return
		}
	}
}

// cmdBPop serves BLPOP and BRPOP.
func cmdBPop(c *conn, ctx context.Context, args [][]byte) {
	cc, ok := c.db0()
	if !ok {
		return
	}
	timeout, ok := c.parseTimeout(args[len(args)-1])
	if !ok {
		return
	}
	keys := args[1 : len(args)-1]
	left := c.lastCmd == "blpop"
	c.block(ctx, cc, keys, timeout, func() bool {
		for _, k := range keys {
			popped, _, ok := c.popList(ctx, cc, k, left, 1)
			if !ok {
				return true // error answered
			}
			if len(popped) > 0 {
				c.out.array(2)
				c.out.bulk(k)
				c.out.bulk(popped[0])
				return true
			}
		}
		return false
	}, func() { c.out.nullArray() })
}

func parseSide(b []byte) (left, ok bool) {
	switch {
	case eq(b, "left"):
		return true, true
	case eq(b, "right"):
		return false, true
	}
	return false, false
}

// cmdLMove serves LMOVE, RPOPLPUSH, BLMOVE and BRPOPLPUSH.
func cmdLMove(c *conn, ctx context.Context, args [][]byte) {
	cc, ok := c.db0()
	if !ok {
		return
	}
	src, dst := args[1], args[2]
	fromLeft, toLeft := false, true
	blocking := c.lastCmd[0] == 'b'
	var timeout time.Duration
	switch c.lastCmd {
	case "lmove", "blmove":
		var ok1, ok2 bool
		fromLeft, ok1 = parseSide(args[3])
		toLeft, ok2 = parseSide(args[4])
		if !ok1 || !ok2 {
			c.out.err(errSyntax)
			return
		}
	}
	if blocking {
		var ok bool
		if timeout, ok = c.parseTimeout(args[len(args)-1]); !ok {
			return
		}
	}
	try := func() bool {
		done := true
		c.exclusive(func() {
			// The destination must be a list (or missing) before anything
			// is popped.
			if _, _, ok := c.readKind(ctx, dst, KindList); !ok {
				return
			}
			popped, _, ok := c.popList(ctx, cc, src, fromLeft, 1)
			if !ok {
				return
			}
			if len(popped) == 0 {
				done = false
				return
			}
			if !c.mutate(ctx, cc, dst, KindList, func(cur []byte, exists bool) ([]byte, bool) {
				return pushed(nil, cur, popped, toLeft), true
			}) {
				return
			}
			c.srv.signalKey(cc, dst)
			c.out.bulk(popped[0])
		})
		return done
	}
	if !blocking {
		if !try() {
			c.out.null()
		}
		return
	}
	c.block(ctx, cc, [][]byte{src}, timeout, try, func() { c.out.nullArray() })
}

// cmdLMPop serves LMPOP and BLMPOP:
// [timeout] numkeys key [key ...] LEFT|RIGHT [COUNT count].
func cmdLMPop(c *conn, ctx context.Context, args [][]byte) {
	cc, ok := c.db0()
	if !ok {
		return
	}
	blocking := c.lastCmd == "blmpop"
	i := 1
	var timeout time.Duration
	if blocking {
		if timeout, ok = c.parseTimeout(args[1]); !ok {
			return
		}
		i = 2
	}
	numkeys, ok := parseInt(args[i])
	if !ok || numkeys <= 0 {
		c.out.err("ERR numkeys should be greater than 0")
		return
	}
	if numkeys > int64(len(args)-i-2) {
		c.out.err(errSyntax)
		return
	}
	keys := args[i+1 : i+1+int(numkeys)]
	rest := args[i+1+int(numkeys):]
	left, ok := parseSide(rest[0])
	if !ok {
		c.out.err(errSyntax)
		return
	}
	count := int64(1)
	switch {
	case len(rest) == 1:
	case len(rest) == 3 && eq(rest[1], "count"):
		n, ok := parseInt(rest[2])
		if !ok || n <= 0 {
			c.out.err("ERR count should be greater than 0")
			return
		}
		count = n
	default:
		c.out.err(errSyntax)
		return
	}
	try := func() bool {
		for _, k := range keys {
			popped, _, ok := c.popList(ctx, cc, k, left, int(min(count, math.MaxInt32)))
			if !ok {
				return true
			}
			if len(popped) > 0 {
				c.out.array(2)
				c.out.bulk(k)
				c.out.array(len(popped))
				for _, p := range popped {
					c.out.bulk(p)
				}
				return true
			}
		}
		return false
	}
	if !blocking {
		if !try() {
			c.out.nullArray()
		}
		return
	}
	c.block(ctx, cc, keys, timeout, try, func() { c.out.nullArray() })
}
