package resp

import (
	"context"
	"math"
	"math/rand/v2"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/hotgrid/hotgrid/cache"
)

// Value kinds (cache.Metadata.Kind) of the RESP data types. 0 is a plain
// string, readable by every protocol; the others hold the encodings
// described in encoding.go.
const (
	KindString uint8 = 0
	KindHash   uint8 = 1
	KindList   uint8 = 2
	KindSet    uint8 = 3
	KindZSet   uint8 = 4
)

// typeName is what TYPE answers for a kind.
func typeName(k uint8) string {
	switch k {
	case KindString:
		return "string"
	case KindHash:
		return "hash"
	case KindList:
		return "list"
	case KindSet:
		return "set"
	case KindZSet:
		return "zset"
	}
	return "string"
}

// keepWrite returns a Write that keeps the expiration of an entry whose
// value is being replaced (Redis keeps a key's TTL when a command modifies
// its value).
func keepWrite(m *cache.Metadata, kind uint8) cache.Write {
	w := cache.Write{Lifespan: cache.ExpiryNever, MaxIdle: cache.ExpiryNever, Kind: kind}
	if m.Lifespan >= 0 {
		rem := max(m.Created+m.Lifespan-nowMillis(), 1)
		w.Lifespan = time.Duration(rem) * time.Millisecond
	}
	if m.MaxIdle >= 0 {
		w.MaxIdle = time.Duration(max(m.MaxIdle, 1)) * time.Millisecond
	}
	return w
}

func cmdDel(c *conn, ctx context.Context, args [][]byte) {
	cc, ok := c.db0()
	if !ok {
		return
	}
	n := int64(0)
	for _, k := range args[1:] {
		_, existed, err := cc.Remove(ctx, k, cache.Write{})
		if err != nil {
			c.cacheErr(err)
			return
		}
		if existed {
			n++
		}
	}
	c.out.int(n)
}

// cmdExists serves EXISTS and TOUCH: the number of keys present, counting
// repeats.
func cmdExists(c *conn, ctx context.Context, args [][]byte) {
	cc, ok := c.db0()
	if !ok {
		return
	}
	n := int64(0)
	for _, k := range args[1:] {
		ok, err := cc.ContainsKey(ctx, k)
		if err != nil {
			c.cacheErr(err)
			return
		}
		if ok {
			n++
		}
	}
	c.out.int(n)
}

// cmdExpire serves EXPIRE, PEXPIRE, EXPIREAT and PEXPIREAT.
func cmdExpire(c *conn, ctx context.Context, args [][]byte) {
	cc, ok := c.db0()
	if !ok {
		return
	}
	name := c.lastCmd
	n, ok := parseInt(args[2])
	if !ok {
		c.out.err(errNotInt)
		return
	}
	var nx, xx, gt, lt bool
	for _, a := range args[3:] {
		switch {
		case eq(a, "nx"):
			nx = true
		case eq(a, "xx"):
			xx = true
		case eq(a, "gt"):
			gt = true
		case eq(a, "lt"):
			lt = true
		default:
			c.out.err(sanitize("ERR Unsupported option " + string(a)))
			return
		}
	}
	if nx && (xx || gt || lt) {
		c.out.err("ERR NX and XX, GT or LT options at the same time are not compatible")
		return
	}
	if gt && lt {
		c.out.err("ERR GT and LT options at the same time are not compatible")
		return
	}
	invalid := "ERR invalid expire time in '" + name + "' command"
	if name == "expire" || name == "expireat" {
		if n > math.MaxInt64/1000 || n < math.MinInt64/1000 {
			c.out.err(invalid)
			return
		}
		n *= 1000
	}
	now := nowMillis()
	at := n
	if name == "expire" || name == "pexpire" {
		if n > math.MaxInt64-now {
			c.out.err(invalid)
			return
		}
		at = now + n
	}
	// Beyond time.Duration's 292 years the difference is immaterial.
	at = min(at, now+math.MaxInt64/int64(time.Millisecond))
	set := false
	_, _, err := cc.Compute(ctx, args[1], func(cur cache.Entry, exists bool) ([]byte, cache.Write, cache.ComputeAction) {
		if !exists {
			return nil, cache.Write{}, cache.ComputeKeep
		}
		curAt := cur.Meta.ExpiresAt()
		switch {
		case nx && curAt >= 0,
			xx && curAt < 0,
			gt && (curAt < 0 || at <= curAt),
			lt && curAt >= 0 && at >= curAt:
			return nil, cache.Write{}, cache.ComputeKeep
		}
		set = true
		if at <= now {
			return nil, cache.Write{}, cache.ComputeRemove
		}
		w := keepWrite(&cur.Meta, cur.Meta.Kind)
		w.Lifespan = time.Duration(at-now) * time.Millisecond
		return cur.Value, w, cache.ComputeSet
	})
	if err != nil {
		c.cacheErr(err)
		return
	}
	if set {
		c.out.int(1)
	} else {
		c.out.int(0)
	}
}

