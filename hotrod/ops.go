package hotrod

import (
	"context"
	"errors"
	"fmt"
	"strconv"

	"github.com/hotgrid/hotgrid/cache"
	"github.com/hotgrid/hotgrid/config"
	"github.com/hotgrid/hotgrid/encoding"
	"github.com/hotgrid/hotgrid/hotrod/wire"
	"github.com/hotgrid/hotgrid/security/authz"
)

// supportedOps is the request op list a 3.0+ ping reply advertises.
var supportedOps = []uint16{
	wire.OpPut, wire.OpGet, wire.OpPutIfAbsent, wire.OpReplace, wire.OpReplaceIfUnmodified,
	wire.OpRemove, wire.OpRemoveIfUnmodified, wire.OpContainsKey, wire.OpGetWithVersion,
	wire.OpClear, wire.OpStats, wire.OpPing, wire.OpBulkGet, wire.OpGetWithMetadata,
	wire.OpBulkGetKeys, wire.OpAuthMechList, wire.OpAuth, wire.OpAddClientListener,
	wire.OpRemoveClientListener, wire.OpSize, wire.OpExec, wire.OpPutAll, wire.OpGetAll,
	wire.OpIterationStart, wire.OpIterationNext, wire.OpIterationEnd,
}

// cacheNotFound formats the error text both reference clients look for.
func cacheNotFound(name string) string {
	return "org.infinispan.server.hotrod.CacheNotFoundException: Cache with name '" + name +
		"' not found amongst the configured caches"
}

// execute runs the decoded request in c.req and queues its response.
func (c *conn) execute(ctx context.Context) {
	r := &c.req
	ctx, ok := c.authorize(ctx)
	if !ok {
		return
	}
	switch r.op {
	case wire.OpAuthMechList:
		c.authMechList()
		return
	case wire.OpAuth:
		c.authenticate(ctx)
		return
	}
	cc, err := c.resolveCache(r.cacheName)
	if err != nil {
		if r.op == wire.OpPing && len(r.cacheName) == 0 {
			c.ping(nil)
			return
		}
		if r.op == wire.OpExec && len(r.cacheName) == 0 {
			// Admin tasks need no cache.
			c.exec(ctx, nil)
			return
		}
		if errors.Is(err, cache.ErrNotFound) {
			c.fail(wire.StatusParseError, cacheNotFound(string(r.cacheName)))
			return
		}
		c.fail(wire.StatusServerError, err.Error())
		return
	}
	switch r.op {
	case wire.OpPing:
		c.ping(cc)
	case wire.OpGet, wire.OpGetWithVersion, wire.OpGetWithMetadata:
		c.get(ctx, cc)
	case wire.OpContainsKey:
		c.containsKey(ctx, cc)
	case wire.OpPut, wire.OpPutIfAbsent, wire.OpReplace, wire.OpReplaceIfUnmodified:
		c.write(ctx, cc)
	case wire.OpRemove, wire.OpRemoveIfUnmodified:
		c.remove(ctx, cc)
	case wire.OpClear:
		if err := cc.Clear(ctx); err != nil {
			c.fail(wire.StatusServerError, err.Error())
			return
		}
		c.status(cc, wire.StatusSuccess)
	case wire.OpSize:
		n, err := cc.Size(ctx)
		if err != nil {
			c.fail(wire.StatusServerError, err.Error())
			return
		}
		b := c.out.lock()
		b = c.header(b, wire.StatusSuccess, cc)
		b = wire.AppendVLong(b, n)
		c.out.unlock(b)
	case wire.OpStats:
		if err := cache.Authorize(ctx, cc, authz.Monitor); err != nil {
			c.failErr(err)
			return
		}
		c.stats(cc)
	case wire.OpPutAll:
		c.putAll(ctx, cc)
	case wire.OpGetAll:
		c.getAll(ctx, cc)
	case wire.OpBulkGet, wire.OpBulkGetKeys:
		c.bulk(ctx, cc)
	case wire.OpExec:
		c.exec(ctx, cc)
	case wire.OpAddClientListener:
		if err := cache.Authorize(ctx, cc, authz.Listen); err != nil {
			c.failErr(err)
			return
		}
		c.addListener(ctx, cc)
	case wire.OpRemoveClientListener:
		c.removeListener(cc)
	case wire.OpIterationStart:
		c.iterationStart(ctx, cc)
	case wire.OpIterationNext:
		c.iterationNext(ctx, cc)
	case wire.OpIterationEnd:
		c.iterationEnd(cc)
	default:
		c.fail(wire.StatusUnknownCommand, fmt.Sprintf("Unknown operation 0x%02x", r.op))
	}
}

