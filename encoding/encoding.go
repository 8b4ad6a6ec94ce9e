// Package encoding converts keys and values between the media types clients
// send and the storage media type of a cache: text/plain,
// application/octet-stream, application/json, application/x-java-object
// (strings) and application/x-protostream (the WrappedMessage primitives the
// Java Hot Rod client sends by default).
//
// A cache without an encoding stores bytes as given ("unknown" storage):
// nothing is converted, as in Infinispan.
package encoding

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"unicode/utf8"
)

// Media type names.
const (
	TextPlain       = "text/plain"
	OctetStream     = "application/octet-stream"
	JSON            = "application/json"
	JavaObject      = "application/x-java-object"
	Protostream     = "application/x-protostream"
	Unknown         = "application/unknown"
	JBossMarshalled = "application/x-jboss-marshalling"
	FormURLEncoded  = "application/x-www-form-urlencoded"
)

// ErrUnsupported is returned when no conversion exists between two types.
var ErrUnsupported = errors.New("encoding: unsupported conversion")

// Base returns the media type without parameters, lower-cased.
func Base(mt string) string {
	if i := strings.IndexByte(mt, ';'); i >= 0 {
		mt = mt[:i]
	}
	return strings.ToLower(strings.TrimSpace(mt))
}

// Identity reports whether data in type from needs no conversion to be
// stored as (or read back from) type to. Unknown storage, an empty or
// wildcard client type, and equal types are all identities.
func Identity(from, to string) bool {
	if from == "" || to == "" || from == to {
		return true
	}
	f, t := Base(from), Base(to)
	if f == t || f == Unknown || t == Unknown || f == "*/*" || t == "*/*" {
		return true
	}
	return textual(f) && textual(t)
}

// textual types hold the same bytes for a string: converting among them
// changes nothing. Form-encoded bodies count: it is what curl -d sends, and
// the bytes are kept as sent.
func textual(mt string) bool {
	switch mt {
	case TextPlain, OctetStream, JavaObject, FormURLEncoded:
		return true
	}
	return false
}

// Convert appends data, in media type from, converted to media type to, to
// dst. Callers check Identity first to skip the copy.
func Convert(dst, data []byte, from, to string) ([]byte, error) {
	if Identity(from, to) {
		return append(dst, data...), nil
	}
	f, t := Base(from), Base(to)
	switch {
	case f == Protostream:
		return fromProtostream(dst, data, t)
	case t == Protostream:
		return toProtostream(dst, data, f)
	case f == JSON && textual(t):
		return fromJSON(dst, data)
	case textual(f) && t == JSON:
		return toJSON(dst, data), nil
	}
	return dst, fmt.Errorf("%w: %s to %s", ErrUnsupported, f, t)
}

// WrappedMessage field numbers (org.infinispan.protostream WrappedMessage).
const (
	fieldDouble  = 1
	fieldFloat   = 2
	fieldInt64   = 3
	fieldUInt64  = 4
	fieldInt32   = 5
	fieldFixed64 = 6
	fieldFixed32 = 7
	fieldBool    = 8
	fieldString  = 9
	fieldBytes   = 10
	fieldUInt32  = 11
	fieldSInt32  = 14
	fieldSInt64  = 15
)

// toProtostream wraps textual or JSON data as a WrappedMessage: strings as
// wrappedString, octet-stream as wrappedBytes.
func toProtostream(dst, data []byte, from string) ([]byte, error) {
	field := fieldString
	switch from {
	case OctetStream:
		field = fieldBytes
	case JSON:
		// A JSON string or number becomes the wrapped primitive.
		if s, err := unquoteJSON(data); err == nil {
			data = s
		} else if n, err := strconv.ParseInt(strings.TrimSpace(string(data)), 10, 64); err == nil {
			return appendTagVarint(dst, fieldInt64, uint64(n)), nil
		}
	}
	dst = appendVarint(dst, uint64(field<<3|2))
	dst = appendVarint(dst, uint64(len(data)))
	return append(dst, data...), nil
}

