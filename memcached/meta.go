package memcached

import (
	"context"
	"encoding/base64"
	"strconv"
	"time"

	"github.com/hotgrid/hotgrid/cache"
)

// Meta command error replies.
var (
	rInvalidFlag    = []byte("CLIENT_ERROR invalid flag\r\n")
	rDuplicateFlag  = []byte("CLIENT_ERROR duplicate flag\r\n")
	rInvalidOrDup   = []byte("CLIENT_ERROR invalid or duplicate flag\r\n")
	rBadToken       = []byte("CLIENT_ERROR bad token in command line format\r\n")
	rOpaqueTooLong  = []byte("CLIENT_ERROR opaque token too long\r\n")
	rBadKeyEncoding = []byte("CLIENT_ERROR error decoding key\r\n")
	rBadMsMode      = []byte("CLIENT_ERROR invalid mode for ms M token\r\n")
	rBadMaMode      = []byte("CLIENT_ERROR invalid mode for ma M token\r\n")
)

// Flags each meta command accepts (P and L are proxy hints, ignored).
const (
	mgFlags = "bcfhklOqstuvNRTPL"
	msFlags = "bcCFIkOqTMPLsfv"
	mdFlags = "bCIkOqTPL"
	maFlags = "bCNJDTMqtcvOkPL"
)

// maxOpaque is the longest opaque token memcached accepts.
const maxOpaque = 32

// metaFlags are the parsed flags of a meta command; the tokens stay in
// c.toks[first:n] so that returned flags keep the request's order.
type metaFlags struct {
	first, n int
	seen     [128]bool
	opaque   []byte
	hasT     bool
	t        int64
	hasN     bool
	nTTL     int64
	hasR     bool
	r        int64
	cas      uint64
	flags    uint32
	mode     byte
	delta    uint64
	initial  uint64
}

func (f *metaFlags) has(ch byte) bool { return f.seen[ch] }

// parseMetaFlags reads c.toks[first:n] as flags of a command that accepts
// allowed; on failure it answers the error and returns false. md and ma
// report every flag error with one message, as memcached does.
func (c *conn) parseMetaFlags(f *metaFlags, first, n int, allowed string, oneMsg bool) bool {
	*f = metaFlags{first: first, n: n, delta: 1}
	fail := func(r []byte) bool {
		if oneMsg {
			r = rInvalidOrDup
		}
		c.out = append(c.out, r...)
		return false
	}
	for i := first; i < n; i++ {
		t := c.toks[i]
		ch := t[0]
		if ch >= 128 || !containsByte(allowed, ch) {
			return fail(rInvalidFlag)
		}
		if f.seen[ch] {
			return fail(rDuplicateFlag)
		}
		f.seen[ch] = true
		arg := t[1:]
		var ok = true
		switch ch {
		case 'O':
			if len(arg) > maxOpaque {
				return fail(rOpaqueTooLong)
			}
			f.opaque = arg
		case 'T':
			f.hasT = true
			f.t, ok = parseInt(arg)
		case 'N':
			f.hasN = true
			f.nTTL, ok = parseInt(arg)
		case 'R':
			f.hasR = true
			f.r, ok = parseInt(arg)
		case 'C':
			f.cas, ok = parseUint(arg, 64)
		case 'F':
			var v uint64
			v, ok = parseUint(arg, 32)
			f.flags = uint32(v)
			if !ok {
				return fail(rBadFormat)
			}
		case 'D':
			f.delta, ok = parseUint(arg, 64)
		case 'J':
			f.initial, ok = parseUint(arg, 64)
		case 'M':
			if len(arg) != 1 {
				ok = false
			} else {
				f.mode = arg[0]
			}
		}
		if !ok {
			return fail(rBadToken)
		}
	}
	return true
}

func containsByte(s string, b byte) bool {
	for i := 0; i < len(s); i++ {
		if s[i] == b {
			return true
		}
	}
	return false
}

// metaKey returns the command's key, decoding base64 when the b flag is
// set; on failure it answers the error.
func (c *conn) metaKey(raw []byte, f *metaFlags) ([]byte, bool) {
	if len(raw) > maxKeyLen {
		c.out = append(c.out, rBadFormat...)
		return nil, false
	}
	if !f.has('b') {
		return raw, true
	}
	need := base64.StdEncoding.DecodedLen(len(raw))
	if cap(c.keybuf) < need {
		c.keybuf = make([]byte, need)
	}
	k, err := base64.StdEncoding.Decode(c.keybuf[:need], raw)
	if err != nil || k == 0 {
		c.out = append(c.out, rBadKeyEncoding...)
		return nil, false
	}
	return c.keybuf[:k], true
}

