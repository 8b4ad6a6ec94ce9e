package resp

import (
	"bytes"
	"context"
	"math"
	"strconv"
	"time"

	"github.com/hotgrid/hotgrid/cache"
)

// maxStringSize is Redis' proto-max-bulk-len default, the limit SETRANGE
// and APPEND enforce.
const maxStringSize = 512 << 20

// cacheErr answers a failure of the cache.
func (c *conn) cacheErr(err error) {
	c.out.err(c.errorReply(err))
}

// db returns the selected database's cache, answering the error if there
// is none.
func (c *conn) db0() (cache.Cache, bool) {
	cc, err := c.cache()
	if err != nil {
		c.out.err(sanitize(err.Error()))
		return nil, false
	}
	return cc, true
}

func cmdGet(c *conn, ctx context.Context, args [][]byte) {
	cc, ok := c.db0()
	if !ok {
		return
	}
	e, found, err := cc.Get(ctx, args[1])
	switch {
	case err != nil:
		c.cacheErr(err)
	case !found:
		c.out.null()
	case e.Meta.Kind != KindString:
		c.out.err(errWrongType)
	default:
		c.out.bulk(e.Value)
	}
}

// expiry is a parsed expiration option.
type expiry struct {
	set     bool  // an expiration was given
	keep    bool  // KEEPTTL
	persist bool  // PERSIST (GETEX)
	ms      int64 // lifespan in ms when set; <= 0 means already expired
}

// write returns the cache.Write for a fresh value with this expiry.
func (x expiry) write(kind uint8) cache.Write {
	if x.set {
		return cache.Write{Lifespan: time.Duration(x.ms) * time.Millisecond, MaxIdle: cache.ExpiryNever, Kind: kind}
	}
	return cache.Write{Lifespan: cache.ExpiryDefault, MaxIdle: cache.ExpiryDefault, Kind: kind}
}

// parseExpiry parses the value of EX, PX, EXAT or PXAT (opt, lower case)
// into a lifespan relative to now. It answers the error itself.
func (c *conn) parseExpiry(opt string, v []byte, cmd string) (int64, bool) {
	n, ok := parseInt(v)
	if !ok {
		c.out.err(errNotInt)
		return 0, false
	}
	invalid := func() (int64, bool) {
		c.out.err("ERR invalid expire time in '" + cmd + "' command")
		return 0, false
	}
	if n <= 0 {
		return invalid()
	}
	switch opt {
	case "ex", "exat":
		if n > math.MaxInt64/1000 {
			return invalid()
		}
		n *= 1000
	}
	switch opt {
	case "exat", "pxat":
		n -= nowMillis()
		if n <= 0 {
			return 0, true // in the past: the key is deleted
		}
	}
	return min(n, math.MaxInt64/int64(time.Millisecond)), true
}

func nowMillis() int64 { return time.Now().UnixMilli() }

