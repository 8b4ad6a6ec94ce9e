package client

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/hotgrid/hotgrid/hotrod/wire"
)

// reqHeader is what a request header needs beyond the message id.
type reqHeader struct {
	op    byte
	cache string
	flags int32
}

func (h *reqHeader) append(b []byte, id int64, cl *Client) []byte {
	o := &cl.opts
	b = append(b, wire.RequestMagic)
	b = wire.AppendVLong(b, id)
	b = append(b, o.Version, h.op)
	b = wire.AppendString(b, h.cache)
	b = wire.AppendVInt(b, h.flags)
	b = append(b, o.Intelligence)
	b = wire.AppendVInt(b, cl.topology.Load().id)
	if o.Version >= wire.Version28 {
		b = wire.AppendMediaType(b, wire.MediaType{Name: o.KeyMediaType})
		b = wire.AppendMediaType(b, wire.MediaType{Name: o.ValueMediaType})
	}
	if o.Version >= wire.Version40 {
		b = append(b, 0) // no extra header parameters
	}
	return b
}

// Metadata is an entry's metadata as the server reports it.
type Metadata struct {
	Version  int64
	Created  time.Time // zero if the entry has no lifespan
	Lifespan time.Duration
	LastUsed time.Time // zero if the entry has no max-idle
	MaxIdle  time.Duration
}

// WriteOption adjusts a write.
type WriteOption func(*writeOpts)

type writeOpts struct {
	lifespan, maxIdle time.Duration // 0 = server default, <0 = never
	flags             int32
}

// Lifespan sets the entry's lifespan; a negative duration means never.
func Lifespan(d time.Duration) WriteOption { return func(w *writeOpts) { w.lifespan = d } }

// MaxIdle sets the entry's maximum idle time; negative means never.
func MaxIdle(d time.Duration) WriteOption { return func(w *writeOpts) { w.maxIdle = d } }

// SkipListeners suppresses listener notification.
func SkipListeners() WriteOption {
	return func(w *writeOpts) { w.flags |= wire.FlagSkipListenerNotif }
}

func writeOptions(opts []WriteOption) writeOpts {
	var w writeOpts
	for _, o := range opts {
		o(&w)
	}
	return w
}

// appendExp writes the expiration block in the coarsest exact unit.
func appendExp(b []byte, w writeOpts) []byte {
	lu, lv := durUnit(w.lifespan)
	mu, mv := durUnit(w.maxIdle)
	b = append(b, lu<<4|mu)
	if lu != wire.UnitDefault && lu != wire.UnitInfinite {
		b = wire.AppendVLong(b, lv)
	}
	if mu != wire.UnitDefault && mu != wire.UnitInfinite {
		b = wire.AppendVLong(b, mv)
	}
	return b
}

func durUnit(d time.Duration) (byte, int64) {
	switch {
	case d == 0:
		return wire.UnitDefault, 0
	case d < 0:
		return wire.UnitInfinite, 0
	case d%time.Second == 0:
		return wire.UnitSeconds, int64(d / time.Second)
	case d%time.Millisecond == 0:
		return wire.UnitMilliseconds, int64(d / time.Millisecond)
	}
	return wire.UnitNanoseconds, int64(d)
}

// Ping checks the cache exists and the server answers.
func (k *Cache) Ping(ctx context.Context) error {
	c, err := k.call(ctx, wire.OpPing, 0, nil, nil)
	if err == nil {
		release(c)
	}
	return err
}

// call is do with the request op recorded before sending, which the reader
// needs to frame the response body.
func (k *Cache) call(ctx context.Context, op byte, flags int32, key []byte, enc func([]byte) []byte) (*call, error) {
	cn, err := k.c.route(ctx, key)
	if err != nil {
		return nil, err
	}
	h := reqHeader{op: op, cache: k.name, flags: flags}
	return cn.doOp(ctx, &h, enc)
}

// Get returns the value of key.
func (k *Cache) Get(ctx context.Context, key []byte) ([]byte, bool, error) {
	c, err := k.call(ctx, wire.OpGet, 0, key, func(b []byte) []byte { return wire.AppendBytes(b, key) })
	if err != nil {
		return nil, false, err
	}
	defer release(c)
	if c.status != wire.StatusSuccess {
		return nil, false, nil
	}
	d := wire.Decoder{Buf: c.body}
	v, err := d.Bytes("value")
	return append([]byte(nil), v...), true, err
}

