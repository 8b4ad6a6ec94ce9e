package hotrod

import (
	"context"
	"fmt"

	"github.com/hotgrid/hotgrid/cache"
	"github.com/hotgrid/hotgrid/encoding"
	"github.com/hotgrid/hotgrid/hotrod/wire"
)

// Listener interest bits (2.6+).
const (
	interestCreated  = 0x01
	interestModified = 0x02
	interestRemoved  = 0x04
	interestExpired  = 0x08
	interestAll      = 0x0f
)

// Converters the server knows by name.
const (
	converterNone = iota
	converterKeyValueWithPrevious
)

// kvWithPreviousType is the protostream type name of the built-in
// converter's output, as the Java client's global schema declares it.
const kvWithPreviousType = "org.infinispan.global.commons.KeyValueWithPrevious"

// clientListener forwards cache events to a Hot Rod connection.
type clientListener struct {
	c         *conn
	cache     cache.Cache
	id        []byte
	version   byte
	interests int32
	converter int
	rawData   bool
	keyType   string
	valueType string
	// msgID is used for include-current-state events; later events use 0.
	msgID int64
}

func (l *clientListener) wants(t cache.EventType) bool {
	var bit int32
	switch t {
	case cache.EventCreated:
		bit = interestCreated
	case cache.EventModified:
		bit = interestModified
	case cache.EventRemoved:
		bit = interestRemoved
	case cache.EventExpired:
		bit = interestExpired
	}
	return l.interests&bit != 0
}

// OnEvent encodes the event into the connection's output and wakes its
// flusher. It runs under the entry's segment lock and never blocks on I/O.
func (l *clientListener) OnEvent(ev *cache.Event) {
	if !l.wants(ev.Type) {
		return
	}
	o := &l.c.out
	b := o.lock()
	b = l.appendEvent(b, ev, 0)
	o.unlock(b)
	select {
	case o.kick <- struct{}{}:
	default:
	}
}

var eventOps = [...]byte{
	cache.EventCreated:  wire.OpEventCreated,
	cache.EventModified: wire.OpEventModified,
	cache.EventRemoved:  wire.OpEventRemoved,
	cache.EventExpired:  wire.OpEventExpired,
}

func (l *clientListener) appendEvent(b []byte, ev *cache.Event, msgID int64) []byte {
	cfg := l.cache.Config()
	b = append(b, wire.ResponseMagic)
	b = wire.AppendVLong(b, msgID)
	b = append(b, eventOps[ev.Type], wire.StatusSuccess, 0)
	b = wire.AppendBytes(b, l.id)
	if l.converter == converterKeyValueWithPrevious {
		b = append(b, 1, 0) // custom event, not retried
		return wire.AppendBytes(b, kvWithPrevious(ev, cfg.KeyMediaType, cfg.ValueMediaType))
	}
	b = append(b, 0, 0) // normal event, not retried
	b = appendOut(b, ev.Key, cfg.KeyMediaType, l.keyType)
	if ev.Type == cache.EventCreated || ev.Type == cache.EventModified {
		b = wire.AppendInt64(b, ev.Meta.Version)
	}
	return b
}

// kvWithPrevious marshals the built-in converter's output: a protostream
// WrappedMessage holding a KeyValueWithPrevious whose three fields are
// themselves wrapped key, value and previous value.
func kvWithPrevious(ev *cache.Event, keyType, valueType string) []byte {
	var msg []byte
	// Every field is written: a null value is an empty WrappedMessage, as
	// Infinispan sends it, since the client's factory dereferences each.
	field := func(n int, data []byte, storage string) {
		w := data
		if data != nil && encoding.Base(storage) != encoding.Protostream && encoding.Base(storage) != "" && encoding.Base(storage) != encoding.Unknown {
			if conv, err := encoding.Convert(nil, data, storage, encoding.Protostream); err == nil {
				w = conv
			}
		}
		msg = wire.AppendUvarint(msg, uint64(n<<3|2))
		msg = wire.AppendBytes(msg, w)
	}
	field(1, ev.Key, keyType)
	if ev.Type == cache.EventCreated || ev.Type == cache.EventModified {
		field(2, ev.Value, valueType)
		field(3, ev.Prev, valueType)
	} else {
		field(2, nil, valueType)
		field(3, ev.Value, valueType)
	}
	var out []byte
	out = wire.AppendUvarint(out, 16<<3|2)
	out = wire.AppendString(out, kvWithPreviousType)
	out = wire.AppendUvarint(out, 17<<3|2)
	return wire.AppendBytes(out, msg)
}