func cmdSet(c *conn, ctx context.Context, args [][]byte) {
	cc, ok := c.db0()
	if !ok {
		return
	}
	key, val := args[1], args[2]
	var nx, xx, get bool
	var x expiry
	for i := 3; i < len(args); i++ {
		a := args[i]
		switch {
		case eq(a, "nx") && !xx:
			nx = true
		case eq(a, "xx") && !nx:
			xx = true
		case eq(a, "get"):
			get = true
		case eq(a, "keepttl") && !x.set:
			x.keep = true
		case (eq(a, "ex") || eq(a, "px") || eq(a, "exat") || eq(a, "pxat")) && !x.set && !x.keep && i+1 < len(args):
			ms, ok := c.parseExpiry(string(lower(c.namebuf[:0], a)), args[i+1], "set")
			if !ok {
				return
			}
			x.set, x.ms = true, ms
			i++
		default:
			c.out.err(errSyntax)
			return
		}
	}
	expired := x.set && x.ms <= 0
	if !get && !x.keep && !expired {
		var err error
		var existed bool
		switch {
		case nx:
			_, existed, err = cc.PutIfAbsent(ctx, key, val, x.write(KindString))
			existed = !existed
		case xx:
			_, existed, err = cc.Replace(ctx, key, val, x.write(KindString))
		default:
			_, _, err = cc.Put(ctx, key, val, x.write(KindString))
			existed = true
		}
		switch {
		case err != nil:
			c.cacheErr(err)
		case existed:
			c.out.ok()
			c.srv.signalKey(cc, key)
		default:
			c.out.null()
		}
		return
	}
	// GET, KEEPTTL or an expiration in the past: one atomic step.
	var old []byte
	var hadOld, wrong, done bool
	_, _, err := cc.Compute(ctx, key, func(cur cache.Entry, exists bool) ([]byte, cache.Write, cache.ComputeAction) {
		if exists && get && cur.Meta.Kind != KindString {
			wrong = true
			return nil, cache.Write{}, cache.ComputeKeep
		}
		if exists {
			old, hadOld = append([]byte(nil), cur.Value...), true
		}
		if (nx && exists) || (xx && !exists) {
			return nil, cache.Write{}, cache.ComputeKeep
		}
		done = true
		if expired {
			return nil, cache.Write{}, cache.ComputeRemove
		}
		w := x.write(KindString)
		if x.keep && exists {
			w = keepWrite(&cur.Meta, KindString)
		}
		return val, w, cache.ComputeSet
	})
	switch {
	case err != nil:
		c.cacheErr(err)
	case wrong:
		c.out.err(errWrongType)
	case get && hadOld:
		c.out.bulk(old)
	case get:
		c.out.null()
	case done:
		c.out.ok()
	default:
		c.out.null()
	}
	if done {
		c.srv.signalKey(cc, key)
	}
}

func cmdSetNX(c *conn, ctx context.Context, args [][]byte) {
	cc, ok := c.db0()
	if !ok {
		return
	}
	_, existed, err := cc.PutIfAbsent(ctx, args[1], args[2], cache.DefaultWrite)
	switch {
	case err != nil:
		c.cacheErr(err)
	case existed:
		c.out.int(0)
	default:
		c.out.int(1)
	}
}

func cmdSetEX(c *conn, ctx context.Context, args [][]byte) { setex(c, ctx, args, "ex", "setex") }

func cmdPSetEX(c *conn, ctx context.Context, args [][]byte) { setex(c, ctx, args, "px", "psetex") }

func setex(c *conn, ctx context.Context, args [][]byte, unit, name string) {
	cc, ok := c.db0()
	if !ok {
		return
	}
	ms, ok := c.parseExpiry(unit, args[2], name)
	if !ok {
		return
	}
	x := expiry{set: true, ms: ms}
	if _, _, err := cc.Put(ctx, args[1], args[3], x.write(KindString)); err != nil {
		c.cacheErr(err)
		return
	}
	c.out.ok()
}

func cmdGetSet(c *conn, ctx context.Context, args [][]byte) {
	cmdSet(c, ctx, [][]byte{args[0], args[1], args[2], []byte("GET")})
}

func cmdGetDel(c *conn, ctx context.Context, args [][]byte) {
	cc, ok := c.db0()
	if !ok {
		return
	}
	var old []byte
	var found, wrong bool
	_, _, err := cc.Compute(ctx, args[1], func(cur cache.Entry, exists bool) ([]byte, cache.Write, cache.ComputeAction) {
		if !exists {
			return nil, cache.Write{}, cache.ComputeKeep
		}
		if cur.Meta.Kind != KindString {
			wrong = true
			return nil, cache.Write{}, cache.ComputeKeep
		}
		old, found = cur.Value, true
		return nil, cache.Write{}, cache.ComputeRemove
	})
	switch {
	case err != nil:
		c.cacheErr(err)
	case wrong:
		c.out.err(errWrongType)
	case found:
		c.out.bulk(old)
	default:
		c.out.null()
	}
}