// GetAsync sends a get and calls cb with the result on the connection's
// reader goroutine, without waiting: one goroutine can keep many requests
// in flight. value is only valid during cb; cb must not block.
func (k *Cache) GetAsync(ctx context.Context, key []byte, cb func(value []byte, ok bool, err error)) error {
	cn, err := k.c.route(ctx, key)
	if err != nil {
		return err
	}
	return cn.send(&reqHeader{op: wire.OpGet, cache: k.name}, func(b []byte) []byte { return wire.AppendBytes(b, key) },
		func(c *call) {
			if c.err != nil || c.status != wire.StatusSuccess {
				cb(nil, false, c.err)
				return
			}
			d := wire.Decoder{Buf: c.body}
			v, err := d.Bytes("value")
			cb(v, err == nil, err)
		})
}

// SetAsync stores value under key and calls cb with the outcome on the
// connection's reader goroutine, without waiting.
func (k *Cache) SetAsync(ctx context.Context, key, value []byte, cb func(err error)) error {
	cn, err := k.c.route(ctx, key)
	if err != nil {
		return err
	}
	return cn.send(&reqHeader{op: wire.OpPut, cache: k.name}, func(b []byte) []byte {
		b = wire.AppendBytes(b, key)
		b = append(b, wire.UnitDefault<<4|wire.UnitDefault)
		return wire.AppendBytes(b, value)
	}, func(c *call) { cb(c.err) })
}

// GetWithMetadata returns the value and metadata of key.
func (k *Cache) GetWithMetadata(ctx context.Context, key []byte) ([]byte, Metadata, bool, error) {
	c, err := k.call(ctx, wire.OpGetWithMetadata, 0, key, func(b []byte) []byte { return wire.AppendBytes(b, key) })
	if err != nil {
		return nil, Metadata{}, false, err
	}
	defer release(c)
	if c.status != wire.StatusSuccess {
		return nil, Metadata{}, false, nil
	}
	d := wire.Decoder{Buf: c.body}
	m := decodeMeta(&d)
	v, err := d.Bytes("value")
	return append([]byte(nil), v...), m, true, err
}

func decodeMeta(d *wire.Decoder) Metadata {
	var m Metadata
	flags, _ := d.Byte()
	if flags&wire.MetaInfiniteLifespan == 0 {
		created, _ := d.Int64()
		ls, _ := d.VInt()
		m.Created, m.Lifespan = time.UnixMilli(created), time.Duration(ls)*time.Second
	} else {
		m.Lifespan = -1
	}
	if flags&wire.MetaInfiniteMaxIdle == 0 {
		used, _ := d.Int64()
		mi, _ := d.VInt()
		m.LastUsed, m.MaxIdle = time.UnixMilli(used), time.Duration(mi)*time.Second
	} else {
		m.MaxIdle = -1
	}
	m.Version, _ = d.Int64()
	return m
}

// writeCall sends a key/value write and returns its status and previous
// value (when the server sent one).
func (k *Cache) writeCall(ctx context.Context, op byte, key, value []byte, version int64, flags int32, opts []WriteOption) (byte, []byte, error) {
	w := writeOptions(opts)
	c, err := k.call(ctx, op, flags|w.flags, key, func(b []byte) []byte {
		b = wire.AppendBytes(b, key)
		if op == wire.OpRemoveIfUnmodified {
			return wire.AppendInt64(b, version)
		}
		if op == wire.OpRemove {
			return b
		}
		b = appendExp(b, w)
		if op == wire.OpReplaceIfUnmodified {
			b = wire.AppendInt64(b, version)
		}
		return wire.AppendBytes(b, value)
	})
	if err != nil {
		return 0, nil, err
	}
	defer release(c)
	var prev []byte
	if c.status == wire.StatusSuccessWithPrev || c.status == wire.StatusNotExecutedWithPrev {
		d := wire.Decoder{Buf: c.body}
		if k.c.opts.Version >= wire.Version40 {
			decodeMeta(&d)
		}
		p, _ := d.Bytes("previous value")
		if len(p) > 0 {
			prev = append([]byte(nil), p...)
		}
	}
	return c.status, prev, nil
}

// Put stores value under key and returns the previous value (the request
// asks for it).
func (k *Cache) Put(ctx context.Context, key, value []byte, opts ...WriteOption) ([]byte, error) {
	_, prev, err := k.writeCall(ctx, wire.OpPut, key, value, 0, wire.FlagForceReturnValue, opts)
	return prev, err
}

