package hotrod

import (
	"errors"
	"fmt"
	"time"

	"github.com/hotgrid/hotgrid/cache"
	"github.com/hotgrid/hotgrid/hotrod/wire"
)

// header is a decoded request header. Byte slices alias the read buffer.
type header struct {
	msgID        int64
	version      byte
	op           byte
	cacheName    []byte
	flags        int32
	intelligence byte
	topologyID   int32
	keyType      wire.MediaType
	valueType    wire.MediaType
}

// pair is a key and a value in a bulk request.
type pair struct{ key, value []byte }

// request is a fully decoded request: header and body. It is reused for
// every request on a connection; slices alias the read buffer.
type request struct {
	header
	key, value []byte
	// entryVersion is the version of replace/remove-if-unmodified.
	entryVersion int64
	exp          cache.Write

	// bulk operations
	pairs []pair
	keys  [][]byte
	count int32 // bulkGet max count / bulkGetKeys scope / iteration batch

	// exec
	task   []byte
	params []pair

	// listeners
	listenerID    []byte
	includeState  bool
	filterName    []byte
	converterName []byte
	converterArgs [][]byte
	rawData       bool
	interests     int32

	// iteration
	segments    []byte
	allSegments bool
	filterSet   bool
	metadata    bool
	iterationID []byte
	// mech and saslResponse are an AUTH request's mechanism (empty to
	// continue an exchange) and SASL response.
	mech, saslResponse []byte
}

// protocolError is a decoding failure the server answers with an error
// response before closing the connection.
type protocolError struct {
	status byte
	msg    string
}

func (e *protocolError) Error() string { return e.msg }

// maxBulk bounds the element counts of bulk requests so that a declared count
// cannot make the server allocate before the data has arrived.
const maxBulk = 1 << 20

// decodeHeader reads a request header.
func decodeHeader(d *wire.Decoder, h *header) error {
	magic, err := d.Byte()
	if err != nil {
		return err
	}
	if magic != wire.RequestMagic {
		return &protocolError{wire.StatusInvalidMagic, fmt.Sprintf("Invalid magic byte 0x%02x (expected 0xA0)", magic)}
	}
	if h.msgID, err = d.VLong(); err != nil {
		return err
	}
	if h.version, err = d.Byte(); err != nil {
		return err
	}
	if h.version < wire.Version20 {
		return &protocolError{wire.StatusUnknownVersion, fmt.Sprintf("Unsupported protocol version %d", h.version)}
	}
	if h.op, err = d.Byte(); err != nil {
		return err
	}
	if h.cacheName, err = d.Bytes("cache name"); err != nil {
		return err
	}
	if h.flags, err = d.VInt(); err != nil {
		return err
	}
	if h.intelligence, err = d.Byte(); err != nil {
		return err
	}
	if h.topologyID, err = d.VInt(); err != nil {
		return err
	}
	h.keyType, h.valueType = wire.MediaType{}, wire.MediaType{}
	if h.version >= wire.Version28 {
		if h.keyType, err = d.MediaType(); err != nil {
			return err
		}
		if h.valueType, err = d.MediaType(); err != nil {
			return err
		}
	}
	if h.version >= wire.Version40 {
		n, err := d.VInt()
		if err != nil {
			return err
		}
		if n < 0 || n > 1024 {
			return &protocolError{wire.StatusParseError, fmt.Sprintf("invalid header parameter count %d", n)}
		}
		for i := int32(0); i < n; i++ {
			if _, err := d.Bytes("header parameter"); err != nil {
				return err
			}
			if _, err := d.Bytes("header parameter"); err != nil {
				return err
			}
		}
	}
	return nil
}

// decodeExpiration reads the EXP block for the request's version.
func decodeExpiration(d *wire.Decoder, version byte, flags int32, w *cache.Write) error {
	w.SkipListeners = flags&wire.FlagSkipListenerNotif != 0
	if version < wire.Version22 {
		ls, err := d.VInt()
		if err != nil {
			return err
		}
		mi, err := d.VInt()
		if err != nil {
			return err
		}
		w.Lifespan = legacyExpiry(int64(ls), flags&wire.FlagDefaultLifespan != 0)
		w.MaxIdle = legacyExpiry(int64(mi), flags&wire.FlagDefaultMaxIdle != 0)
		return nil
	}
	units, err := d.Byte()
	if err != nil {
		return err
	}
	if w.Lifespan, err = decodeDuration(d, units>>4, version); err != nil {
		return err
	}
	w.MaxIdle, err = decodeDuration(d, units&0x0f, version)
	return err
}