// cmdTTL serves TTL and PTTL: -2 if the key is missing, -1 if it does not
// expire.
func cmdTTL(c *conn, ctx context.Context, args [][]byte) {
	cc, ok := c.db0()
	if !ok {
		return
	}
	e, found, err := cc.Get(ctx, args[1])
	switch {
	case err != nil:
		c.cacheErr(err)
	case !found:
		c.out.int(-2)
	default:
		at := e.Meta.ExpiresAt()
		if at < 0 {
			c.out.int(-1)
			return
		}
		ttl := max(at-nowMillis(), 0)
		if c.lastCmd == "ttl" {
			ttl = (ttl + 500) / 1000
		}
		c.out.int(ttl)
	}
}

func cmdExpireTime(c *conn, ctx context.Context, args [][]byte) {
	cc, ok := c.db0()
	if !ok {
		return
	}
	e, found, err := cc.Get(ctx, args[1])
	switch {
	case err != nil:
		c.cacheErr(err)
	case !found:
		c.out.int(-2)
	default:
		at := e.Meta.ExpiresAt()
		if at < 0 {
			c.out.int(-1)
			return
		}
		if c.lastCmd == "expiretime" {
			at /= 1000
		}
		c.out.int(at)
	}
}

func cmdPersist(c *conn, ctx context.Context, args [][]byte) {
	cc, ok := c.db0()
	if !ok {
		return
	}
	done := false
	_, _, err := cc.Compute(ctx, args[1], func(cur cache.Entry, exists bool) ([]byte, cache.Write, cache.ComputeAction) {
		if !exists || !cur.Meta.Mortal() {
			return nil, cache.Write{}, cache.ComputeKeep
		}
		done = true
		return cur.Value, cache.Write{Lifespan: cache.ExpiryNever, MaxIdle: cache.ExpiryNever, Kind: cur.Meta.Kind}, cache.ComputeSet
	})
	if err != nil {
		c.cacheErr(err)
		return
	}
	if done {
		c.out.int(1)
	} else {
		c.out.int(0)
	}
}

func cmdType(c *conn, ctx context.Context, args [][]byte) {
	cc, ok := c.db0()
	if !ok {
		return
	}
	e, found, err := cc.Get(ctx, args[1])
	switch {
	case err != nil:
		c.cacheErr(err)
	case !found:
		c.out.simple("none")
	default:
		c.out.simple(typeName(e.Meta.Kind))
	}
}

// eachEntry calls fn for the live entries of segments [from, NumSegments)
// until fn returns false; it returns the next segment to visit, or 0 when
// all were visited.
func eachSegment(ctx context.Context, cc cache.Cache, from int, fn func(seg int, es []cache.Entry) bool) (int, error) {
	var buf []cache.Entry
	n := cc.NumSegments()
	for s := from; s < n; s++ {
		var err error
		buf, err = cc.Segment(ctx, s, buf[:0])
		if err != nil {
			return 0, err
		}
		if !fn(s, buf) {
			if s+1 >= n {
				return 0, nil
			}
			return s + 1, nil
		}
	}
	return 0, nil
}

func cmdKeys(c *conn, ctx context.Context, args [][]byte) {
	cc, ok := c.db0()
	if !ok {
		return
	}
	pat := args[1]
	all := len(pat) == 1 && pat[0] == '*'
	var keys [][]byte
	_, err := eachSegment(ctx, cc, 0, func(_ int, es []cache.Entry) bool {
		for _, e := range es {
			if all || globMatch(pat, e.Key, false) {
				keys = append(keys, e.Key)
			}
		}
		return true
	})
	if err != nil {
		c.cacheErr(err)
		return
	}
	c.out.array(len(keys))
	for _, k := range keys {
		c.out.bulk(k)
	}
}

// scanOpts are the MATCH, COUNT and TYPE options of the SCAN family.
type scanOpts struct {
	match   []byte
	count   int64
	typ     []byte
	noValue bool
}

func (c *conn) parseScanOpts(args [][]byte, allowType bool) (scanOpts, bool) {
	o := scanOpts{count: 10}
	for i := 0; i < len(args); i++ {
		a := args[i]
		switch {
		case eq(a, "match") && i+1 < len(args):
			o.match = args[i+1]
			i++
		case eq(a, "count") && i+1 < len(args):
			n, ok := parseInt(args[i+1])
			if !ok {
				c.out.err(errNotInt)
				return o, false
			}
			if n < 1 {
				c.out.err(errSyntax)
				return o, false
			}
			o.count = n
			i++
		case allowType && eq(a, "type") && i+1 < len(args):
			o.typ = args[i+1]
			i++
		case eq(a, "novalues"):
			o.noValue = true
		default:
			c.out.err(errSyntax)
			return o, false
		}
	}
	return o, true
}