func (c *conn) addListener(ctx context.Context, cc cache.Cache) {
	r := &c.req
	if len(r.filterName) > 0 {
		c.fail(wire.StatusServerError, fmt.Sprintf("ISPN006016: Listener filter factory '%s' not found in server", r.filterName))
		return
	}
	l := &clientListener{
		c:         c,
		cache:     cc,
		id:        append([]byte(nil), r.listenerID...),
		version:   r.version,
		interests: r.interests,
		rawData:   r.rawData,
		keyType:   r.keyType.Name,
		valueType: r.valueType.Name,
		msgID:     r.msgID,
	}
	if l.interests == 0 {
		l.interests = interestAll
	}
	switch string(r.converterName) {
	case "":
	case "key-value-with-previous-converter-factory":
		l.converter = converterKeyValueWithPrevious
	default:
		c.fail(wire.StatusServerError, fmt.Sprintf("ISPN006016: Listener converter factory '%s' not found in server", r.converterName))
		return
	}
	c.flusherOnce.Do(func() {
		c.out.kick = make(chan struct{}, 1)
		go c.flushEvents()
	})
	c.srv.addListener(l)
	c.listenerIDs = append(c.listenerIDs, string(l.id))
	if r.includeState && l.interests&interestCreated != 0 {
		var buf []cache.Entry
		for s := 0; s < cc.NumSegments(); s++ {
			var err error
			if buf, err = cc.Segment(ctx, s, buf[:0]); err != nil {
				break
			}
			b := c.out.lock()
			for i := range buf {
				ev := cache.Event{Type: cache.EventCreated, Key: buf[i].Key, Value: buf[i].Value, Meta: buf[i].Meta}
				b = l.appendEvent(b, &ev, r.msgID)
			}
			c.out.unlock(b)
		}
	}
	c.status(cc, wire.StatusSuccess)
}

func (c *conn) removeListener(cc cache.Cache) {
	if c.srv.removeListener(string(c.req.listenerID), nil) {
		c.status(cc, wire.StatusSuccess)
	} else {
		c.status(cc, wire.StatusNotExecuted)
	}
}

// addListener registers l server-wide, replacing a listener with the same
// id, and attaches it to its cache.
func (s *Server) addListener(l *clientListener) {
	s.listenersMu.Lock()
	old := s.listeners[string(l.id)]
	s.listeners[string(l.id)] = l
	s.listenersMu.Unlock()
	if old != nil {
		old.cache.RemoveListener(old)
	}
	l.cache.AddListener(l)
}

// removeListener detaches the listener with id; with owner set, only if
// that connection registered it.
func (s *Server) removeListener(id string, owner *conn) bool {
	s.listenersMu.Lock()
	l := s.listeners[id]
	if l == nil || (owner != nil && l.c != owner) {
		s.listenersMu.Unlock()
		return false
	}
	delete(s.listeners, id)
	s.listenersMu.Unlock()
	l.cache.RemoveListener(l)
	return true
}

// flushEvents writes events queued by listeners from other goroutines. It
// runs once a connection has a listener and ends when the connection fails.
func (c *conn) flushEvents() {
	for {
		select {
		case <-c.closed:
			return
		case <-c.out.kick:
			if err := c.out.flush(); err != nil {
				return
			}
		}
	}
}
