package memcached

import (
	"context"
	"strconv"
	"time"

	"github.com/hotgrid/hotgrid/cache"
)

// opKind selects what conn.compute does with an entry.
type opKind uint8

const (
	opSet opKind = iota
	opAdd
	opReplace
	opAppend
	opPrepend
	opTouch
	opIncr
	opDecr
)

// result is the outcome of a store-like operation, in memcached's terms.
type result uint8

const (
	resStored     result = iota // STORED / HD / success
	resNotStored                // NOT_STORED / NS
	resExists                   // EXISTS / EX (CAS mismatch)
	resNotFound                 // NOT_FOUND / NF
	resNonNumeric               // incr/decr on a non-numeric value
)

// op is the input and output of one Compute call.
type op struct {
	kind  opKind
	value []byte
	flags uint32
	// expSet says whether exptime applies; append/prepend/incr keep the
	// entry's expiration unless told otherwise.
	expSet bool
	exp    expiry
	cas    uint64 // 0: unconditional
	// incr/decr
	delta   uint64
	vivify  bool   // create on miss (binary incr, meta N)
	vexp    expiry // expiration of an entry created on miss
	initial uint64 // value created on miss
	res     result
	num     uint64 // incr/decr result
	buf     []byte // scratch the value may be built in (the cache copies it)
}

// expiry is a memcached exptime converted for a cache write.
type expiry struct {
	lifespan time.Duration // cache.ExpiryDefault, or positive
	dead     bool          // the item expires on arrival
}

// thirtyDays is the exptime beyond which memcached reads an absolute time.
const thirtyDays = 60 * 60 * 24 * 30

// toExpiry converts an exptime: 0 is the cache's default (never, for the
// memcached cache), negative is already expired, up to thirty days is
// relative seconds, beyond that a Unix time.
func toExpiry(exptime int64) expiry {
	switch {
	case exptime == 0:
		return expiry{lifespan: cache.ExpiryDefault}
	case exptime < 0:
		return expiry{dead: true}
	case exptime > thirtyDays:
		ms := exptime*1000 - time.Now().UnixMilli()
		if ms <= 0 {
			return expiry{dead: true}
		}
		return expiry{lifespan: time.Duration(ms) * time.Millisecond}
	default:
		return expiry{lifespan: time.Duration(exptime) * time.Second}
	}
}

func (e expiry) write(flags uint32) cache.Write {
	return cache.Write{Lifespan: e.lifespan, MaxIdle: cache.ExpiryDefault, Flags: flags}
}

// keepWrite is the Write that keeps an entry's flags and remaining
// lifetime, for commands that change only the value.
func keepWrite(m *cache.Metadata) cache.Write {
	w := cache.Write{Lifespan: cache.ExpiryNever, MaxIdle: cache.ExpiryNever, Flags: m.Flags, Kind: m.Kind}
	if m.Lifespan >= 0 {
		left := m.Created + m.Lifespan - time.Now().UnixMilli()
		w.Lifespan = time.Duration(max(left, 1)) * time.Millisecond
	}
	if m.MaxIdle >= 0 {
		w.MaxIdle = time.Duration(max(m.MaxIdle, 1)) * time.Millisecond
	}
	return w
}

// ttlSeconds is the remaining lifetime memcached reports: -1 for never.
func ttlSeconds(m *cache.Metadata) int64 {
	at := m.ExpiresAt()
	if at < 0 {
		return -1
	}
	left := at - time.Now().UnixMilli()
	if left <= 0 {
		return 0
	}
	return (left + 999) / 1000
}