// header appends a response header for c.req with the topology block when
// the client needs one.
func (c *conn) header(b []byte, status byte, cc cache.Cache) []byte {
	r := &c.req
	b = append(b, wire.ResponseMagic)
	b = wire.AppendVLong(b, r.msgID)
	b = append(b, wire.ResponseOp(r.op), status)
	return c.appendTopology(b, cc)
}

// appendTopology writes the topology marker and, when the client's view is
// stale, the topology block. Local caches never carry topology.
func (c *conn) appendTopology(b []byte, cc cache.Cache) []byte {
	r := &c.req
	if cc == nil || r.intelligence < wire.IntelligenceTopologyAware || cc.Config().Mode == config.ModeLocal {
		return append(b, 0)
	}
	t := c.srv.topology(c)
	if r.topologyID == t.ID {
		return append(b, 0)
	}
	b = append(b, 1)
	b = wire.AppendVInt(b, t.ID)
	b = wire.AppendVInt(b, int32(len(t.Members)))
	local := c.localTopo.Members[0].Host
	for _, m := range t.Members {
		host := m.Host
		if host == "" || host == "0.0.0.0" || host == "::" {
			host = local
		}
		b = wire.AppendString(b, host)
		b = wire.AppendUint16(b, uint16(m.Port))
	}
	if r.intelligence < wire.IntelligenceHashAware {
		return b
	}
	mode := cc.Config().Mode
	if mode == config.ModeInvalidation {
		// No hash information: hash function 0 and, for the js client,
		// an explicit zero segment count.
		return append(b, 0, 0)
	}
	b = append(b, 3)
	n := cc.NumSegments()
	b = wire.AppendVInt(b, int32(n))
	owners := len(t.Members)
	if mode == config.ModeDistributed {
		owners = min(owners, max(cc.Config().Owners, 1))
	}
	for s := 0; s < n; s++ {
		b = append(b, byte(owners))
		for i := 0; i < owners; i++ {
			// Spread primaries round-robin over members.
			b = wire.AppendVInt(b, int32((s+i)%len(t.Members)))
		}
	}
	return b
}

// status queues a response with only a status.
func (c *conn) status(cc cache.Cache, status byte) {
	b := c.out.lock()
	b = c.header(b, status, cc)
	c.out.unlock(b)
}

// fail queues an error response.
func (c *conn) fail(status byte, msg string) {
	r := &c.req
	b := c.out.lock()
	b = append(b, wire.ResponseMagic)
	b = wire.AppendVLong(b, r.msgID)
	b = append(b, wire.OpError, status, 0)
	b = wire.AppendString(b, msg)
	c.out.unlock(b)
}

// failErr maps a cache error to a Hot Rod error response.
func (c *conn) failErr(err error) {
	switch {
	case errors.Is(err, cache.ErrNotFound):
		c.fail(wire.StatusParseError, cacheNotFound(string(c.req.cacheName)))
	case errors.Is(err, encoding.ErrUnsupported):
		c.fail(wire.StatusParseError, "ISPN000492: Cannot find transcoder: "+err.Error())
	case errors.Is(err, cache.ErrContainerFull):
		c.fail(wire.StatusServerError, "org.infinispan.commons.CacheException: ISPN000508: Container is full: "+err.Error())
	default:
		c.fail(wire.StatusServerError, err.Error())
	}
}