func cmdGetEx(c *conn, ctx context.Context, args [][]byte) {
	cc, ok := c.db0()
	if !ok {
		return
	}
	var x expiry
	for i := 2; i < len(args); i++ {
		a := args[i]
		switch {
		case eq(a, "persist") && !x.set && !x.persist:
			x.persist = true
		case (eq(a, "ex") || eq(a, "px") || eq(a, "exat") || eq(a, "pxat")) && !x.set && !x.persist && i+1 < len(args):
			ms, ok := c.parseExpiry(string(lower(c.namebuf[:0], a)), args[i+1], "getex")
			if !ok {
				return
			}
			x.set, x.ms = true, ms
			i++
		default:
			c.out.err(errSyntax)
			return
		}
	}
	if !x.set && !x.persist {
		cmdGet(c, ctx, args[:2])
		return
	}
	var val []byte
	var found, wrong bool
	_, _, err := cc.Compute(ctx, args[1], func(cur cache.Entry, exists bool) ([]byte, cache.Write, cache.ComputeAction) {
		if !exists {
			return nil, cache.Write{}, cache.ComputeKeep
		}
		if cur.Meta.Kind != KindString {
			wrong = true
			return nil, cache.Write{}, cache.ComputeKeep
		}
		val, found = cur.Value, true
		switch {
		case x.set && x.ms <= 0:
			return nil, cache.Write{}, cache.ComputeRemove
		case x.set:
			return cur.Value, cache.Write{Lifespan: time.Duration(x.ms) * time.Millisecond, MaxIdle: cache.ExpiryNever}, cache.ComputeSet
		}
		return cur.Value, cache.Write{Lifespan: cache.ExpiryNever, MaxIdle: cache.ExpiryNever}, cache.ComputeSet
	})
	switch {
	case err != nil:
		c.cacheErr(err)
	case wrong:
		c.out.err(errWrongType)
	case found:
		c.out.bulk(val)
	default:
		c.out.null()
	}
}

func cmdMGet(c *conn, ctx context.Context, args [][]byte) {
	cc, ok := c.db0()
	if !ok {
		return
	}
	c.out.array(len(args) - 1)
	for _, k := range args[1:] {
		e, found, err := cc.Get(ctx, k)
		if err != nil || !found || e.Meta.Kind != KindString {
			c.out.null()
			continue
		}
		c.out.bulk(e.Value)
	}
}

func cmdMSet(c *conn, ctx context.Context, args [][]byte) {
	if len(args)%2 == 0 {
		c.out.err(arityError("mset"))
		return
	}
	cc, ok := c.db0()
	if !ok {
		return
	}
	for i := 1; i < len(args); i += 2 {
		if _, _, err := cc.Put(ctx, args[i], args[i+1], cache.DefaultWrite); err != nil {
			c.cacheErr(err)
			return
		}
		c.srv.signalKey(cc, args[i])
	}
	c.out.ok()
}

func cmdMSetNX(c *conn, ctx context.Context, args [][]byte) {
	if len(args)%2 == 0 {
		c.out.err(arityError("msetnx"))
		return
	}
	cc, ok := c.db0()
	if !ok {
		return
	}
	c.exclusive(func() {
		for i := 1; i < len(args); i += 2 {
			if ok, err := cc.ContainsKey(ctx, args[i]); err != nil || ok {
				c.out.int(0)
				return
			}
		}
		for i := 1; i < len(args); i += 2 {
			if _, _, err := cc.Put(ctx, args[i], args[i+1], cache.DefaultWrite); err != nil {
				c.cacheErr(err)
				return
			}
		}
		c.out.int(1)
	})
}

// exclusive runs fn holding the server's exec lock exclusively, so that
// multi-key commands are atomic with respect to other RESP clients.
func (c *conn) exclusive(fn func()) {
	if c.inExec {
		fn()
		return
	}
	c.unlockShared()
	c.srv.execMu.Lock()
	defer c.srv.execMu.Unlock()
	fn()
}

func cmdIncr(c *conn, ctx context.Context, args [][]byte) { incrBy(c, ctx, args[1], 1) }
func cmdDecr(c *conn, ctx context.Context, args [][]byte) { incrBy(c, ctx, args[1], -1) }

func cmdIncrBy(c *conn, ctx context.Context, args [][]byte) {
	n, ok := parseInt(args[2])
	if !ok {
		c.out.err(errNotInt)
		return
	}
	incrBy(c, ctx, args[1], n)
}

func cmdDecrBy(c *conn, ctx context.Context, args [][]byte) {
	n, ok := parseInt(args[2])
	if !ok || n == math.MinInt64 {
		if ok {
			c.out.err("ERR decrement would overflow")
			return
		}
		c.out.err(errNotInt)
		return
	}
	incrBy(c, ctx, args[1], -n)
}