// parseCursor parses a SCAN cursor (an unsigned integer).
func (c *conn) parseCursor(b []byte) (uint64, bool) {
	n, err := strconv.ParseUint(string(b), 10, 64)
	if err != nil {
		c.out.err("ERR invalid cursor")
		return 0, false
	}
	return n, true
}

// cmdScan iterates over segments: the cursor is the next segment to visit.
func cmdScan(c *conn, ctx context.Context, args [][]byte) {
	cc, ok := c.db0()
	if !ok {
		return
	}
	cur, ok := c.parseCursor(args[1])
	if !ok {
		return
	}
	o, ok := c.parseScanOpts(args[2:], true)
	if !ok {
		return
	}
	if cur >= uint64(cc.NumSegments()) {
		cur = 0
		c.out.array(2)
		c.out.bulkString("0")
		c.out.array(0)
		return
	}
	var keys [][]byte
	examined := int64(0)
	next, err := eachSegment(ctx, cc, int(cur), func(_ int, es []cache.Entry) bool {
		for _, e := range es {
			examined++
			if o.match != nil && !globMatch(o.match, e.Key, false) {
				continue
			}
			if o.typ != nil && !eq(o.typ, typeName(e.Meta.Kind)) {
				continue
			}
			keys = append(keys, e.Key)
		}
		return examined < o.count
	})
	if err != nil {
		c.cacheErr(err)
		return
	}
	c.out.array(2)
	c.out.bulkInt(int64(next))
	c.out.array(len(keys))
	for _, k := range keys {
		c.out.bulk(k)
	}
}

func cmdRandomKey(c *conn, ctx context.Context, args [][]byte) {
	cc, ok := c.db0()
	if !ok {
		return
	}
	n := cc.NumSegments()
	start := rand.IntN(n)
	var buf []cache.Entry
	for i := range n {
		var err error
		buf, err = cc.Segment(ctx, (start+i)%n, buf[:0])
		if err != nil {
			c.cacheErr(err)
			return
		}
		if len(buf) > 0 {
			c.out.bulk(buf[rand.IntN(len(buf))].Key)
			return
		}
	}
	c.out.null()
}

// cmdRename serves RENAME and RENAMENX.
func cmdRename(c *conn, ctx context.Context, args [][]byte) {
	cc, ok := c.db0()
	if !ok {
		return
	}
	nx := c.lastCmd == "renamenx"
	src, dst := args[1], args[2]
	c.exclusive(func() {
		e, found, err := cc.Get(ctx, src)
		if err != nil {
			c.cacheErr(err)
			return
		}
		if !found {
			c.out.err(errNoSuchKey)
			return
		}
		if string(src) == string(dst) {
			if nx {
				c.out.int(0)
			} else {
				c.out.ok()
			}
			return
		}
		w := keepWrite(&e.Meta, e.Meta.Kind)
		if nx {
			if _, existed, err := cc.PutIfAbsent(ctx, dst, e.Value, w); err != nil || existed {
				if err != nil {
					c.cacheErr(err)
				} else {
					c.out.int(0)
				}
				return
			}
		} else if _, _, err := cc.Put(ctx, dst, e.Value, w); err != nil {
			c.cacheErr(err)
			return
		}
		cc.Remove(ctx, src, cache.Write{})
		c.srv.signalKey(cc, dst)
		if nx {
			c.out.int(1)
		} else {
			c.out.ok()
		}
	})
}

// cmdCopy serves COPY src dst [DB n] [REPLACE].
func cmdCopy(c *conn, ctx context.Context, args [][]byte) {
	cc, ok := c.db0()
	if !ok {
		return
	}
	dstDB := cc
	replace := false
	for i := 3; i < len(args); i++ {
		switch {
		case eq(args[i], "replace"):
			replace = true
		case eq(args[i], "db") && i+1 < len(args):
			n, ok := parseInt(args[i+1])
			if !ok {
				c.out.err(errNotInt)
				return
			}
			d, err := c.srv.database(ctx, int(n))
			if err != nil {
				c.out.err(c.databaseErrorReply(err))
				return
			}
			dstDB = d
			i++
		default:
			c.out.err(errSyntax)
			return
		}
	}
	c.exclusive(func() {
		e, found, err := cc.Get(ctx, args[1])
		if err != nil {
			c.cacheErr(err)
			return
		}
		if !found || (dstDB == cc && string(args[1]) == string(args[2])) {
			if found {
				c.out.err("ERR source and destination objects are the same")
				return
			}
			c.out.int(0)
			return
		}
		w := keepWrite(&e.Meta, e.Meta.Kind)
		if replace {
			_, _, err = dstDB.Put(ctx, args[2], e.Value, w)
		} else {
			var existed bool
			_, existed, err = dstDB.PutIfAbsent(ctx, args[2], e.Value, w)
			if err == nil && existed {
				c.out.int(0)
				return
			}
		}
		if err != nil {
			c.cacheErr(err)
			return
		}
		c.srv.signalKey(dstDB, args[2])
		c.out.int(1)
	})
}

