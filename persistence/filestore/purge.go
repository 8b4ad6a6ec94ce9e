package filestore

import (
	"context"
	"errors"
	"fmt"

	"github.com/cockroachdb/pebble/v2"

	"github.com/hotgrid/hotgrid/cache"
	"github.com/hotgrid/hotgrid/persistence"
)

// purgeChunk is how many expired keys PurgeExpired collects before it
// deletes them; it bounds both its memory and how long it holds commitMu.
const purgeChunk = 256

// maxReported is how many undecodable entries one purge names.
const maxReported = 10

// PurgeExpired implements persistence.Store. It scans for expired entries
// and deletes them a chunk at a time; under commitMu it reads each one again
// and deletes it only if it is still expired, so a write that renewed the
// key after the scan saw it is never lost. The deletes are not synced: if a
// crash loses them the entries are still expired, still invisible, and the
// next purge takes them. fn is called once a chunk is committed.
// Undecodable entries are left in place and reported after the purge.
func (s *Store) PurgeExpired(ctx context.Context, now int64, fn func(int, []byte)) error {
	const op = "purge expired"
	if err := s.begin(ctx, op, true); err != nil {
		return err
	}
	defer s.gate.exit()
	var (
		chunk   [][]byte // expired keys, in dbKey form
		corrupt []error
		nbad    int
	)
	flush := func() error {
		deleted, err := s.purge(chunk, now)
		if err != nil {
			return s.errorf(op, err)
		}
		if fn != nil {
			for _, k := range deleted {
				seg, key, _ := splitKey(k)
				fn(seg, key)
			}
		}
		chunk = chunk[:0]
		return nil
	}
	err := s.iterate(ctx, op, nil, nil, func(k, v []byte) error {
		seg, key, err := splitKey(k)
		var meta cache.Metadata
		if err == nil {
			meta, _, err = persistence.DecodeEntry(v)
		}
		if err != nil {
			if nbad++; nbad <= maxReported {
				corrupt = append(corrupt, fmt.Errorf("segment %d key %q: %w", seg, key, err))
			}
			return nil
		}
		if !meta.Expired(now) {
			return nil
		}
		if chunk = append(chunk, clone(k)); len(chunk) == purgeChunk {
			return flush()
		}
		return nil
	})
	if err == nil && len(chunk) > 0 {
		err = flush()
	}
	if err != nil {
		return err
	}
	if nbad > 0 {
		return s.errorf(op, fmt.Errorf("%d undecodable entries left in place: %w", nbad, errors.Join(corrupt...)))
	}
	return nil
}

// purge deletes those of keys that are still expired at now and returns
// them.
func (s *Store) purge(keys [][]byte, now int64) ([][]byte, error) {
	b := s.db.NewBatch()
	defer b.Close()
	s.commitMu.Lock()
	defer s.commitMu.Unlock()
	var deleted [][]byte
	for _, k := range keys {
		v, closer, err := s.db.Get(k)
		if errors.Is(err, pebble.ErrNotFound) {
			continue
		}
		if err != nil {
			return nil, err
		}
		meta, _, err := persistence.DecodeEntry(v)
		closer.Close()
		if err != nil || !meta.Expired(now) {
			continue
		}
		if err := b.Delete(k, nil); err != nil {
			return nil, err
		}
		deleted = append(deleted, k)
	}
	if len(deleted) == 0 {
		return nil, nil
	}
	if err := s.commitLocked(b, pebble.NoSync); err != nil {
		return nil, err
	}
	return deleted, nil
}