// legacyExpiry interprets a 2.0/2.1 seconds value: 0 is the cache default
// when the matching DEFAULT flag is set, otherwise "never".
func legacyExpiry(secs int64, useDefault bool) time.Duration {
	switch {
	case secs > 0:
		return secondsOrAbsolute(secs)
	case secs == 0 && useDefault:
		return cache.ExpiryDefault
	}
	return cache.ExpiryNever
}

// thirtyDays is memcached's limit: larger relative times are Unix times.
const thirtyDays = 30 * 24 * time.Hour

func secondsOrAbsolute(secs int64) time.Duration {
	d := time.Duration(secs) * time.Second
	if d > thirtyDays {
		d = time.Until(time.Unix(secs, 0))
		if d <= 0 {
			d = time.Millisecond
		}
	}
	return d
}

var unitDurations = [...]time.Duration{
	wire.UnitSeconds:      time.Second,
	wire.UnitMilliseconds: time.Millisecond,
	wire.UnitNanoseconds:  time.Nanosecond,
	wire.UnitMicroseconds: time.Microsecond,
	wire.UnitMinutes:      time.Minute,
	wire.UnitHours:        time.Hour,
	wire.UnitDays:         24 * time.Hour,
}

func decodeDuration(d *wire.Decoder, unit byte, version byte) (time.Duration, error) {
	switch unit {
	case wire.UnitDefault:
		return cache.ExpiryDefault, nil
	case wire.UnitInfinite:
		return cache.ExpiryNever, nil
	}
	if int(unit) >= len(unitDurations) {
		return 0, &protocolError{wire.StatusParseError, fmt.Sprintf("invalid time unit %d", unit)}
	}
	v, err := d.VLong()
	if err != nil {
		return 0, err
	}
	if v < 0 {
		return cache.ExpiryNever, nil
	}
	if v == 0 {
		return cache.ExpiryNever, nil
	}
	per := unitDurations[unit]
	if v > int64(1<<62)/int64(per) {
		return cache.ExpiryNever, nil
	}
	dur := time.Duration(v) * per
	if version < wire.Version30 && dur > thirtyDays {
		// 2.2–2.9 servers apply memcached's rule: an absolute Unix time.
		dur = time.Until(time.UnixMilli(dur.Milliseconds()))
		if dur <= 0 {
			dur = time.Millisecond
		}
	}
	return dur, nil
}

// errUnknownOp marks an opcode the server does not implement; the body
// cannot be skipped, so the connection closes after the error response.
var errUnknownOp = errors.New("unknown operation")