// globMatch matches s against a Redis glob pattern: * ? [abc] [^a-z] and
// backslash escapes.
func globMatch(pat, s []byte, nocase bool) bool {
	return globMatchDepth(pat, s, nocase, 0)
}

func globMatchDepth(pat, s []byte, nocase bool, depth int) bool {
	if depth > 1000 {
		return false
	}
	fold := func(b byte) byte {
		if nocase && b >= 'A' && b <= 'Z' {
			return b + 'a' - 'A'
		}
		return b
	}
	for len(pat) > 0 {
		switch pat[0] {
		case '*':
			for len(pat) > 1 && pat[1] == '*' {
				pat = pat[1:]
			}
			if len(pat) == 1 {
				return true
			}
			for i := 0; i <= len(s); i++ {
				if globMatchDepth(pat[1:], s[i:], nocase, depth+1) {
					return true
				}
			}
			return false
		case '?':
			if len(s) == 0 {
				return false
			}
			s = s[1:]
			pat = pat[1:]
		case '[':
			if len(s) == 0 {
				return false
			}
			pat = pat[1:]
			not := len(pat) > 0 && pat[0] == '^'
			if not {
				pat = pat[1:]
			}
			match := false
			for len(pat) > 0 && pat[0] != ']' {
				switch {
				case pat[0] == '\\' && len(pat) >= 2:
					pat = pat[1:]
					if fold(pat[0]) == fold(s[0]) {
						match = true
					}
					pat = pat[1:]
				case len(pat) >= 3 && pat[1] == '-':
					lo, hi := fold(pat[0]), fold(pat[2])
					if lo > hi {
						lo, hi = hi, lo
					}
					if ch := fold(s[0]); ch >= lo && ch <= hi {
						match = true
					}
					pat = pat[3:]
				default:
					if fold(pat[0]) == fold(s[0]) {
						match = true
					}
					pat = pat[1:]
				}
			}
			if len(pat) > 0 {
				pat = pat[1:] // ']'
			}
			if not {
				match = !match
			}
			if !match {
				return false
			}
			s = s[1:]
		case '\\':
			if len(pat) >= 2 {
				pat = pat[1:]
			}
			fallthrough
		default:
			if len(s) == 0 || fold(pat[0]) != fold(s[0]) {
				return false
			}
			s = s[1:]
			pat = pat[1:]
		}
	}
	return len(s) == 0
}

// waiters is the registry of clients blocked on list keys, keyed by cache
// and key; commands that add elements signal it.
type waiters struct {
	n  atomic.Int64
	mu sync.Mutex
	m  map[waitKey][]*conn
}

type waitKey struct{ cache, key string }

func (w *waiters) init() { w.m = make(map[waitKey][]*conn) }

func (w *waiters) add(c *conn, cacheName string, keys [][]byte) {
	w.mu.Lock()
	for _, k := range keys {
		wk := waitKey{cacheName, string(k)}
		w.m[wk] = append(w.m[wk], c)
	}
	w.n.Add(int64(len(keys)))
	w.mu.Unlock()
}

func (w *waiters) remove(c *conn, cacheName string, keys [][]byte) {
	w.mu.Lock()
	for _, k := range keys {
		wk := waitKey{cacheName, string(k)}
		list := w.m[wk]
		for i, x := range list {
			if x == c {
				list = append(list[:i], list[i+1:]...)
				break
			}
		}
		if len(list) == 0 {
			delete(w.m, wk)
		} else {
			w.m[wk] = list
		}
	}
	w.n.Add(-int64(len(keys)))
	w.mu.Unlock()
}

// signalKey wakes the clients blocked on key, if any.
func (s *Server) signalKey(cc cache.Cache, key []byte) {
	if s.waiters.n.Load() == 0 {
		return
	}
	s.waiters.mu.Lock()
	for _, c := range s.waiters.m[waitKey{cc.Name(), string(key)}] {
		c.wake()
	}
	s.waiters.mu.Unlock()
}
