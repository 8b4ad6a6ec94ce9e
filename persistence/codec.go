package persistence

import (
	"encoding/binary"
	"errors"
	"fmt"

	"github.com/hotgrid/hotgrid/cache"
)

// entryFormat is the first byte of every stored value, so that the layout
// can change without misreading old files.
const entryFormat = 1

// ErrCorrupt reports a stored value that does not decode.
var ErrCorrupt = errors.New("corrupt entry")

// EncodeEntry appends the stored form of an entry to buf: the format byte,
// version, created, last-used (unsigned varints), lifespan and max-idle
// (signed varints, -1 meaning never), kind, flags, then the value.
func EncodeEntry(buf []byte, m cache.Metadata, value []byte) []byte {
	buf = append(buf, entryFormat)
	buf = binary.AppendUvarint(buf, uint64(m.Version))
	buf = binary.AppendVarint(buf, m.Created)
	buf = binary.AppendVarint(buf, m.LastUsed)
	buf = binary.AppendVarint(buf, m.Lifespan)
	buf = binary.AppendVarint(buf, m.MaxIdle)
	buf = append(buf, m.Kind)
	buf = binary.AppendUvarint(buf, uint64(m.Flags))
	return append(buf, value...)
}

// DecodeEntry reads what EncodeEntry wrote; the value aliases b.
func DecodeEntry(b []byte) (cache.Metadata, []byte, error) {
	var m cache.Metadata
	if len(b) == 0 || b[0] != entryFormat {
		return m, nil, fmt.Errorf("%w: unknown format", ErrCorrupt)
	}
	p := 1
	uv := func() uint64 {
		if p < 0 {
			return 0
		}
		v, n := binary.Uvarint(b[p:])
		if n <= 0 {
			p = -1
			return 0
		}
		p += n
		return v
	}
	sv := func() int64 {
		if p < 0 {
			return 0
		}
		v, n := binary.Varint(b[p:])
		if n <= 0 {
			p = -1
			return 0
		}
		p += n
		return v
	}
	m.Version = int64(uv())
	m.Created = sv()
	m.LastUsed = sv()
	m.Lifespan = sv()
	m.MaxIdle = sv()
	if p < 0 || p >= len(b) {
		return m, nil, fmt.Errorf("%w: short header", ErrCorrupt)
	}
	m.Kind = b[p]
	p++
	flags := uv()
	if p < 0 || flags > 1<<32-1 {
		return m, nil, fmt.Errorf("%w: bad flags", ErrCorrupt)
	}
	m.Flags = uint32(flags)
	return m, b[p:], nil
}
