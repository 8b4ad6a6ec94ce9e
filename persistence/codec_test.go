package persistence

import (
	"bytes"
	"testing"

	"github.com/hotgrid/hotgrid/cache"
)

func FuzzDecodeEntry(f *testing.F) {
	f.Add(EncodeEntry(nil, cache.Metadata{Version: 1, Lifespan: -1, MaxIdle: -1, Flags: 9}, []byte("v")))
	f.Add([]byte{1, 0xFF, 0xFF})
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, b []byte) {
		m, v, err := DecodeEntry(b)
		if err != nil {
			return
		}
		again := EncodeEntry(nil, m, v)
		m2, v2, err := DecodeEntry(again)
		if err != nil || m2 != m || !bytes.Equal(v2, v) {
			t.Fatalf("re-encoding changed the entry: %+v %q vs %+v %q (%v)", m, v, m2, v2, err)
		}
	})
}
