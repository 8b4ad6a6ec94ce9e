package filestore

import (
	"encoding/binary"
	"errors"
	"fmt"

	"github.com/cockroachdb/pebble/v2"

	"github.com/hotgrid/hotgrid/cache"
	"github.com/hotgrid/hotgrid/persistence"
)

// maxSegment is the largest segment the two-byte key prefix can hold.
const maxSegment = 0xFFFF

// errSegment reports a segment outside 0..maxSegment.
var errSegment = errors.New("segment out of range")

// errShortKey reports a stored key without its segment prefix, which only a
// damaged or foreign directory can hold.
var errShortKey = errors.New("stored key shorter than its segment prefix")

// recordOverhead bounds what a batch record adds to its key and value (kind,
// two varint lengths and the segment prefix), and the value header.
const recordOverhead = 1 + 2*binary.MaxVarintLen32 + 2 + maxHeader

// maxHeader bounds persistence.EncodeEntry's header: a format byte, five
// 64-bit varints, the kind and a 32-bit varint.
const maxHeader = 1 + 5*binary.MaxVarintLen64 + 1 + binary.MaxVarintLen32

// maxBatchBytes keeps a batch well under pebble's 4 GiB limit, past which
// pebble panics instead of returning an error.
const maxBatchBytes = 1 << 31

func checkSegment(seg int) error {
	if seg < 0 || seg > maxSegment {
		return fmt.Errorf("%w: %d", errSegment, seg)
	}
	return nil
}

// dbKey is the on-disk key: the segment, big-endian, then the key.
func dbKey(seg int, key []byte) ([]byte, error) {
	if err := checkSegment(seg); err != nil {
		return nil, err
	}
	k := make([]byte, 2+len(key))
	binary.BigEndian.PutUint16(k, uint16(seg))
	copy(k[2:], key)
	return k, nil
}

// splitKey undoes dbKey; key aliases k.
func splitKey(k []byte) (seg int, key []byte, err error) {
	if len(k) < 2 {
		return 0, nil, fmt.Errorf("%w: %q", errShortKey, k)
	}
	return int(binary.BigEndian.Uint16(k)), k[2:], nil
}

// segmentBounds returns the key range [lo, hi) that holds seg's entries; hi
// is nil (no bound) for the last segment.
func segmentBounds(seg int) (lo, hi []byte, err error) {
	if err := checkSegment(seg); err != nil {
		return nil, nil, err
	}
	lo = binary.BigEndian.AppendUint16(nil, uint16(seg))
	if seg < maxSegment {
		hi = binary.BigEndian.AppendUint16(nil, uint16(seg+1))
	}
	return lo, hi, nil
}

// setEntry adds e to b, encoding key and value straight into the batch's
// memory: no intermediate key or value buffer is allocated.
func setEntry(b *pebble.Batch, seg int, e cache.Entry) error {
	if err := checkSegment(seg); err != nil {
		return err
	}
	if len(e.Key)+len(e.Value)+recordOverhead > maxBatchBytes {
		return fmt.Errorf("entry of %d bytes is more than one batch may hold (%d)", len(e.Key)+len(e.Value), maxBatchBytes)
	}
	var hbuf [maxHeader]byte
	h := persistence.EncodeEntry(hbuf[:0], e.Meta, nil)
	op := b.SetDeferred(2+len(e.Key), len(h)+len(e.Value))
	binary.BigEndian.PutUint16(op.Key, uint16(seg))
	copy(op.Key[2:], e.Key)
	copy(op.Value[copy(op.Value, h):], e.Value)
	return op.Finish()
}
