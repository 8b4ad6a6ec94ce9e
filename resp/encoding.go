package resp

import (
	"context"
	"encoding/binary"
	"math"
	"slices"

	"github.com/hotgrid/hotgrid/cache"
)

// Encodings of the collection types, each stored as one cache entry whose
// Metadata.Kind names the type. All lengths and counts are unsigned
// varints (encoding/binary's Uvarint).
//
//	list  (KindList):  count, then count × (len, element bytes), head first
//	set   (KindSet):   count, then count × (len, member bytes), members unique
//	hash  (KindHash):  count (2 × fields), then alternating (len, field) and
//	                   (len, value), fields unique
//	zset  (KindZSet):  count, then count × (score, len, member), sorted by
//	                   (score, member); score is the IEEE-754 float64 bits,
//	                   big-endian, 8 bytes
//
// A collection is never stored empty: the command that removes its last
// element removes the key, as Redis does.

const errCorrupt = "ERR corrupt value"

// items decodes a list or set encoding into dst; elements alias b.
func decodeItems(b []byte, dst [][]byte) ([][]byte, bool) {
	n, k := binary.Uvarint(b)
	if k <= 0 || n > uint64(len(b)) {
		return dst, false
	}
	b = b[k:]
	dst = slices.Grow(dst[:0], int(n))
	for range n {
		l, k := binary.Uvarint(b)
		if k <= 0 || l > uint64(len(b)-k) {
			return dst, false
		}
		dst = append(dst, b[k:k+int(l):k+int(l)])
		b = b[k+int(l):]
	}
	return dst, len(b) == 0
}

// itemCount reads the count of a list, set or hash encoding.
func itemCount(b []byte) int {
	n, k := binary.Uvarint(b)
	if k <= 0 {
		return 0
	}
	return int(n)
}

func encodeItems(dst []byte, items [][]byte) []byte {
	dst = binary.AppendUvarint(dst, uint64(len(items)))
	for _, it := range items {
		dst = binary.AppendUvarint(dst, uint64(len(it)))
		dst = append(dst, it...)
	}
	return dst
}

// zitem is a sorted-set member and its score.
type zitem struct {
	score  float64
	member []byte
}

func zless(a, b zitem) int {
	switch {
	case a.score < b.score:
		return -1
	case a.score > b.score:
		return 1
	}
	return compareBytes(a.member, b.member)
}

func compareBytes(a, b []byte) int {
	for i := 0; i < len(a) && i < len(b); i++ {
		if a[i] != b[i] {
			if a[i] < b[i] {
				return -1
			}
			return 1
		}
	}
	return len(a) - len(b)
}

func decodeZSet(b []byte, dst []zitem) ([]zitem, bool) {
	n, k := binary.Uvarint(b)
	if k <= 0 || n > uint64(len(b)) {
		return dst, false
	}
	b = b[k:]
	dst = slices.Grow(dst[:0], int(n))
	for range n {
		if len(b) < 8 {
			return dst, false
		}
		s := math.Float64frombits(binary.BigEndian.Uint64(b))
		b = b[8:]
		l, k := binary.Uvarint(b)
		if k <= 0 || l > uint64(len(b)-k) {
			return dst, false
		}
		dst = append(dst, zitem{s, b[k : k+int(l) : k+int(l)]})
		b = b[k+int(l):]
	}
	return dst, len(b) == 0
}

func encodeZSet(dst []byte, items []zitem) []byte {
	dst = binary.AppendUvarint(dst, uint64(len(items)))
	for _, it := range items {
		dst = binary.BigEndian.AppendUint64(dst, math.Float64bits(it.score))
		dst = binary.AppendUvarint(dst, uint64(len(it.member)))
		dst = append(dst, it.member...)
	}
	return dst
}

// readKind reads key expecting kind. It answers WRONGTYPE (and returns
// ok false) for another kind; exists is false for a missing key.
func (c *conn) readKind(ctx context.Context, key []byte, kind uint8) (val []byte, exists, ok bool) {
	cc, ok := c.db0()
	if !ok {
		return nil, false, false
	}
	e, found, err := cc.Get(ctx, key)
	switch {
	case err != nil:
		c.cacheErr(err)
		return nil, false, false
	case !found:
		return nil, false, true
	case e.Meta.Kind != kind:
		c.out.err(errWrongType)
		return nil, false, false
	}
	return e.Value, true, true
}

// mutate changes key's value of type kind in one atomic step. fn gets the
// current encoding (nil if the key is missing) and returns the new one,
// or nil to remove the key, and whether to write at all. mutate answers
// WRONGTYPE and cache errors itself and returns false then.
func (c *conn) mutate(ctx context.Context, cc cache.Cache, key []byte, kind uint8, fn func(cur []byte, exists bool) (next []byte, write bool)) bool {
	wrong := false
	_, _, err := cc.Compute(ctx, key, func(cur cache.Entry, exists bool) ([]byte, cache.Write, cache.ComputeAction) {
		if exists && cur.Meta.Kind != kind {
			wrong = true
			return nil, cache.Write{}, cache.ComputeKeep
		}
		next, write := fn(cur.Value, exists)
		switch {
		case !write:
			return nil, cache.Write{}, cache.ComputeKeep
		case next == nil:
			return nil, cache.Write{}, cache.ComputeRemove
		case exists:
			return next, keepWrite(&cur.Meta, kind), cache.ComputeSet
		}
		w := cache.DefaultWrite
		w.Kind = kind
		return next, w, cache.ComputeSet
	})
	switch {
	case err != nil:
		c.cacheErr(err)
		return false
	case wrong:
		c.out.err(errWrongType)
		return false
	}
	return true
}