func (c *conn) ping(cc cache.Cache) {
	r := &c.req
	b := c.out.lock()
	b = c.header(b, wire.StatusSuccess, cc)
	if r.version >= wire.Version29 {
		var kt, vt string
		if cc != nil {
			kt, vt = cc.Config().KeyMediaType, cc.Config().ValueMediaType
		}
		b = appendStorageType(b, kt)
		b = appendStorageType(b, vt)
	}
	if r.version >= wire.Version30 {
		b = append(b, wire.VersionLatest)
		b = wire.AppendVInt(b, int32(len(supportedOps)))
		for _, op := range supportedOps {
			b = wire.AppendUint16(b, op)
		}
	}
	c.out.unlock(b)
}

// appendStorageType writes a cache's storage media type without parameters
// (the js client cannot skip them); none when the cache has no encoding.
func appendStorageType(b []byte, mt string) []byte {
	base := encoding.Base(mt)
	if base == "" || base == encoding.Unknown {
		return append(b, 0)
	}
	return wire.AppendMediaType(b, wire.MediaType{Name: base})
}

// keyIn converts a request key into the cache's storage type.
func (c *conn) keyIn(cc cache.Cache, key []byte) ([]byte, error) {
	return c.convertIn(&c.scratch, key, c.req.keyType.Name, cc.Config().KeyMediaType)
}

// valueIn converts a request value into the cache's storage type.
func (c *conn) valueIn(cc cache.Cache, v []byte) ([]byte, error) {
	return c.convertIn(&c.vbuf, v, c.req.valueType.Name, cc.Config().ValueMediaType)
}

func (c *conn) convertIn(buf *[]byte, data []byte, from, to string) ([]byte, error) {
	if encoding.Identity(from, to) {
		return data, nil
	}
	out, err := encoding.Convert((*buf)[:0], data, from, to)
	*buf = out
	return out, err
}

// appendKeyOut appends a stored key converted to the client's key type.
func appendOut(b, data []byte, storage, client string) []byte {
	if encoding.Identity(storage, client) {
		return wire.AppendBytes(b, data)
	}
	conv, err := encoding.Convert(nil, data, storage, client)
	if err != nil {
		// Data that cannot be shown in the client's type goes as stored.
		conv = data
	}
	return wire.AppendBytes(b, conv)
}

func (c *conn) keyOut(b []byte, cc cache.Cache, key []byte) []byte {
	return appendOut(b, key, cc.Config().KeyMediaType, c.req.keyType.Name)
}

func (c *conn) valueOut(b []byte, cc cache.Cache, v []byte) []byte {
	return appendOut(b, v, cc.Config().ValueMediaType, c.req.valueType.Name)
}

// appendMeta writes the META block.
func appendMeta(b []byte, m *cache.Metadata) []byte {
	var flags byte
	if m.Lifespan < 0 {
		flags |= wire.MetaInfiniteLifespan
	}
	if m.MaxIdle < 0 {
		flags |= wire.MetaInfiniteMaxIdle
	}
	b = append(b, flags)
	if m.Lifespan >= 0 {
		b = wire.AppendInt64(b, m.Created)
		b = wire.AppendVInt(b, int32(m.Lifespan/1000))
	}
	if m.MaxIdle >= 0 {
		b = wire.AppendInt64(b, m.LastUsed)
		b = wire.AppendVInt(b, int32(m.MaxIdle/1000))
	}
	return wire.AppendInt64(b, m.Version)
}

// appendPrev writes the previous-value payload for the request's version.
func (c *conn) appendPrev(b []byte, cc cache.Cache, e *cache.Entry, present bool) []byte {
	if c.req.version >= wire.Version40 {
		if !present {
			b = append(b, wire.MetaInfiniteLifespan|wire.MetaInfiniteMaxIdle)
			b = wire.AppendInt64(b, -1)
			return append(b, 0)
		}
		b = appendMeta(b, &e.Meta)
	}
	if !present {
		return append(b, 0)
	}
	return c.valueOut(b, cc, e.Value)
}