// appendMetaRet appends the returned flags that every meta command shares:
// the opaque and the key (with b when the key is base64).
func appendMetaRet(b []byte, tok, rawKey []byte, f *metaFlags) []byte {
	switch tok[0] {
	case 'O':
		b = append(b, ' ')
		b = append(b, tok...)
	case 'k':
		b = append(b, " k"...)
		b = append(b, rawKey...)
		if f.has('b') {
			b = append(b, " b"...)
		}
	}
	return b
}

// metaGet answers mg.
func (c *conn) metaGet(ctx context.Context, n int) {
	c.ctr.cmdMeta++
	if n < 2 {
		c.out = append(c.out, rError...)
		return
	}
	if n > maxTokens {
		c.out = append(c.out, rBadFormat...)
		return
	}
	var f metaFlags
	if !c.parseMetaFlags(&f, 2, n, mgFlags, false) {
		return
	}
	rawKey := c.toks[1]
	key, ok := c.metaKey(rawKey, &f)
	if !ok {
		return
	}
	cc, err := c.cache()
	if err != nil {
		c.serverError(err)
		return
	}
	c.ctr.cmdGet++
	e, hit, err := cc.Get(ctx, key)
	if err != nil {
		c.serverError(err)
		return
	}
	won := false
	if !hit && f.hasN {
		// Vivify: create an empty item so that one client wins the right
		// to recache it.
		c.op = op{kind: opAdd, expSet: true, exp: toExpiry(f.nTTL)}
		e, hit, err = c.run(ctx, cc, key)
		if err != nil {
			c.serverError(err)
			return
		}
		won = c.op.res == resStored && hit
		if !won {
			e, hit, err = cc.Get(ctx, key)
			if err != nil {
				c.serverError(err)
				return
			}
		}
	}
	if !hit {
		c.ctr.getMisses++
		if f.has('q') {
			return
		}
		c.out = append(c.out, "EN"...)
		for i := f.first; i < f.n; i++ {
			c.out = appendMetaRet(c.out, c.toks[i], rawKey, &f)
		}
		c.out = append(c.out, rCRLF...)
		return
	}
	c.ctr.getHits++
	oldTTL := ttlSeconds(&e.Meta)
	if f.hasT && !won {
		c.ctr.cmdTouch++
		c.op = op{kind: opTouch, expSet: true, exp: toExpiry(f.t)}
		te, ok, err := c.run(ctx, cc, key)
		if err != nil {
			c.serverError(err)
			return
		}
		if ok {
			c.ctr.touchHits++
			e = te
		}
	}
	if f.hasR && !won && oldTTL != -1 && oldTTL < f.r {
		won = true
	}
	b := c.out
	if f.has('v') {
		b = append(b, "VA "...)
		b = strconv.AppendInt(b, int64(len(e.Value)), 10)
	} else {
		b = append(b, "HD"...)
	}
	tSeen := false
	for i := f.first; i < f.n; i++ {
		tok := c.toks[i]
		switch tok[0] {
		case 'T':
			tSeen = true
		case 'c':
			b = append(b, " c"...)
			b = strconv.AppendUint(b, uint64(e.Meta.Version), 10)
		case 'f':
			b = append(b, " f"...)
			b = strconv.AppendUint(b, uint64(e.Meta.Flags), 10)
		case 'h':
			// Fetch history is not kept.
			b = append(b, " h0"...)
		case 'l':
			b = append(b, " l"...)
			b = strconv.AppendInt(b, lastAccess(&e.Meta), 10)
		case 's':
			b = append(b, " s"...)
			b = strconv.AppendInt(b, int64(len(e.Value)), 10)
		case 't':
			// A t before T reports the TTL as it was, as memcached does.
			ttl := oldTTL
			if tSeen || !f.hasT {
				ttl = ttlSeconds(&e.Meta)
			}
			b = append(b, " t"...)
			b = strconv.AppendInt(b, ttl, 10)
		default:
			b = appendMetaRet(b, tok, rawKey, &f)
		}
	}
	if won {
		b = append(b, " W"...)
	}
	b = append(b, rCRLF...)
	if f.has('v') {
		b = append(b, e.Value...)
		b = append(b, rCRLF...)
	}
	c.out = b
}

// lastAccess is the seconds since the entry was last used, as far as the
// cache records it.
func lastAccess(m *cache.Metadata) int64 {
	at := max(m.LastUsed, m.Created)
	d := time.Now().UnixMilli() - at
	if d < 0 {
		return 0
	}
	return d / 1000
}

