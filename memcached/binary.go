package memcached

import (
	"context"
	"encoding/binary"
	"errors"
	"net"
	"strconv"

	"github.com/hotgrid/hotgrid/cache"
	"github.com/hotgrid/hotgrid/security/authz"
)

// Binary protocol magic bytes and header size.
const (
	binaryRequestMagic  = 0x80
	binaryResponseMagic = 0x81
	binaryHeaderLen     = 24
)

// Binary opcodes.
const (
	opcGet        = 0x00
	opcSet        = 0x01
	opcAdd        = 0x02
	opcReplace    = 0x03
	opcDelete     = 0x04
	opcIncrement  = 0x05
	opcDecrement  = 0x06
	opcQuit       = 0x07
	opcFlush      = 0x08
	opcGetQ       = 0x09
	opcNoop       = 0x0a
	opcVersion    = 0x0b
	opcGetK       = 0x0c
	opcGetKQ      = 0x0d
	opcAppend     = 0x0e
	opcPrepend    = 0x0f
	opcStat       = 0x10
	opcSetQ       = 0x11
	opcAddQ       = 0x12
	opcReplaceQ   = 0x13
	opcDeleteQ    = 0x14
	opcIncrementQ = 0x15
	opcDecrementQ = 0x16
	opcQuitQ      = 0x17
	opcFlushQ     = 0x18
	opcAppendQ    = 0x19
	opcPrependQ   = 0x1a
	opcVerbosity  = 0x1b
	opcTouch      = 0x1c
	opcGAT        = 0x1d
	opcGATQ       = 0x1e
	opcSASLList   = 0x20
	opcSASLAuth   = 0x21
	opcSASLStep   = 0x22
	opcGATK       = 0x23
	opcGATKQ      = 0x24
	opcConfigGet  = 0x60
)

// Binary response statuses.
const (
	stOK           = 0x0000
	stNotFound     = 0x0001
	stExists       = 0x0002
	stTooLarge     = 0x0003
	stInvalid      = 0x0004
	stNotStored    = 0x0005
	stNonNumeric   = 0x0006
	stAuthError    = 0x0020
	stAuthContinue = 0x0021
	stUnknown      = 0x0081
	stOutOfMemory  = 0x0082
	stInternal     = 0x0084
)

// statusText is the body memcached sends with an error status.
func statusText(st uint16) string {
	switch st {
	case stNotFound:
		return "Not found"
	case stExists:
		return "Data exists for key."
	case stTooLarge:
		return "Too large."
	case stInvalid:
		return "Invalid arguments"
	case stNotStored:
		return "Not stored."
	case stNonNumeric:
		return "Non-numeric server-side value for incr or decr"
	case stAuthError:
		return "Auth failure."
	case stUnknown:
		return "Unknown command"
	case stOutOfMemory:
		return "Out of memory"
	}
	return "Internal error"
}

// binReq is a decoded binary request; slices alias the read buffer.
type binReq struct {
	opcode byte
	opaque uint32
	cas    uint64
	extras []byte
	key    []byte
	value  []byte
}

// binaryRequest answers the request at the start of buf and returns the
// bytes consumed, 0 if it is not complete yet.
func (c *conn) binaryRequest(ctx context.Context, buf []byte) (int, error) {
	if len(buf) < binaryHeaderLen {
		return 0, nil
	}
	if buf[0] != binaryRequestMagic {
		// No way to resynchronise; memcached closes too.
		return len(buf), errQuit
	}
	var r binReq
	r.opcode = buf[1]
	keyLen := int(binary.BigEndian.Uint16(buf[2:]))
	extLen := int(buf[4])
	bodyLen := int(binary.BigEndian.Uint32(buf[8:]))
	r.opaque = binary.BigEndian.Uint32(buf[12:])
	r.cas = binary.BigEndian.Uint64(buf[16:])
	if keyLen+extLen > bodyLen || keyLen > maxKeyLen {
		c.binError(&r, stInvalid)
		return len(buf), errQuit
	}
	total := binaryHeaderLen + bodyLen
	if bodyLen > c.srv.opts.MaxItemSize+maxKeyLen+64 {
		// Refuse without buffering it: answer, then discard the body.
		st := uint16(stInvalid)
		if isStorageOpcode(r.opcode) {
			st = stTooLarge
			c.ctr.storeTooLarge++
		}
		c.binError(&r, st)
		if len(buf) >= total {
			return total, nil
		}
		c.swallow = total - len(buf)
		return len(buf), nil
	}
	if len(buf) < total {
		return 0, nil
	}
	body := buf[binaryHeaderLen:total]
	r.extras = body[:extLen]
	r.key = body[extLen : extLen+keyLen]
	r.value = body[extLen+keyLen:]
	if !validBinary(&r) {
		c.binError(&r, stInvalid)
		return total, errQuit
	}
	return total, c.binaryCommand(ctx, &r)
}