func (c *conn) get(ctx context.Context, cc cache.Cache) {
	key, err := c.keyIn(cc, c.req.key)
	if err != nil {
		c.failErr(err)
		return
	}
	e, ok, err := cc.Get(ctx, key)
	if err != nil {
		c.failErr(err)
		return
	}
	b := c.out.lock()
	if !ok {
		b = c.header(b, wire.StatusKeyDoesNotExist, cc)
		c.out.unlock(b)
		return
	}
	b = c.header(b, wire.StatusSuccess, cc)
	switch c.req.op {
	case wire.OpGetWithVersion:
		b = wire.AppendInt64(b, e.Meta.Version)
	case wire.OpGetWithMetadata:
		b = appendMeta(b, &e.Meta)
	}
	b = c.valueOut(b, cc, e.Value)
	c.out.unlock(b)
}

func (c *conn) containsKey(ctx context.Context, cc cache.Cache) {
	key, err := c.keyIn(cc, c.req.key)
	if err != nil {
		c.failErr(err)
		return
	}
	ok, err := cc.ContainsKey(ctx, key)
	if err != nil {
		c.failErr(err)
		return
	}
	if ok {
		c.status(cc, wire.StatusSuccess)
	} else {
		c.status(cc, wire.StatusKeyDoesNotExist)
	}
}

func (c *conn) write(ctx context.Context, cc cache.Cache) {
	r := &c.req
	key, err := c.keyIn(cc, r.key)
	if err != nil {
		c.failErr(err)
		return
	}
	val, err := c.valueIn(cc, r.value)
	if err != nil {
		c.failErr(err)
		return
	}
	frv := r.flags&wire.FlagForceReturnValue != 0
	var (
		e       cache.Entry
		present bool
		status  byte
	)
	switch r.op {
	case wire.OpPut:
		e, present, err = cc.Put(ctx, key, val, r.exp)
		status = wire.StatusSuccess
		if frv {
			status = wire.StatusSuccessWithPrev
		}
	case wire.OpPutIfAbsent:
		e, present, err = cc.PutIfAbsent(ctx, key, val, r.exp)
		switch {
		case !present:
			status = wire.StatusSuccess
		case frv:
			status = wire.StatusNotExecutedWithPrev
		default:
			status = wire.StatusNotExecuted
		}
	case wire.OpReplace:
		e, present, err = cc.Replace(ctx, key, val, r.exp)
		switch {
		case !present:
			status = wire.StatusNotExecuted
		case frv:
			status = wire.StatusSuccessWithPrev
		default:
			status = wire.StatusSuccess
		}
	case wire.OpReplaceIfUnmodified:
		var res cache.CondResult
		e, res, err = cc.ReplaceIfVersion(ctx, key, val, r.entryVersion, r.exp)
		status, present = condStatus(res, frv)
	}
	if err != nil {
		c.failErr(err)
		return
	}
	b := c.out.lock()
	b = c.header(b, status, cc)
	if status == wire.StatusSuccessWithPrev || status == wire.StatusNotExecutedWithPrev {
		b = c.appendPrev(b, cc, &e, present)
	}
	c.out.unlock(b)
}

// condStatus maps a versioned write's outcome to its status.
func condStatus(res cache.CondResult, frv bool) (status byte, withPrev bool) {
	switch res {
	case cache.CondOK:
		if frv {
			return wire.StatusSuccessWithPrev, true
		}
		return wire.StatusSuccess, false
	case cache.CondMismatch:
		if frv {
			return wire.StatusNotExecutedWithPrev, true
		}
		return wire.StatusNotExecuted, false
	}
	return wire.StatusKeyDoesNotExist, false
}

func (c *conn) remove(ctx context.Context, cc cache.Cache) {
	r := &c.req
	key, err := c.keyIn(cc, r.key)
	if err != nil {
		c.failErr(err)
		return
	}
	frv := r.flags&wire.FlagForceReturnValue != 0
	var (
		e       cache.Entry
		status  byte
		present bool
	)
	if r.op == wire.OpRemove {
		var ok bool
		e, ok, err = cc.Remove(ctx, key, r.exp)
		switch {
		case !ok:
			status = wire.StatusKeyDoesNotExist
		case frv:
			status, present = wire.StatusSuccessWithPrev, true
		default:
			status = wire.StatusSuccess
		}
	} else {
		var res cache.CondResult
		e, res, err = cc.RemoveIfVersion(ctx, key, r.entryVersion, r.exp)
		status, present = condStatus(res, frv)
	}
	if err != nil {
		c.failErr(err)
		return
	}
	b := c.out.lock()
	b = c.header(b, status, cc)
	if status == wire.StatusSuccessWithPrev || status == wire.StatusNotExecutedWithPrev {
		b = c.appendPrev(b, cc, &e, present)
	}
	c.out.unlock(b)
}