// metaSet answers ms; like textStore it returns how much of data it used.
func (c *conn) metaSet(ctx context.Context, n int, data []byte) (int, error) {
	c.ctr.cmdMeta++
	if n < 3 {
		if n < 2 {
			c.out = append(c.out, rError...)
		} else {
			c.out = append(c.out, rBadFormat...)
		}
		return 0, nil
	}
	vlen, ok := parseInt(c.toks[2])
	if !ok || vlen < 0 || n > maxTokens {
		c.out = append(c.out, rBadFormat...)
		return 0, nil
	}
	need := int(vlen) + 2
	// After an error on a well-formed line, the data block is skipped.
	skip := func() (int, error) {
		if len(data) >= need {
			return need, nil
		}
		c.swallow = need - len(data)
		return len(data), nil
	}
	var f metaFlags
	if !c.parseMetaFlags(&f, 3, n, msFlags, false) {
		return skip()
	}
	rawKey := c.toks[1]
	key, ok := c.metaKey(rawKey, &f)
	if !ok {
		return skip()
	}
	kind := opSet
	if f.has('M') {
		switch f.mode {
		case 'S', 's':
		case 'E', 'e':
			kind = opAdd
		case 'A', 'a':
			kind = opAppend
		case 'P', 'p':
			kind = opPrepend
		case 'R', 'r':
			kind = opReplace
		default:
			c.out = append(c.out, rBadMsMode...)
			return skip()
		}
	}
	if int(vlen) > c.srv.opts.MaxItemSize {
		c.ctr.storeTooLarge++
		c.out = append(c.out, rTooLarge...)
		return skip()
	}
	if len(data) < need {
		return -1, nil
	}
	if data[vlen] != '\r' || data[vlen+1] != '\n' {
		c.out = append(c.out, rBadChunk...)
		return need, nil
	}
	cc, err := c.cache()
	if err != nil {
		c.serverError(err)
		return need, nil
	}
	// The key may live in c.keybuf; the value aliases the read buffer.
	c.ctr.cmdSet++
	c.op = op{kind: kind, value: data[:vlen], flags: f.flags, expSet: true, exp: toExpiry(f.t), cas: f.cas}
	e, _, err := c.run(ctx, cc, key)
	if err != nil {
		c.serverError(err)
		return need, nil
	}
	var code string
	switch c.op.res {
	case resStored:
		c.ctr.totalItems++
		if f.has('q') {
			return need, nil
		}
		code = "HD"
	case resNotStored:
		code = "NS"
	case resExists:
		code = "EX"
	default:
		code = "NF"
	}
	b := append(c.out, code...)
	for i := f.first; i < f.n; i++ {
		tok := c.toks[i]
		if tok[0] == 'c' {
			b = append(b, " c"...)
			var v uint64
			if c.op.res == resStored {
				v = uint64(e.Meta.Version)
			}
			b = strconv.AppendUint(b, v, 10)
			continue
		}
		b = appendMetaRet(b, tok, rawKey, &f)
	}
	c.out = append(b, rCRLF...)
	return need, nil
}

// metaDelete answers md. The I (invalidate: mark stale) flag is served as
// a delete, which a stale-while-revalidate client sees as a miss.
func (c *conn) metaDelete(ctx context.Context, n int) {
	c.ctr.cmdMeta++
	if n < 2 {
		c.out = append(c.out, rError...)
		return
	}
	if n > maxTokens {
		c.out = append(c.out, rBadFormat...)
		return
	}
	var f metaFlags
	if !c.parseMetaFlags(&f, 2, n, mdFlags, true) {
		return
	}
	rawKey := c.toks[1]
	key, ok := c.metaKey(rawKey, &f)
	if !ok {
		return
	}
	cc, err := c.cache()
	if err != nil {
		c.serverError(err)
		return
	}
	var code string
	if f.has('C') {
		_, res, err := cc.RemoveIfVersion(ctx, key, int64(f.cas), cache.Write{})
		if err != nil {
			c.serverError(err)
			return
		}
		switch res {
		case cache.CondOK:
			code = "HD"
		case cache.CondMismatch:
			code = "EX"
		default:
			code = "NF"
		}
	} else {
		_, ok, err := cc.Remove(ctx, key, cache.Write{})
		if err != nil {
			c.serverError(err)
			return
		}
		code = "NF"
		if ok {
			code = "HD"
		}
	}
	if code == "HD" {
		c.ctr.deleteHits++
		if f.has('q') {
			return
		}
	} else if code == "NF" {
		c.ctr.deleteMisses++
	}
	b := append(c.out, code...)
	for i := f.first; i < f.n; i++ {
		b = appendMetaRet(b, c.toks[i], rawKey, &f)
	}
	c.out = append(b, rCRLF...)
}