// fromProtostream unwraps a WrappedMessage primitive into to.
func fromProtostream(dst, data []byte, to string) ([]byte, error) {
	field, wt, val, num, err := parseWrapped(data)
	if err != nil {
		return dst, err
	}
	var text []byte
	switch {
	case wt == 2 && (field == fieldString || field == fieldBytes):
		text = val
	case wt == 0 && field == fieldBool:
		text = strconv.AppendBool(nil, num != 0)
	case wt == 0 && (field == fieldInt64 || field == fieldInt32):
		if field == fieldInt32 {
			text = strconv.AppendInt(nil, int64(int32(num)), 10)
		} else {
			text = strconv.AppendInt(nil, int64(num), 10)
		}
	case wt == 0 && (field == fieldUInt64 || field == fieldUInt32):
		text = strconv.AppendUint(nil, num, 10)
	case wt == 0 && field == fieldSInt32, wt == 0 && field == fieldSInt64:
		text = strconv.AppendInt(nil, int64(num>>1)^-int64(num&1), 10)
	default:
		return dst, fmt.Errorf("%w: protostream field %d to %s", ErrUnsupported, field, to)
	}
	if to == JSON {
		if field == fieldString || field == fieldBytes {
			return toJSON(dst, text), nil
		}
		return append(dst, text...), nil
	}
	return append(dst, text...), nil
}

// parseWrapped reads the single primitive field of a WrappedMessage.
func parseWrapped(b []byte) (field int, wt int, val []byte, num uint64, err error) {
	tag, n := varint(b)
	if n <= 0 {
		return 0, 0, nil, 0, fmt.Errorf("%w: not a protostream wrapped primitive", ErrUnsupported)
	}
	b = b[n:]
	field, wt = int(tag>>3), int(tag&7)
	switch wt {
	case 0:
		num, n = varint(b)
		if n <= 0 {
			return 0, 0, nil, 0, errors.New("encoding: truncated protostream varint")
		}
	case 2:
		l, n := varint(b)
		if n <= 0 || uint64(len(b)-n) < l {
			return 0, 0, nil, 0, errors.New("encoding: truncated protostream field")
		}
		val = b[n : n+int(l)]
	default:
		return 0, 0, nil, 0, fmt.Errorf("%w: protostream wire type %d", ErrUnsupported, wt)
	}
	return field, wt, val, num, nil
}

func varint(b []byte) (uint64, int) {
	var x uint64
	for i := 0; i < len(b) && i < 10; i++ {
		x |= uint64(b[i]&0x7f) << (7 * uint(i))
		if b[i] < 0x80 {
			return x, i + 1
		}
	}
	return 0, 0
}

func appendVarint(b []byte, v uint64) []byte {
	for v >= 0x80 {
		b = append(b, byte(v)|0x80)
		v >>= 7
	}
	return append(b, byte(v))
}

func appendTagVarint(b []byte, field int, v uint64) []byte {
	return appendVarint(appendVarint(b, uint64(field<<3)), v)
}

// toJSON renders a string as a JSON string unless it already is valid JSON
// text of a scalar, object or array.
func toJSON(dst, data []byte) []byte {
	if looksJSON(data) {
		return append(dst, data...)
	}
	return strconv.AppendQuote(dst, string(data))
}

func looksJSON(b []byte) bool {
	s := strings.TrimSpace(string(b))
	if s == "" {
		return false
	}
	switch s[0] {
	case '{', '[', '"':
		return true
	}
	if s == "true" || s == "false" || s == "null" {
		return true
	}
	_, err := strconv.ParseFloat(s, 64)
	return err == nil
}

func fromJSON(dst, data []byte) ([]byte, error) {
	if s, err := unquoteJSON(data); err == nil {
		return append(dst, s...), nil
	}
	return append(dst, data...), nil
}

func unquoteJSON(data []byte) ([]byte, error) {
	s := strings.TrimSpace(string(data))
	if len(s) < 2 || s[0] != '"' {
		return nil, errors.New("not a JSON string")
	}
	u, err := strconv.Unquote(s)
	if err != nil || !utf8.ValidString(u) {
		return nil, errors.New("not a JSON string")
	}
	return []byte(u), nil
}