// Set stores value under key without asking for the previous value.
func (k *Cache) Set(ctx context.Context, key, value []byte, opts ...WriteOption) error {
	_, _, err := k.writeCall(ctx, wire.OpPut, key, value, 0, 0, opts)
	return err
}

// PutIfAbsent stores value if key is absent; it reports whether it did.
func (k *Cache) PutIfAbsent(ctx context.Context, key, value []byte, opts ...WriteOption) (bool, error) {
	st, _, err := k.writeCall(ctx, wire.OpPutIfAbsent, key, value, 0, 0, opts)
	return st == wire.StatusSuccess, err
}

// Replace stores value if key is present; it reports whether it did.
func (k *Cache) Replace(ctx context.Context, key, value []byte, opts ...WriteOption) (bool, error) {
	st, _, err := k.writeCall(ctx, wire.OpReplace, key, value, 0, 0, opts)
	return st == wire.StatusSuccess, err
}

// ReplaceWithVersion stores value if the entry's version is version.
func (k *Cache) ReplaceWithVersion(ctx context.Context, key, value []byte, version int64, opts ...WriteOption) (bool, error) {
	st, _, err := k.writeCall(ctx, wire.OpReplaceIfUnmodified, key, value, version, 0, opts)
	return st == wire.StatusSuccess, err
}

// Remove deletes key and returns the removed value.
func (k *Cache) Remove(ctx context.Context, key []byte) ([]byte, bool, error) {
	st, prev, err := k.writeCall(ctx, wire.OpRemove, key, nil, 0, wire.FlagForceReturnValue, nil)
	return prev, st == wire.StatusSuccessWithPrev || st == wire.StatusSuccess, err
}

// RemoveWithVersion deletes key if the entry's version is version.
func (k *Cache) RemoveWithVersion(ctx context.Context, key []byte, version int64) (bool, error) {
	st, _, err := k.writeCall(ctx, wire.OpRemoveIfUnmodified, key, nil, version, 0, nil)
	return st == wire.StatusSuccess, err
}

// ContainsKey reports whether key is present.
func (k *Cache) ContainsKey(ctx context.Context, key []byte) (bool, error) {
	c, err := k.call(ctx, wire.OpContainsKey, 0, key, func(b []byte) []byte { return wire.AppendBytes(b, key) })
	if err != nil {
		return false, err
	}
	defer release(c)
	return c.status == wire.StatusSuccess, nil
}

// Clear removes every entry.
func (k *Cache) Clear(ctx context.Context) error {
	c, err := k.call(ctx, wire.OpClear, 0, nil, nil)
	if err == nil {
		release(c)
	}
	return err
}

// Size returns the number of entries.
func (k *Cache) Size(ctx context.Context) (int64, error) {
	c, err := k.call(ctx, wire.OpSize, 0, nil, nil)
	if err != nil {
		return 0, err
	}
	defer release(c)
	d := wire.Decoder{Buf: c.body}
	return d.VLong()
}

// Stats returns the cache's statistics.
func (k *Cache) Stats(ctx context.Context) (map[string]string, error) {
	c, err := k.call(ctx, wire.OpStats, 0, nil, nil)
	if err != nil {
		return nil, err
	}
	defer release(c)
	d := wire.Decoder{Buf: c.body}
	n, _ := d.VInt()
	m := make(map[string]string, n)
	for i := int32(0); i < n; i++ {
		name, _ := d.Bytes("name")
		val, err := d.Bytes("value")
		if err != nil {
			return nil, err
		}
		m[string(name)] = string(val)
	}
	return m, nil
}

// PutAll stores every entry of m.
func (k *Cache) PutAll(ctx context.Context, m map[string][]byte, opts ...WriteOption) error {
	w := writeOptions(opts)
	c, err := k.call(ctx, wire.OpPutAll, w.flags, nil, func(b []byte) []byte {
		b = appendExp(b, w)
		b = wire.AppendVInt(b, int32(len(m)))
		for key, v := range m {
			b = wire.AppendString(b, key)
			b = wire.AppendBytes(b, v)
		}
		return b
	})
	if err == nil {
		release(c)
	}
	return err
}