// compute is the cache.ComputeFunc for every read-modify-write command; it
// reads its parameters from c.op and leaves the outcome there.
func (c *conn) compute(cur cache.Entry, exists bool) ([]byte, cache.Write, cache.ComputeAction) {
	o := &c.op
	if o.cas != 0 && exists && uint64(cur.Meta.Version) != o.cas {
		o.res = resExists
		return nil, cache.Write{}, cache.ComputeKeep
	}
	switch o.kind {
	case opSet, opAdd, opReplace:
		switch {
		case o.kind == opAdd && exists:
			o.res = resNotStored
			return nil, cache.Write{}, cache.ComputeKeep
		case o.cas != 0 && !exists:
			o.res = resNotFound
			return nil, cache.Write{}, cache.ComputeKeep
		case o.kind == opReplace && !exists:
			o.res = resNotStored
			return nil, cache.Write{}, cache.ComputeKeep
		}
		o.res = resStored
		if o.exp.dead {
			return nil, cache.Write{}, cache.ComputeRemove
		}
		return o.value, o.exp.write(o.flags), cache.ComputeSet
	case opAppend, opPrepend:
		if !exists {
			if o.cas != 0 {
				o.res = resNotFound
			} else {
				o.res = resNotStored
			}
			return nil, cache.Write{}, cache.ComputeKeep
		}
		b := o.buf[:0]
		if o.kind == opAppend {
			b = append(append(b, cur.Value...), o.value...)
		} else {
			b = append(append(b, o.value...), cur.Value...)
		}
		o.buf = b
		o.res = resStored
		return b, keepWrite(&cur.Meta), cache.ComputeSet
	case opTouch:
		if !exists {
			o.res = resNotFound
			return nil, cache.Write{}, cache.ComputeKeep
		}
		o.res = resStored
		if o.exp.dead {
			return nil, cache.Write{}, cache.ComputeRemove
		}
		w := o.exp.write(cur.Meta.Flags)
		w.Kind = cur.Meta.Kind
		return cur.Value, w, cache.ComputeSet
	case opIncr, opDecr:
		var n uint64
		var w cache.Write
		if !exists {
			if !o.vivify {
				o.res = resNotFound
				return nil, cache.Write{}, cache.ComputeKeep
			}
			if o.vexp.dead {
				o.res, o.num = resStored, o.initial
				return nil, cache.Write{}, cache.ComputeKeep
			}
			n = o.initial
			w = o.vexp.write(0)
		} else {
			v, ok := parseCounter(cur.Value)
			if !ok {
				o.res = resNonNumeric
				return nil, cache.Write{}, cache.ComputeKeep
			}
			if o.kind == opIncr {
				n = v + o.delta
			} else if o.delta > v {
				n = 0
			} else {
				n = v - o.delta
			}
			if o.expSet {
				if o.exp.dead {
					o.res, o.num = resStored, n
					return nil, cache.Write{}, cache.ComputeRemove
				}
				w = o.exp.write(cur.Meta.Flags)
			} else {
				w = keepWrite(&cur.Meta)
			}
		}
		o.res, o.num = resStored, n
		o.buf = strconv.AppendUint(o.buf[:0], n, 10)
		return o.buf, w, cache.ComputeSet
	}
	return nil, cache.Write{}, cache.ComputeKeep
}

// run performs c.op on key and returns the entry after it.
func (c *conn) run(ctx context.Context, cc cache.Cache, key []byte) (cache.Entry, bool, error) {
	c.op.buf = c.scratch
	e, ok, err := cc.Compute(ctx, key, c.computeFn)
	if cap(c.op.buf) <= maxIdleBuf {
		c.scratch = c.op.buf[:0]
	}
	c.op.value = nil
	return e, ok, err
}

// parseCounter reads a stored value as memcached's incr does: optional
// leading white space, decimal digits that fit 64 bits, then the end or
// white space.
func parseCounter(b []byte) (uint64, bool) {
	i := 0
	for i < len(b) && isSpace(b[i]) {
		i++
	}
	if i < len(b) && b[i] == '+' {
		i++
	}
	start := i
	var n uint64
	for i < len(b) && b[i] >= '0' && b[i] <= '9' {
		d := uint64(b[i] - '0')
		if n > (1<<64-1-d)/10 {
			return 0, false
		}
		n = n*10 + d
		i++
	}
	if i == start {
		return 0, false
	}
	if i < len(b) && !isSpace(b[i]) {
		return 0, false
	}
	return n, true
}

func isSpace(b byte) bool {
	return b == ' ' || b == '\t' || b == '\n' || b == '\v' || b == '\f' || b == '\r'
}

// parseUint parses a decimal unsigned number of at most bits bits.
func parseUint(b []byte, bits int) (uint64, bool) {
	if len(b) == 0 || len(b) > 20 {
		return 0, false
	}
	var n uint64
	for _, ch := range b {
		if ch < '0' || ch > '9' {
			return 0, false
		}
		d := uint64(ch - '0')
		if n > (1<<64-1-d)/10 {
			return 0, false
		}
		n = n*10 + d
	}
	if bits < 64 && n >= 1<<bits {
		return 0, false
	}
	return n, true
}

// parseInt parses a decimal signed 32-bit number, as memcached's
// safe_strtol does for exptime and lengths.
func parseInt(b []byte) (int64, bool) {
	neg := false
	if len(b) > 0 && (b[0] == '-' || b[0] == '+') {
		neg = b[0] == '-'
		b = b[1:]
	}
	n, ok := parseUint(b, 63)
	if !ok || n > 1<<31 || (!neg && n == 1<<31) {
		return 0, false
	}
	if neg {
		return -int64(n), true
	}
	return int64(n), true
}