func incrBy(c *conn, ctx context.Context, key []byte, delta int64) {
	cc, ok := c.db0()
	if !ok {
		return
	}
	var result int64
	var fail string
	_, _, err := cc.Compute(ctx, key, func(cur cache.Entry, exists bool) ([]byte, cache.Write, cache.ComputeAction) {
		var v int64
		w := cache.DefaultWrite
		if exists {
			if cur.Meta.Kind != KindString {
				fail = errWrongType
				return nil, cache.Write{}, cache.ComputeKeep
			}
			n, ok := parseInt(cur.Value)
			if !ok {
				fail = errNotInt
				return nil, cache.Write{}, cache.ComputeKeep
			}
			v = n
			w = keepWrite(&cur.Meta, KindString)
		}
		if (delta > 0 && v > math.MaxInt64-delta) || (delta < 0 && v < math.MinInt64-delta) {
			fail = errOverflow
			return nil, cache.Write{}, cache.ComputeKeep
		}
		result = v + delta
		c.scratch = strconv.AppendInt(c.scratch[:0], result, 10)
		return c.scratch, w, cache.ComputeSet
	})
	switch {
	case err != nil:
		c.cacheErr(err)
	case fail != "":
		c.out.err(fail)
	default:
		c.out.int(result)
	}
}

func cmdIncrByFloat(c *conn, ctx context.Context, args [][]byte) {
	cc, ok := c.db0()
	if !ok {
		return
	}
	delta, ok := parseFloat(args[2])
	if !ok {
		c.out.err(errNotFloat)
		return
	}
	var fail string
	var res []byte
	_, _, err := cc.Compute(ctx, args[1], func(cur cache.Entry, exists bool) ([]byte, cache.Write, cache.ComputeAction) {
		var v float64
		w := cache.DefaultWrite
		if exists {
			if cur.Meta.Kind != KindString {
				fail = errWrongType
				return nil, cache.Write{}, cache.ComputeKeep
			}
			f, ok := parseFloat(cur.Value)
			if !ok {
				fail = errNotFloat
				return nil, cache.Write{}, cache.ComputeKeep
			}
			v = f
			w = keepWrite(&cur.Meta, KindString)
		}
		v += delta
		if math.IsNaN(v) || math.IsInf(v, 0) {
			fail = "ERR increment would produce NaN or Infinity"
			return nil, cache.Write{}, cache.ComputeKeep
		}
		res = strconv.AppendFloat(nil, v, 'f', -1, 64)
		return res, w, cache.ComputeSet
	})
	switch {
	case err != nil:
		c.cacheErr(err)
	case fail != "":
		c.out.err(fail)
	default:
		c.out.bulk(res)
	}
}

func cmdAppend(c *conn, ctx context.Context, args [][]byte) {
	cc, ok := c.db0()
	if !ok {
		return
	}
	var n int
	var fail string
	_, _, err := cc.Compute(ctx, args[1], func(cur cache.Entry, exists bool) ([]byte, cache.Write, cache.ComputeAction) {
		if !exists {
			n = len(args[2])
			return args[2], cache.DefaultWrite, cache.ComputeSet
		}
		if cur.Meta.Kind != KindString {
			fail = errWrongType
			return nil, cache.Write{}, cache.ComputeKeep
		}
		if len(cur.Value)+len(args[2]) > maxStringSize {
			fail = "ERR string exceeds maximum allowed size (proto-max-bulk-len)"
			return nil, cache.Write{}, cache.ComputeKeep
		}
		c.scratch = append(append(c.scratch[:0], cur.Value...), args[2]...)
		n = len(c.scratch)
		return c.scratch, keepWrite(&cur.Meta, KindString), cache.ComputeSet
	})
	c.shrinkScratch()
	switch {
	case err != nil:
		c.cacheErr(err)
	case fail != "":
		c.out.err(fail)
	default:
		c.out.int(int64(n))
	}
}

func (c *conn) shrinkScratch() {
	if cap(c.scratch) > maxIdleBuf {
		c.scratch = nil
	}
}

func cmdStrlen(c *conn, ctx context.Context, args [][]byte) {
	cc, ok := c.db0()
	if !ok {
		return
	}
	e, found, err := cc.Get(ctx, args[1])
	switch {
	case err != nil:
		c.cacheErr(err)
	case !found:
		c.out.int(0)
	case e.Meta.Kind != KindString:
		c.out.err(errWrongType)
	default:
		c.out.int(int64(len(e.Value)))
	}
}