func isStorageOpcode(op byte) bool {
	switch op {
	case opcSet, opcAdd, opcReplace, opcAppend, opcPrepend, opcSetQ, opcAddQ, opcReplaceQ, opcAppendQ, opcPrependQ:
		return true
	}
	return false
}

// validBinary checks the key, extras and value lengths an opcode requires,
// as memcached does before executing anything.
func validBinary(r *binReq) bool {
	k, e, v := len(r.key), len(r.extras), len(r.value)
	switch r.opcode {
	case opcGet, opcGetQ, opcGetK, opcGetKQ, opcDelete, opcDeleteQ:
		return k > 0 && e == 0 && v == 0
	case opcSet, opcAdd, opcReplace, opcSetQ, opcAddQ, opcReplaceQ:
		return k > 0 && e == 8
	case opcAppend, opcPrepend, opcAppendQ, opcPrependQ:
		return k > 0 && e == 0
	case opcIncrement, opcDecrement, opcIncrementQ, opcDecrementQ:
		return k > 0 && e == 20 && v == 0
	case opcQuit, opcQuitQ, opcNoop, opcVersion:
		return k == 0 && e == 0 && v == 0
	case opcFlush, opcFlushQ:
		return k == 0 && (e == 0 || e == 4) && v == 0
	case opcStat:
		return e == 0 && v == 0
	case opcVerbosity:
		return k == 0 && e == 4 && v == 0
	case opcTouch, opcGAT, opcGATQ, opcGATK, opcGATKQ:
		return k > 0 && e == 4 && v == 0
	}
	return true
}

// binHeader appends a response header.
func (c *conn) binHeader(r *binReq, status uint16, extLen, keyLen, bodyLen int, cas uint64) {
	var h [binaryHeaderLen]byte
	h[0] = binaryResponseMagic
	h[1] = r.opcode
	binary.BigEndian.PutUint16(h[2:], uint16(keyLen))
	h[4] = byte(extLen)
	binary.BigEndian.PutUint16(h[6:], status)
	binary.BigEndian.PutUint32(h[8:], uint32(bodyLen))
	binary.BigEndian.PutUint32(h[12:], r.opaque)
	binary.BigEndian.PutUint64(h[16:], cas)
	c.out = append(c.out, h[:]...)
}

// binOK appends an empty success response.
func (c *conn) binOK(r *binReq, cas uint64) {
	c.binHeader(r, stOK, 0, 0, 0, cas)
}

// binError appends an error response with memcached's message.
func (c *conn) binError(r *binReq, status uint16) {
	msg := statusText(status)
	c.binHeader(r, status, 0, 0, len(msg), 0)
	c.out = append(c.out, msg...)
}

// binServerError answers an error from the cache.
func (c *conn) binServerError(r *binReq, err error) {
	if errors.Is(err, cache.ErrContainerFull) {
		c.binError(r, stOutOfMemory)
		return
	}
	status := uint16(stInternal)
	if errors.Is(err, authz.ErrDenied) || errors.Is(err, authz.ErrUnauthenticated) {
		status = stAuthError
	}
	msg := err.Error()
	c.binHeader(r, status, 0, 0, len(msg), 0)
	c.out = append(c.out, msg...)
}

// binaryCommand executes a well-formed request.
func (c *conn) binaryCommand(ctx context.Context, r *binReq) error {
	if !c.authenticated() && !binaryAllowedBeforeAuth(r.opcode) {
		c.binError(r, stAuthError)
		return nil
	}
	ctx = c.runContext(ctx)
	switch r.opcode {
	case opcNoop:
		c.binOK(r, 0)
		return nil
	case opcVersion:
		c.binHeader(r, stOK, 0, 0, len(Version), 0)
		c.out = append(c.out, Version...)
		return nil
	case opcQuit:
		c.binOK(r, 0)
		return errQuit
	case opcQuitQ:
		return errQuit
	case opcVerbosity:
		c.binOK(r, 0)
		return nil
	case opcSASLList, opcSASLAuth, opcSASLStep:
		c.binSASL(ctx, r)
		return nil
	case opcConfigGet:
		c.binConfigGet(r)
		return nil
	case opcStat:
		c.binStat(ctx, r)
		return nil
	}
	cc, err := c.cache()
	if err != nil {
		c.binServerError(r, err)
		return nil
	}
	switch r.opcode {
	case opcGet, opcGetQ, opcGetK, opcGetKQ:
		c.binGet(ctx, cc, r, false)
	case opcGAT, opcGATQ, opcGATK, opcGATKQ, opcTouch:
		c.binGet(ctx, cc, r, true)
	case opcSet, opcSetQ, opcAdd, opcAddQ, opcReplace, opcReplaceQ, opcAppend, opcAppendQ, opcPrepend, opcPrependQ:
		c.binStore(ctx, cc, r)
	case opcDelete, opcDeleteQ:
		c.binDelete(ctx, cc, r)
	case opcIncrement, opcIncrementQ, opcDecrement, opcDecrementQ:
		c.binArith(ctx, cc, r)
	case opcFlush, opcFlushQ:
		var delay int64
		if len(r.extras) == 4 {
			delay = int64(binary.BigEndian.Uint32(r.extras))
		}
		c.ctr.cmdFlush++
		if err := c.srv.flushAll(ctx, cc, delay); err != nil {
			c.binServerError(r, err)
		} else if r.opcode == opcFlush {
			c.binOK(r, 0)
		}
	default:
		c.binError(r, stUnknown)
	}
	return nil
}