// metaArith answers ma.
func (c *conn) metaArith(ctx context.Context, n int) {
	c.ctr.cmdMeta++
	if n < 2 {
		c.out = append(c.out, rError...)
		return
	}
	if n > maxTokens {
		c.out = append(c.out, rBadFormat...)
		return
	}
	var f metaFlags
	if !c.parseMetaFlags(&f, 2, n, maFlags, true) {
		return
	}
	rawKey := c.toks[1]
	key, ok := c.metaKey(rawKey, &f)
	if !ok {
		return
	}
	kind := opIncr
	if f.has('M') {
		switch f.mode {
		case 'I', 'i', '+':
		case 'D', 'd', '-':
			kind = opDecr
		default:
			c.out = append(c.out, rBadMaMode...)
			return
		}
	}
	cc, err := c.cache()
	if err != nil {
		c.serverError(err)
		return
	}
	c.op = op{kind: kind, delta: f.delta, cas: f.cas, vivify: f.hasN, vexp: toExpiry(f.nTTL), initial: f.initial}
	if f.hasT {
		c.op.expSet, c.op.exp = true, toExpiry(f.t)
	}
	e, _, err := c.run(ctx, cc, key)
	if err != nil {
		c.serverError(err)
		return
	}
	hit := c.op.res == resStored || c.op.res == resNonNumeric
	switch {
	case kind == opIncr && hit:
		c.ctr.incrHits++
	case kind == opIncr:
		c.ctr.incrMisses++
	case hit:
		c.ctr.decrHits++
	default:
		c.ctr.decrMisses++
	}
	var code string
	switch c.op.res {
	case resNonNumeric:
		c.out = append(c.out, rNonNumeric...)
		return
	case resNotFound:
		code = "NF"
	case resExists:
		code = "EX"
	case resNotStored:
		code = "NS"
	}
	b := c.out
	var num []byte
	var numBuf [20]byte
	if code == "" {
		if f.has('q') {
			// memcached's q hides a successful ma, value included.
			return
		}
		if f.has('v') {
			num = strconv.AppendUint(numBuf[:0], c.op.num, 10)
			b = append(b, "VA "...)
			b = strconv.AppendInt(b, int64(len(num)), 10)
		} else {
			b = append(b, "HD"...)
		}
	} else {
		b = append(b, code...)
	}
	for i := f.first; i < f.n; i++ {
		tok := c.toks[i]
		switch {
		case code == "" && tok[0] == 't':
			b = append(b, " t"...)
			b = strconv.AppendInt(b, ttlSeconds(&e.Meta), 10)
		case code == "" && tok[0] == 'c':
			b = append(b, " c"...)
			b = strconv.AppendUint(b, uint64(e.Meta.Version), 10)
		default:
			b = appendMetaRet(b, tok, rawKey, &f)
		}
	}
	b = append(b, rCRLF...)
	if num != nil {
		b = append(b, num...)
		b = append(b, rCRLF...)
	}
	c.out = b
}

// metaDebug answers me with what hotgrid knows of an entry.
func (c *conn) metaDebug(ctx context.Context, n int) {
	c.ctr.cmdMeta++
	if n < 2 || n > 3 {
		c.out = append(c.out, rBadFormat...)
		return
	}
	f := metaFlags{}
	if n == 3 {
		if string(c.toks[2]) != "b" {
			c.out = append(c.out, rInvalidFlag...)
			return
		}
		f.seen['b'] = true
	}
	rawKey := c.toks[1]
	key, ok := c.metaKey(rawKey, &f)
	if !ok {
		return
	}
	cc, err := c.cache()
	if err != nil {
		c.serverError(err)
		return
	}
	e, hit, err := cc.Get(ctx, key)
	if err != nil {
		c.serverError(err)
		return
	}
	if !hit {
		c.out = append(c.out, "EN\r\n"...)
		return
	}
	b := append(c.out, "ME "...)
	b = append(b, rawKey...)
	b = append(b, " exp="...)
	b = strconv.AppendInt(b, ttlSeconds(&e.Meta), 10)
	b = append(b, " la="...)
	b = strconv.AppendInt(b, lastAccess(&e.Meta), 10)
	b = append(b, " cas="...)
	b = strconv.AppendUint(b, uint64(e.Meta.Version), 10)
	b = append(b, " fetch=no cls=1 size="...)
	b = strconv.AppendInt(b, int64(len(key)+len(e.Value)), 10)
	c.out = append(b, rCRLF...)
}