func cmdSetRange(c *conn, ctx context.Context, args [][]byte) {
	cc, ok := c.db0()
	if !ok {
		return
	}
	off, ok := parseInt(args[2])
	if !ok {
		c.out.err(errNotInt)
		return
	}
	if off < 0 {
		c.out.err("ERR offset is out of range")
		return
	}
	val := args[3]
	if len(val) > 0 && off+int64(len(val)) > maxStringSize {
		c.out.err("ERR string exceeds maximum allowed size (proto-max-bulk-len)")
		return
	}
	var n int
	var fail string
	_, _, err := cc.Compute(ctx, args[1], func(cur cache.Entry, exists bool) ([]byte, cache.Write, cache.ComputeAction) {
		if exists && cur.Meta.Kind != KindString {
			fail = errWrongType
			return nil, cache.Write{}, cache.ComputeKeep
		}
		if len(val) == 0 {
			n = len(cur.Value)
			return nil, cache.Write{}, cache.ComputeKeep
		}
		end := int(off) + len(val)
		c.scratch = append(c.scratch[:0], cur.Value...)
		for len(c.scratch) < end {
			c.scratch = append(c.scratch, 0)
		}
		copy(c.scratch[off:], val)
		n = len(c.scratch)
		w := cache.DefaultWrite
		if exists {
			w = keepWrite(&cur.Meta, KindString)
		}
		return c.scratch, w, cache.ComputeSet
	})
	c.shrinkScratch()
	switch {
	case err != nil:
		c.cacheErr(err)
	case fail != "":
		c.out.err(fail)
	default:
		c.out.int(int64(n))
	}
}

func cmdGetRange(c *conn, ctx context.Context, args [][]byte) {
	cc, ok := c.db0()
	if !ok {
		return
	}
	start, ok1 := parseInt(args[2])
	end, ok2 := parseInt(args[3])
	if !ok1 || !ok2 {
		c.out.err(errNotInt)
		return
	}
	e, found, err := cc.Get(ctx, args[1])
	switch {
	case err != nil:
		c.cacheErr(err)
		return
	case !found:
		c.out.bulk(nil)
		return
	case e.Meta.Kind != KindString:
		c.out.err(errWrongType)
		return
	}
	v := e.Value
	n := int64(len(v))
	if start < 0 && end < 0 && start > end {
		c.out.bulk(nil)
		return
	}
	if start < 0 {
		start += n
	}
	if end < 0 {
		end += n
	}
	start = max(start, 0)
	end = max(end, 0)
	end = min(end, n-1)
	if start > end || n == 0 {
		c.out.bulk(nil)
		return
	}
	c.out.bulk(v[start : end+1])
}

