package filestore

import (
	"bytes"
	"testing"

	"github.com/cockroachdb/pebble/v2"
	"github.com/cockroachdb/pebble/v2/vfs"

	"github.com/hotgrid/hotgrid/cache"
	"github.com/hotgrid/hotgrid/persistence"
)

// FuzzDecodeEntry stores arbitrary bytes as an entry's value (and, when
// asked, under a key too short for a segment prefix) and reads them back
// through every path that decodes: each must return an entry or an error,
// never panic, and an entry that decodes must re-encode to the same bytes.
func FuzzDecodeEntry(f *testing.F) {
	f.Add(persistence.EncodeEntry(nil, cache.Metadata{Version: 1, Created: 5, LastUsed: 6, Lifespan: -1, MaxIdle: 100, Kind: 2, Flags: 9}, []byte("value")), false)
	f.Add(persistence.EncodeEntry(nil, cache.Metadata{Lifespan: 0, MaxIdle: -1}, nil), false)
	f.Add([]byte{1, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0x01}, false)
	f.Add([]byte{1, 0, 0, 0, 1, 1, 0, 0xFF, 0xFF, 0xFF, 0xFF, 0x1F}, false)
	f.Add([]byte{}, true)
	f.Add([]byte{2}, false)
	s, err := Open("db", Options{FS: vfs.NewMem(), Durability: persistence.Interval, Logger: quiet})
	if err != nil {
		f.Fatal(err)
	}
	defer s.Close()
	f.Fuzz(func(t *testing.T, value []byte, shortKey bool) {
		if m, v, err := persistence.DecodeEntry(value); err == nil {
			again := persistence.EncodeEntry(nil, m, v)
			if m2, v2, err := persistence.DecodeEntry(again); err != nil || m2 != m || !bytes.Equal(v2, v) {
				t.Fatalf("re-encoding changed the entry: %+v %q vs %+v %q (%v)", m, v, m2, v2, err)
			}
		}
		key := []byte{0, 7, 'k'}
		if shortKey {
			key = []byte{7}
		}
		if err := s.db.Set(key, value, pebble.NoSync); err != nil {
			t.Fatal(err)
		}
		defer s.db.Delete(key, pebble.NoSync)
		_, decodes := decodeEntry(value)
		if _, _, err := s.Load(ctx, 7, []byte("k"), 0); (err == nil) != (decodes || shortKey) {
			t.Fatalf("load: %v (decodes: %v)", err, decodes)
		}
		pubErr := s.Publish(ctx, nil, 0, func(int, cache.Entry) error { return nil })
		_, sizeErr := s.Size(ctx, 0)
		purgeErr := s.PurgeExpired(ctx, 1<<62, nil)
		for _, err := range []error{pubErr, sizeErr, purgeErr} {
			if (err == nil) != (decodes && !shortKey) {
				t.Fatalf("scan: %v (decodes: %v, short key: %v)", err, decodes, shortKey)
			}
		}
	})
}

func decodeEntry(b []byte) (cache.Metadata, bool) {
	m, _, err := persistence.DecodeEntry(b)
	return m, err == nil
}