// binGet answers GET, GETQ, GETK, GETKQ and, with touch, GAT, GATQ, GATK,
// GATKQ and TOUCH.
func (c *conn) binGet(ctx context.Context, cc cache.Cache, r *binReq, touch bool) {
	quiet := r.opcode == opcGetQ || r.opcode == opcGetKQ || r.opcode == opcGATQ || r.opcode == opcGATKQ
	withKey := r.opcode == opcGetK || r.opcode == opcGetKQ || r.opcode == opcGATK || r.opcode == opcGATKQ
	var e cache.Entry
	var ok bool
	var err error
	if touch {
		c.ctr.cmdTouch++
		exptime := int64(binary.BigEndian.Uint32(r.extras))
		c.op = op{kind: opTouch, expSet: true, exp: toExpiry(exptime)}
		e, ok, err = c.run(ctx, cc, r.key)
		if ok {
			c.ctr.touchHits++
		} else {
			c.ctr.touchMisses++
		}
	} else {
		e, ok, err = cc.Get(ctx, r.key)
	}
	if err != nil {
		c.binServerError(r, err)
		return
	}
	if r.opcode != opcTouch {
		c.ctr.cmdGet++
		if ok {
			c.ctr.getHits++
		} else {
			c.ctr.getMisses++
		}
	}
	if !ok {
		switch {
		case quiet:
		case withKey:
			c.binHeader(r, stNotFound, 0, len(r.key), len(r.key), 0)
			c.out = append(c.out, r.key...)
		default:
			c.binError(r, stNotFound)
		}
		return
	}
	keyLen := 0
	if withKey {
		keyLen = len(r.key)
	}
	valLen := len(e.Value)
	if r.opcode == opcTouch {
		valLen = 0
	}
	c.binHeader(r, stOK, 4, keyLen, 4+keyLen+valLen, uint64(e.Meta.Version))
	c.out = binary.BigEndian.AppendUint32(c.out, e.Meta.Flags)
	if withKey {
		c.out = append(c.out, r.key...)
	}
	if r.opcode != opcTouch {
		c.out = append(c.out, e.Value...)
	}
}

// binStore answers SET, ADD, REPLACE, APPEND, PREPEND and their quiet
// forms; a non-zero CAS in the header makes the write conditional.
func (c *conn) binStore(ctx context.Context, cc cache.Cache, r *binReq) {
	var kind opKind
	quiet := false
	switch r.opcode {
	case opcSetQ:
		quiet = true
		fallthrough
	case opcSet:
		kind = opSet
	case opcAddQ:
		quiet = true
		fallthrough
	case opcAdd:
		kind = opAdd
	case opcReplaceQ:
		quiet = true
		fallthrough
	case opcReplace:
		kind = opReplace
	case opcAppendQ:
		quiet = true
		fallthrough
	case opcAppend:
		kind = opAppend
	case opcPrependQ:
		quiet = true
		fallthrough
	case opcPrepend:
		kind = opPrepend
	}
	if len(r.value) > c.srv.opts.MaxItemSize {
		c.ctr.storeTooLarge++
		c.binError(r, stTooLarge)
		return
	}
	c.ctr.cmdSet++
	o := op{kind: kind, value: r.value, cas: r.cas}
	if len(r.extras) == 8 {
		o.flags = binary.BigEndian.Uint32(r.extras)
		o.expSet = true
		o.exp = toExpiry(int64(binary.BigEndian.Uint32(r.extras[4:])))
	}
	if kind == opAdd {
		o.cas = 0
	}
	c.op = o
	e, _, err := c.run(ctx, cc, r.key)
	if err != nil {
		c.binServerError(r, err)
		return
	}
	if r.cas != 0 && kind != opAdd {
		switch c.op.res {
		case resStored:
			c.ctr.casHits++
		case resExists:
			c.ctr.casBadval++
		case resNotFound, resNotStored:
			c.ctr.casMisses++
		}
	}
	switch c.op.res {
	case resStored:
		c.ctr.totalItems++
		if !quiet {
			c.binOK(r, uint64(e.Meta.Version))
		}
	case resExists:
		c.binError(r, stExists)
	case resNotFound:
		c.binError(r, stNotFound)
	case resNotStored:
		switch kind {
		case opAdd:
			c.binError(r, stExists)
		case opReplace:
			c.binError(r, stNotFound)
		default:
			c.binError(r, stNotStored)
		}
	}
}