func (c *conn) stats(cc cache.Cache) {
	st := cc.Stats()
	kv := [...]struct {
		name string
		v    int64
	}{
		{"timeSinceStart", st.TimeSinceStart},
		{"currentNumberOfEntries", st.Entries},
		{"stores", st.Stores},
		{"retrievals", st.Retrievals},
		{"hits", st.Hits},
		{"misses", st.Misses},
		{"removeHits", st.RemoveHits},
		{"removeMisses", st.RemoveMisses},
		{"approximateEntries", st.Entries},
		{"approximateEntriesUnique", st.Entries},
	}
	b := c.out.lock()
	b = c.header(b, wire.StatusSuccess, cc)
	b = wire.AppendVInt(b, int32(len(kv)))
	var num [20]byte
	for _, s := range kv {
		b = wire.AppendString(b, s.name)
		b = wire.AppendBytes(b, strconv.AppendInt(num[:0], s.v, 10))
	}
	c.out.unlock(b)
}

func (c *conn) putAll(ctx context.Context, cc cache.Cache) {
	for _, p := range c.req.pairs {
		key, err := c.keyIn(cc, p.key)
		if err != nil {
			c.failErr(err)
			return
		}
		val, err := c.valueIn(cc, p.value)
		if err != nil {
			c.failErr(err)
			return
		}
		if _, _, err := cc.Put(ctx, key, val, c.req.exp); err != nil {
			c.failErr(err)
			return
		}
	}
	c.status(cc, wire.StatusSuccess)
}

func (c *conn) getAll(ctx context.Context, cc cache.Cache) {
	type kv struct{ key, value []byte }
	found := make([]kv, 0, len(c.req.keys))
	for _, k := range c.req.keys {
		key, err := c.keyIn(cc, k)
		if err != nil {
			c.failErr(err)
			return
		}
		e, ok, err := cc.Get(ctx, key)
		if err != nil {
			c.failErr(err)
			return
		}
		if ok {
			// Answer with the key as the client sent it.
			found = append(found, kv{k, e.Value})
		}
	}
	b := c.out.lock()
	b = c.header(b, wire.StatusSuccess, cc)
	b = wire.AppendVInt(b, int32(len(found)))
	for _, f := range found {
		b = wire.AppendBytes(b, f.key)
		b = c.valueOut(b, cc, f.value)
	}
	c.out.unlock(b)
}

// bulk answers the legacy bulkGet and bulkGetKeys operations.
func (c *conn) bulk(ctx context.Context, cc cache.Cache) {
	limit := -1
	if c.req.op == wire.OpBulkGet && c.req.count > 0 {
		limit = int(c.req.count)
	}
	b := c.out.lock()
	b = c.header(b, wire.StatusSuccess, cc)
	c.out.unlock(b)
	var buf []cache.Entry
	n := 0
	for s := 0; s < cc.NumSegments() && limit != 0; s++ {
		var err error
		buf, err = cc.Segment(ctx, s, buf[:0])
		if err != nil {
			break
		}
		b := c.out.lock()
		for i := range buf {
			if limit >= 0 && n >= limit {
				break
			}
			b = append(b, 1)
			b = c.keyOut(b, cc, buf[i].Key)
			if c.req.op == wire.OpBulkGet {
				b = c.valueOut(b, cc, buf[i].Value)
			}
			n++
		}
		c.out.unlock(b)
		if limit >= 0 && n >= limit {
			break
		}
	}
	b = c.out.lock()
	b = append(b, 0)
	c.out.unlock(b)
}