func cmdLCS(c *conn, ctx context.Context, args [][]byte) {
	cc, ok := c.db0()
	if !ok {
		return
	}
	var wantLen, wantIdx, withLen bool
	minLen := int64(0)
	for i := 3; i < len(args); i++ {
		switch {
		case eq(args[i], "len"):
			wantLen = true
		case eq(args[i], "idx"):
			wantIdx = true
		case eq(args[i], "withmatchlen"):
			withLen = true
		case eq(args[i], "minmatchlen") && i+1 < len(args):
			n, ok := parseInt(args[i+1])
			if !ok {
				c.out.err(errNotInt)
				return
			}
			minLen = max(n, 0)
			i++
		default:
			c.out.err(errSyntax)
			return
		}
	}
	if wantLen && wantIdx {
		c.out.err("ERR If you want both the length and indexes, please just use IDX.")
		return
	}
	var vals [2][]byte
	for i := range 2 {
		e, found, err := cc.Get(ctx, args[1+i])
		if err != nil {
			c.cacheErr(err)
			return
		}
		if found && e.Meta.Kind != KindString {
			c.out.err("ERR The specified keys must contain string values")
			return
		}
		vals[i] = e.Value
	}
	a, b := vals[0], vals[1]
	if int64(len(a)+1)*int64(len(b)+1) > 1<<26 {
		c.out.err("ERR Insufficient memory, transient memory for LCS exceeds proto-max-bulk-len")
		return
	}
	// Dynamic programming table, as Redis computes it.
	w := len(b) + 1
	tbl := make([]uint32, (len(a)+1)*w)
	for i := 1; i <= len(a); i++ {
		for j := 1; j <= len(b); j++ {
			if a[i-1] == b[j-1] {
				tbl[i*w+j] = tbl[(i-1)*w+j-1] + 1
			} else {
				tbl[i*w+j] = max(tbl[(i-1)*w+j], tbl[i*w+j-1])
			}
		}
	}
	l := int(tbl[len(a)*w+len(b)])
	if wantLen {
		c.out.int(int64(l))
		return
	}
	// Walk back, collecting the string and the matching ranges.
	res := make([]byte, l)
	type rng struct{ a0, a1, b0, b1 int }
	var matches []rng
	i, j, k := len(a), len(b), l
	cur := rng{-1, -1, -1, -1}
	for i > 0 && j > 0 {
		switch {
		case a[i-1] == b[j-1]:
			k--
			res[k] = a[i-1]
			if cur.a0 == -1 {
				cur = rng{i - 1, i - 1, j - 1, j - 1}
			} else if cur.a0 == i && cur.b0 == j {
				cur.a0, cur.b0 = i-1, j-1
			} else {
				matches = append(matches, cur)
				cur = rng{i - 1, i - 1, j - 1, j - 1}
			}
			i--
			j--
		case tbl[(i-1)*w+j] > tbl[i*w+j-1]:
			i--
		default:
			j--
		}
	}
	if cur.a0 != -1 {
		matches = append(matches, cur)
	}
	if !wantIdx {
		c.out.bulk(res)
		return
	}
	var kept []rng
	for _, m := range matches {
		if int64(m.a1-m.a0+1) >= minLen {
			kept = append(kept, m)
		}
	}
	c.out.mapLen(2)
	c.out.bulkString("matches")
	c.out.array(len(kept))
	for _, m := range kept {
		if withLen {
			c.out.array(3)
		} else {
			c.out.array(2)
		}
		c.out.array(2)
		c.out.int(int64(m.a0))
		c.out.int(int64(m.a1))
		c.out.array(2)
		c.out.int(int64(m.b0))
		c.out.int(int64(m.b1))
		if withLen {
			c.out.int(int64(m.a1 - m.a0 + 1))
		}
	}
	c.out.bulkString("len")
	c.out.int(int64(l))
}

// parseInt parses a decimal integer as Redis' string2ll does: optional
// '-', no '+', no leading zeros or spaces, within int64.
func parseInt(b []byte) (int64, bool) {
	if len(b) == 0 || len(b) > 20 {
		return 0, false
	}
	if len(b) == 1 && b[0] == '0' {
		return 0, true
	}
	neg := false
	i := 0
	if b[0] == '-' {
		neg = true
		i = 1
		if len(b) == 1 {
			return 0, false
		}
	}
	if b[i] < '1' || b[i] > '9' {
		return 0, false
	}
	var v uint64
	for ; i < len(b); i++ {
		d := b[i]
		if d < '0' || d > '9' {
			return 0, false
		}
		if v > (math.MaxUint64-uint64(d-'0'))/10 {
			return 0, false
		}
		v = v*10 + uint64(d-'0')
	}
	if neg {
		if v > 1<<63 {
			return 0, false
		}
		return -int64(v), true
	}
	if v > math.MaxInt64 {
		return 0, false
	}
	return int64(v), true
}

// parseFloat parses a float as Redis does: no surrounding spaces, no NaN;
// "inf", "+inf" and "-inf" are accepted.
func parseFloat(b []byte) (float64, bool) {
	if len(b) == 0 || isSpace(b[0]) || isSpace(b[len(b)-1]) {
		return 0, false
	}
	switch {
	case eq(b, "inf") || eq(b, "+inf") || eq(b, "infinity") || eq(b, "+infinity"):
		return math.Inf(1), true
	case eq(b, "-inf") || eq(b, "-infinity"):
		return math.Inf(-1), true
	}
	if bytes.ContainsAny(b, "_nN") { // Go accepts "1_000", "nan"
		return 0, false
	}
	f, err := strconv.ParseFloat(string(b), 64)
	if err != nil || math.IsNaN(f) {
		return 0, false
	}
	return f, true
}