// GetAll returns the values of the keys that exist.
func (k *Cache) GetAll(ctx context.Context, keys [][]byte) (map[string][]byte, error) {
	c, err := k.call(ctx, wire.OpGetAll, 0, nil, func(b []byte) []byte {
		b = wire.AppendVInt(b, int32(len(keys)))
		for _, key := range keys {
			b = wire.AppendBytes(b, key)
		}
		return b
	})
	if err != nil {
		return nil, err
	}
	defer release(c)
	d := wire.Decoder{Buf: c.body}
	n, _ := d.VInt()
	m := make(map[string][]byte, n)
	for i := int32(0); i < n; i++ {
		key, _ := d.Bytes("key")
		v, err := d.Bytes("value")
		if err != nil {
			return nil, err
		}
		m[string(key)] = append([]byte(nil), v...)
	}
	return m, nil
}

// Keys returns every key (the legacy bulk-get-keys operation).
func (k *Cache) Keys(ctx context.Context) ([][]byte, error) {
	c, err := k.call(ctx, wire.OpBulkGetKeys, 0, nil, func(b []byte) []byte { return wire.AppendVInt(b, 0) })
	if err != nil {
		return nil, err
	}
	defer release(c)
	d := wire.Decoder{Buf: c.body}
	var keys [][]byte
	for {
		more, err := d.Byte()
		if err != nil || more == 0 {
			return keys, err
		}
		key, err := d.Bytes("key")
		if err != nil {
			return keys, err
		}
		keys = append(keys, append([]byte(nil), key...))
	}
}

// Entry is an entry returned by iteration.
type Entry struct {
	Key, Value []byte
	Meta       Metadata
}

// Iterate calls fn for every entry, fetching batch entries per round trip;
// with metadata the entries carry it. fn returning false stops early.
func (k *Cache) Iterate(ctx context.Context, batch int, metadata bool, fn func(Entry) bool) error {
	cn, err := k.c.route(ctx, nil)
	if err != nil {
		return err
	}
	c, err := cn.doOp(ctx, &reqHeader{op: wire.OpIterationStart, cache: k.name}, func(b []byte) []byte {
		b = wire.AppendSignedVInt(b, -1) // all segments
		b = wire.AppendSignedVInt(b, -1) // no filter
		b = wire.AppendVInt(b, int32(batch))
		if metadata {
			return append(b, 1)
		}
		return append(b, 0)
	})
	if err != nil {
		return err
	}
	d := wire.Decoder{Buf: c.body}
	idb, err := d.Bytes("iteration id")
	id := string(idb)
	release(c)
	if err != nil {
		return err
	}
	defer func() {
		if c, err := cn.doOp(context.Background(), &reqHeader{op: wire.OpIterationEnd, cache: k.name},
			func(b []byte) []byte { return wire.AppendString(b, id) }); err == nil {
			release(c)
		}
	}()
	for {
		c, err := cn.doOp(ctx, &reqHeader{op: wire.OpIterationNext, cache: k.name},
			func(b []byte) []byte { return wire.AppendString(b, id) })
		if err != nil {
			return err
		}
		if c.status != wire.StatusSuccess {
			release(c)
			return fmt.Errorf("hotrod: iteration %s: status 0x%02x", id, c.status)
		}
		d := wire.Decoder{Buf: c.body}
		d.Bytes("finished segments")
		n, _ := d.VInt()
		proj := int32(1)
		if n > 0 {
			proj, _ = d.VInt()
		}
		entries := make([]Entry, 0, n)
		for i := int32(0); i < n; i++ {
			var e Entry
			if flag, _ := d.Byte(); flag == 1 {
				e.Meta = decodeMeta(&d)
			}
			key, _ := d.Bytes("key")
			e.Key = append([]byte(nil), key...)
			for p := int32(0); p < proj; p++ {
				v, _ := d.Bytes("value")
				if p == 0 {
					e.Value = append([]byte(nil), v...)
				}
			}
			entries = append(entries, e)
		}
		release(c)
		if n == 0 {
			return nil
		}
		for _, e := range entries {
			if !fn(e) {
				return nil
			}
		}
	}
}

// Event is a listener event.
type Event struct {
	Type    byte // wire.OpEventCreated … wire.OpEventExpired
	Key     []byte
	Version int64
	// Custom holds a converter's output instead of key and version.
	Custom []byte
}