func (c *conn) binDelete(ctx context.Context, cc cache.Cache, r *binReq) {
	var ok bool
	var err error
	var st uint16 = stOK
	if r.cas != 0 {
		var res cache.CondResult
		_, res, err = cc.RemoveIfVersion(ctx, r.key, int64(r.cas), cache.Write{})
		switch res {
		case cache.CondOK:
			ok = true
		case cache.CondMismatch:
			st = stExists
		default:
			st = stNotFound
		}
	} else {
		_, ok, err = cc.Remove(ctx, r.key, cache.Write{})
		if !ok {
			st = stNotFound
		}
	}
	if err != nil {
		c.binServerError(r, err)
		return
	}
	if ok {
		c.ctr.deleteHits++
		if r.opcode == opcDelete {
			c.binOK(r, 0)
		}
		return
	}
	if st == stNotFound {
		c.ctr.deleteMisses++
	}
	c.binError(r, st)
}

func (c *conn) binArith(ctx context.Context, cc cache.Cache, r *binReq) {
	kind := opIncr
	if r.opcode == opcDecrement || r.opcode == opcDecrementQ {
		kind = opDecr
	}
	quiet := r.opcode == opcIncrementQ || r.opcode == opcDecrementQ
	exptime := binary.BigEndian.Uint32(r.extras[16:])
	c.op = op{
		kind:    kind,
		delta:   binary.BigEndian.Uint64(r.extras),
		initial: binary.BigEndian.Uint64(r.extras[8:]),
		// 0xffffffff: fail on a miss rather than create.
		vivify: exptime != 0xffffffff,
		vexp:   toExpiry(int64(exptime)),
		cas:    r.cas,
	}
	e, _, err := c.run(ctx, cc, r.key)
	if err != nil {
		c.binServerError(r, err)
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
	switch c.op.res {
	case resStored:
		if !quiet {
			c.binHeader(r, stOK, 0, 0, 8, uint64(e.Meta.Version))
			c.out = binary.BigEndian.AppendUint64(c.out, c.op.num)
		}
	case resNonNumeric:
		c.binError(r, stNonNumeric)
	case resExists:
		c.binError(r, stExists)
	default:
		c.binError(r, stNotFound)
	}
}

// binStat answers STAT with one packet per statistic and an empty one.
func (c *conn) binStat(ctx context.Context, r *binReq) {
	if cc, err := c.cache(); err == nil {
		if err := cache.Authorize(ctx, cc, authz.Monitor); err != nil {
			c.binServerError(r, err)
			return
		}
	}
	var stats []stat
	switch string(r.key) {
	case "":
		cc, _ := c.cache()
		c.srv.stats.add(&c.ctr)
		stats = c.srv.generalStats(ctx, cc)
	case "reset":
		c.ctr = counters{}
		c.srv.stats.reset()
	case "settings":
		stats = c.srv.settingsStats()
	case "items":
		cc, _ := c.cache()
		stats = c.srv.itemsStats(ctx, cc)
	case "slabs":
		stats = c.srv.slabsStats()
	case "sizes":
		stats = []stat{{"sizes_status", "disabled"}}
	default:
		c.binError(r, stNotFound)
		return
	}
	for _, s := range stats {
		c.binHeader(r, stOK, 0, len(s.name), len(s.name)+len(s.value), 0)
		c.out = append(c.out, s.name...)
		c.out = append(c.out, s.value...)
	}
	c.binOK(r, 0)
}

// binConfigGet answers CONFIG_GET as Infinispan does: "cluster" gives an
// ElastiCache-style node list of this server alone.
func (c *conn) binConfigGet(r *binReq) {
	var body []byte
	if string(r.key) == "cluster" {
		host, port := "127.0.0.1", 11211
		if a, ok := c.nc.LocalAddr().(*net.TCPAddr); ok {
			host, port = a.IP.String(), a.Port
		}
		body = append(body, "1\r\n"...)
		body = append(body, host...)
		body = append(body, '|')
		body = append(body, host...)
		body = append(body, '|')
		body = strconv.AppendInt(body, int64(port), 10)
		body = append(body, "\r\n"...)
	}
	c.binHeader(r, stOK, 0, 0, len(body), 0)
	c.out = append(c.out, body...)
}
