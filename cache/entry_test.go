package cache

import (
	"bytes"
	"testing"
	"unsafe"
)

func TestEntryLayout(t *testing.T) {
	for _, tc := range []struct{ key, value string }{
		{"k", "v"},
		{"", "value with an empty key"},
		{"key with an empty value", ""},
		{"", ""},
		{"0123456789abcdef", string(bytes.Repeat([]byte{0xff}, 1000))},
	} {
		m := Metadata{Version: 7, Created: 1, LastUsed: 2, Lifespan: 3, MaxIdle: 4, Kind: 5, Flags: 6}
		e := newEntry([]byte(tc.key), []byte(tc.value), m)
		if e.key() != tc.key || string(e.value()) != tc.value || e.meta != m {
			t.Fatalf("entry(%q, %q) reads back %q, %q, %+v", tc.key, tc.value, e.key(), e.value(), e.meta)
		}
		if v := e.value(); v == nil || cap(v) != len(v) {
			t.Fatalf("value of %q: nil %v, cap %d len %d: appending must copy", tc.key, v == nil, cap(v), len(v))
		}
	}
}

// The container relies on a Go map replacing a string key on assignment:
// after an overwrite the map must hold the new entry's key bytes, or the
// old entry, value and all, would live as long as the key.
func TestOverwriteRekeysMap(t *testing.T) {
	c, _ := newTestCache(t, nil)
	key := []byte("the key")
	c.Put(ctx, key, []byte("first"), Write{})
	first, _, _ := c.Get(ctx, key)
	c.Put(ctx, key, []byte("second, longer"), Write{})
	s, _ := c.segmentOf(key)
	found := false
	for k, e := range s.m {
		if k != "the key" {
			continue
		}
		found = true
		if unsafe.StringData(k) != unsafe.StringData(e.key()) {
			t.Fatal("the map's key is not the current entry's key bytes")
		}
		if string(e.value()) != "second, longer" {
			t.Fatalf("current value %q", e.value())
		}
	}
	if !found {
		t.Fatal("key not in its segment")
	}
	if string(first.Value) != "first" {
		t.Fatalf("a value read before the overwrite changed to %q", first.Value)
	}
}

func TestInsertAllocatesOnce(t *testing.T) {
	c, _ := newTestCache(t, nil)
	key := []byte("key:000000000000")
	val := make([]byte, 32)
	i := 0
	allocs := testing.AllocsPerRun(1000, func() {
		i++
		key[4+i%12] = byte('a' + i%26) // a new key most times
		c.Put(ctx, key, val, Write{})
	})
	// One entry; the map's occasional growth is amortised below 1.
	if allocs > 1.5 {
		t.Fatalf("%.2f allocations per insert, want 1", allocs)
	}
}