// AddListener registers a listener; fn is called on the connection's
// reader goroutine and must not block. includeState replays existing
// entries as created events first.
func (k *Cache) AddListener(ctx context.Context, id string, includeState bool, converter string, fn func(Event)) error {
	cn, err := k.c.route(ctx, nil)
	if err != nil {
		return err
	}
	cn.listeners.Store(id, EventHandler(func(op byte, body []byte) {
		d := wire.Decoder{Buf: body}
		d.Bytes("listener id")
		custom, _ := d.Byte()
		d.Byte()
		ev := Event{Type: op}
		if custom != 0 {
			data, _ := d.Bytes("data")
			ev.Custom = append([]byte(nil), data...)
		} else {
			key, _ := d.Bytes("key")
			ev.Key = append([]byte(nil), key...)
			if op == wire.OpEventCreated || op == wire.OpEventModified {
				ev.Version, _ = d.Int64()
			}
		}
		fn(ev)
	}))
	c, err := cn.doOp(ctx, &reqHeader{op: wire.OpAddClientListener, cache: k.name}, func(b []byte) []byte {
		b = wire.AppendString(b, id)
		if includeState {
			b = append(b, 1)
		} else {
			b = append(b, 0)
		}
		b = wire.AppendString(b, "") // no filter
		b = wire.AppendString(b, converter)
		if converter != "" {
			b = append(b, 0) // no converter parameters
		}
		b = append(b, 0) // not raw data
		if k.c.opts.Version >= wire.Version26 {
			b = wire.AppendVInt(b, 0x0f)
		}
		return b
	})
	if err != nil {
		cn.listeners.Delete(id)
		return err
	}
	release(c)
	return nil
}

// RemoveListener unregisters a listener.
func (k *Cache) RemoveListener(ctx context.Context, id string) error {
	c, err := k.call(ctx, wire.OpRemoveClientListener, 0, nil, func(b []byte) []byte { return wire.AppendString(b, id) })
	if err != nil {
		return err
	}
	release(c)
	k.c.mu.Lock()
	for _, p := range k.c.pools {
		for _, cn := range p {
			cn.listeners.Delete(id)
		}
	}
	k.c.mu.Unlock()
	return nil
}

// Exec runs a server task with string parameters and returns its result.
func (c *Client) Exec(ctx context.Context, task string, params map[string]string) ([]byte, error) {
	k := c.Cache("")
	r, err := k.call(ctx, wire.OpExec, 0, nil, func(b []byte) []byte {
		b = wire.AppendString(b, task)
		b = wire.AppendVInt(b, int32(len(params)))
		for n, v := range params {
			b = wire.AppendString(b, n)
			b = wire.AppendString(b, v)
		}
		return b
	})
	if err != nil {
		return nil, err
	}
	defer release(r)
	d := wire.Decoder{Buf: r.body}
	out, err := d.Bytes("result")
	return append([]byte(nil), out...), err
}

// CreateCache creates a cache from a template name or a configuration
// document (XML, JSON or YAML).
func (c *Client) CreateCache(ctx context.Context, name, templateOrConfig string) error {
	_, err := c.Exec(ctx, "@@cache@create", cacheParams(name, templateOrConfig))
	return err
}

// GetOrCreateCache creates a cache unless it exists.
func (c *Client) GetOrCreateCache(ctx context.Context, name, templateOrConfig string) error {
	_, err := c.Exec(ctx, "@@cache@getorcreate", cacheParams(name, templateOrConfig))
	return err
}

func cacheParams(name, t string) map[string]string {
	p := map[string]string{"name": name}
	switch {
	case t == "":
	case len(t) > 0 && (t[0] == '<' || t[0] == '{' || containsNewline(t)):
		p["configuration"] = t
	default:
		p["template"] = t
	}
	return p
}

func containsNewline(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] == '\n' {
			return true
		}
	}
	return false
}

// RemoveCache removes a cache.
func (c *Client) RemoveCache(ctx context.Context, name string) error {
	_, err := c.Exec(ctx, "@@cache@remove", map[string]string{"name": name})
	return err
}

// CacheNames lists the caches.
func (c *Client) CacheNames(ctx context.Context) ([]string, error) {
	out, err := c.Exec(ctx, "@@cache@names", nil)
	if err != nil {
		return nil, err
	}
	var names []string
	if err := json.Unmarshal(out, &names); err != nil {
		return nil, fmt.Errorf("hotrod: cache names: %w", err)
	}
	return names, nil
}