// decodeBody reads the op-specific part of a request into r.
func decodeBody(d *wire.Decoder, r *request) error {
	var err error
	v := r.version
	switch r.op {
	case wire.OpGet, wire.OpGetWithMetadata, wire.OpGetWithVersion, wire.OpContainsKey:
		r.key, err = d.Bytes("key")
	case wire.OpRemove:
		r.exp = cache.Write{SkipListeners: r.flags&wire.FlagSkipListenerNotif != 0}
		r.key, err = d.Bytes("key")
	case wire.OpRemoveIfUnmodified:
		r.exp = cache.Write{SkipListeners: r.flags&wire.FlagSkipListenerNotif != 0}
		if r.key, err = d.Bytes("key"); err != nil {
			return err
		}
		r.entryVersion, err = d.Int64()
	case wire.OpPut, wire.OpPutIfAbsent, wire.OpReplace:
		if r.key, err = d.Bytes("key"); err != nil {
			return err
		}
		if err = decodeExpiration(d, v, r.flags, &r.exp); err != nil {
			return err
		}
		r.value, err = d.Bytes("value")
	case wire.OpReplaceIfUnmodified:
		if r.key, err = d.Bytes("key"); err != nil {
			return err
		}
		if err = decodeExpiration(d, v, r.flags, &r.exp); err != nil {
			return err
		}
		if r.entryVersion, err = d.Int64(); err != nil {
			return err
		}
		r.value, err = d.Bytes("value")
	case wire.OpClear, wire.OpStats, wire.OpPing, wire.OpSize, wire.OpAuthMechList:
	case wire.OpBulkGet, wire.OpBulkGetKeys:
		r.count, err = d.VInt()
	case wire.OpPutAll:
		if err = decodeExpiration(d, v, r.flags, &r.exp); err != nil {
			return err
		}
		n, err := bulkCount(d)
		if err != nil {
			return err
		}
		r.pairs = r.pairs[:0]
		for i := 0; i < n; i++ {
			k, err := d.Bytes("key")
			if err != nil {
				return err
			}
			val, err := d.Bytes("value")
			if err != nil {
				return err
			}
			r.pairs = append(r.pairs, pair{k, val})
		}
	case wire.OpGetAll:
		n, err := bulkCount(d)
		if err != nil {
			return err
		}
		r.keys = r.keys[:0]
		for i := 0; i < n; i++ {
			k, err := d.Bytes("key")
			if err != nil {
				return err
			}
			r.keys = append(r.keys, k)
		}
	case wire.OpExec:
		if r.task, err = d.Bytes("task name"); err != nil {
			return err
		}
		n, err := bulkCount(d)
		if err != nil {
			return err
		}
		r.params = r.params[:0]
		for i := 0; i < n; i++ {
			k, err := d.Bytes("parameter name")
			if err != nil {
				return err
			}
			val, err := d.Bytes("parameter value")
			if err != nil {
				return err
			}
			r.params = append(r.params, pair{k, val})
		}
	case wire.OpAddClientListener:
		err = decodeAddListener(d, r)
	case wire.OpRemoveClientListener:
		r.listenerID, err = d.Bytes("listener id")
	case wire.OpIterationStart:
		err = decodeIterationStart(d, r)
	case wire.OpIterationNext, wire.OpIterationEnd:
		r.iterationID, err = d.Bytes("iteration id")
	case wire.OpAuth:
		if r.mech, err = d.Bytes("mechanism"); err != nil {
			return err
		}
		r.saslResponse, err = d.Bytes("sasl response")
	default:
		return errUnknownOp
	}
	return err
}

func bulkCount(d *wire.Decoder) (int, error) {
	n, err := d.VInt()
	if err != nil {
		return 0, err
	}
	if n < 0 || n > maxBulk {
		return 0, &protocolError{wire.StatusParseError, fmt.Sprintf("invalid element count %d", n)}
	}
	return int(n), nil
}

func decodeAddListener(d *wire.Decoder, r *request) error {
	var err error
	if r.listenerID, err = d.Bytes("listener id"); err != nil {
		return err
	}
	if r.includeState, err = d.Bool(); err != nil {
		return err
	}
	if r.filterName, err = d.Bytes("filter name"); err != nil {
		return err
	}
	if len(r.filterName) > 0 {
		if err = skipFactoryParams(d, nil); err != nil {
			return err
		}
	}
	if r.converterName, err = d.Bytes("converter name"); err != nil {
		return err
	}
	r.converterArgs = r.converterArgs[:0]
	if len(r.converterName) > 0 {
		if err = skipFactoryParams(d, &r.converterArgs); err != nil {
			return err
		}
	}
	r.rawData = false
	if r.version >= wire.Version21 {
		if r.rawData, err = d.Bool(); err != nil {
			return err
		}
	}
	r.interests = 0
	if r.version >= wire.Version26 {
		if r.interests, err = d.VInt(); err != nil {
			return err
		}
	}
	return nil
}

// skipFactoryParams reads a filter or converter factory's parameters: a
// count byte then that many byte arrays.
func skipFactoryParams(d *wire.Decoder, into *[][]byte) error {
	n, err := d.Byte()
	if err != nil {
		return err
	}
	for i := 0; i < int(n); i++ {
		p, err := d.Bytes("factory parameter")
		if err != nil {
			return err
		}
		if into != nil {
			*into = append(*into, p)
		}
	}
	return nil
}

func decodeIterationStart(d *wire.Decoder, r *request) error {
	seg, present, err := d.OptionalBytes("segments")
	if err != nil {
		return err
	}
	r.segments, r.allSegments = seg, !present
	filter, hasFilter, err := d.OptionalBytes("filter factory")
	if err != nil {
		return err
	}
	r.filterSet = hasFilter && len(filter) > 0
	r.filterName = filter
	if hasFilter {
		if err = skipFactoryParams(d, nil); err != nil {
			return err
		}
	}
	if r.count, err = d.VInt(); err != nil {
		return err
	}
	r.metadata = false
	if r.version >= wire.Version24 {
		r.metadata, err = d.Bool()
	}
	return err
}
