package cache

import "unsafe"

// entry is the container's record of one key. It is the head of a single
// allocation that holds, after it, the key and then the value:
//
//	| meta | klen | vlen | key bytes | value bytes |
//
// The allocation is a byte slice, so it holds no pointers: the garbage
// collector marks an entry without scanning it, and a lookup touches one
// object where separate key, entry and value allocations cost a cache miss
// each. The segment's map key is the entry's own key bytes (entry.key), so
// the key is stored once.
//
// Key and value never change after newEntry: a write with a new value
// builds a new entry and puts it in the map, and whoever still holds the
// old one (an exported Entry, a listener's event) keeps reading the old
// bytes. Only meta changes in place, under the segment's write lock.
type entry struct {
	meta Metadata
	klen uint32
	vlen uint32
}

// entryHeader is the size of the entry's fixed part, where the key starts.
const entryHeader = int(unsafe.Sizeof(entry{}))

// newEntry copies key and value into a new entry.
func newEntry(key, value []byte, m Metadata) *entry {
	buf := make([]byte, entryHeader+len(key)+len(value))
	// Heap objects of this size are at least 8-byte aligned, as entry's
	// fields need; the header holds no pointers, as a []byte may not.
	e := (*entry)(unsafe.Pointer(unsafe.SliceData(buf)))
	e.meta = m
	e.klen = uint32(len(key))
	e.vlen = uint32(len(value))
	copy(buf[entryHeader+copy(buf[entryHeader:], key):], value)
	return e
}

// key returns the key as a string over the entry's own bytes: the form the
// segment's map holds it in.
func (e *entry) key() string {
	if e.klen == 0 {
		return ""
	}
	return unsafe.String((*byte)(unsafe.Add(unsafe.Pointer(e), entryHeader)), e.klen)
}

// value returns the value's bytes. They are shared, so callers must not
// modify them; the capacity is the length, so appending copies.
func (e *entry) value() []byte {
	if e.vlen == 0 {
		return []byte{}
	}
	return unsafe.Slice((*byte)(unsafe.Add(unsafe.Pointer(e), entryHeader+int(e.klen))), e.vlen)
}

// size is what the entry adds to the DataMemory statistic (entrySize).
func (e *entry) size() int64 { return entrySize(int(e.klen), int(e.vlen)) }

// export returns the entry as the Cache interface hands it out, under the
// caller's key.
func (e *entry) export(key []byte) Entry { return Entry{Key: key, Value: e.value(), Meta: e.meta} }
