// Package filestore is hotgrid's embedded file store: a persistence.Store
// over pebble, the LSM engine CockroachDB runs on. Infinispan's file-store
// and soft-index-file-store elements map to it.
//
// Keys are laid out by segment (a two-byte big-endian segment number, then
// the key), so a segment's entries are one contiguous range: publishing or
// dropping a segment is a range scan or a range delete. A value is a small
// header with the entry's metadata followed by the value bytes.
package filestore

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/cockroachdb/pebble/v2"
	"github.com/cockroachdb/pebble/v2/vfs"

	"github.com/hotgrid/hotgrid/cache"
	"github.com/hotgrid/hotgrid/persistence"
)

// Options configure a Store.
type Options struct {
	// Durability says when a write is on stable storage; the zero value
	// fsyncs every write.
	Durability persistence.Durability
	// SyncInterval is the fsync period of persistence.Interval (default
	// one second).
	SyncInterval time.Duration
	// ReadOnly opens the store for loading only.
	ReadOnly bool
	// FS replaces the real file system (tests inject faults with it).
	FS vfs.FS
	// Logger receives the engine's messages; nil means slog.Default().
	Logger *slog.Logger
}

// Store is a pebble-backed persistence.Store. It is safe for concurrent use.
type Store struct {
	dir  string
	db   *pebble.DB
	opts Options
	log  *slog.Logger

	// serial makes SyncEveryWrite literal: one commit, one fsync, at a
	// time. Without it (GroupCommit) pebble's commit pipeline lets
	// concurrent committers share one WAL fsync.
	serial sync.Mutex

	stopSync chan struct{}
	wg       sync.WaitGroup

	mu     sync.Mutex
	closed bool
	// failed holds an error the engine reported from the background (a
	// failed flush or WAL write); writes fail with it from then on.
	failed error
}

var _ persistence.Store = (*Store)(nil)

// Open opens (creating if needed) the store in dir.
func Open(dir string, opts Options) (*Store, error) {
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	if opts.SyncInterval <= 0 {
		opts.SyncInterval = time.Second
	}
	s := &Store{dir: dir, opts: opts, log: opts.Logger.With("store", dir)}
	po := &pebble.Options{
		FS:       opts.FS,
		ReadOnly: opts.ReadOnly,
		Logger:   engineLogger{s},
	}
	po.EventListener = &pebble.EventListener{
		BackgroundError: func(err error) { s.fail(fmt.Errorf("background: %w", err)) },
		DiskSlow: func(info pebble.DiskSlowInfo) {
			s.log.Warn("disk is slow", "path", info.Path, "op", info.OpType.String(), "duration", info.Duration)
		},
	}
	if po.FS == nil {
		po.FS = vfs.Default
	}
	db, err := pebble.Open(dir, po)
	if err != nil {
		return nil, fmt.Errorf("file store %s: open: %w", dir, err)
	}
	s.db = db
	switch opts.Durability {
	case persistence.Interval:
		s.stopSync = make(chan struct{})
		s.wg.Add(1)
		go s.syncLoop()
	}
	return s, nil
}

// engineLogger routes pebble's messages to slog. Fatal conditions mark the
// store failed instead of ending the process: every later write returns the
// error, what is on disk stays as it was.
type engineLogger struct{ s *Store }

func (l engineLogger) Infof(format string, args ...any) {
	l.s.log.Debug(fmt.Sprintf(format, args...))
}

func (l engineLogger) Errorf(format string, args ...any) {
	l.s.log.Error(fmt.Sprintf(format, args...))
}

func (l engineLogger) Fatalf(format string, args ...any) {
	l.s.fail(&engineError{msg: fmt.Sprintf(format, args...), args: args})
}

// engineError is a fatal engine message that still unwraps to the errors
// it was formatted from (ENOSPC, EIO …), so callers can tell them apart.
type engineError struct {
	msg  string
	args []any
}

func (e *engineError) Error() string { return e.msg }

func (e *engineError) Unwrap() []error {
	var errs []error
	for _, a := range e.args {
		if err, ok := a.(error); ok {
			errs = append(errs, err)
		}
	}
	return errs
}

func (s *Store) fail(err error) {
	s.mu.Lock()
	if s.failed == nil {
		s.failed = err
		s.log.Error("file store failed; writes will be refused", "err", err)
	}
	s.mu.Unlock()
}

// check returns the reason writes cannot be accepted, if any.
func (s *Store) check() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	switch {
	case s.closed:
		return fmt.Errorf("file store %s: closed", s.dir)
	case s.failed != nil:
		return fmt.Errorf("file store %s: %w", s.dir, s.failed)
	case s.opts.ReadOnly:
		return persistence.ErrReadOnly
	}
	return nil
}

func (s *Store) syncLoop() {
	defer s.wg.Done()
	t := time.NewTicker(s.opts.SyncInterval)
	defer t.Stop()
	for {
		select {
		case <-s.stopSync:
			return
		case <-t.C:
			if err := s.db.LogData(nil, pebble.Sync); err != nil {
				s.fail(fmt.Errorf("interval sync: %w", err))
			}
		}
	}
}

// writeOpts is the pebble durability of a direct write.
func (s *Store) writeOpts() *pebble.WriteOptions {
	if s.opts.Durability == persistence.Interval {
		return pebble.NoSync
	}
	return pebble.Sync
}

// commit applies a batch with the store's durability. pebble reports a
// failed WAL write or sync through its logger's Fatalf and then returns
// success, expecting the process to have ended; engineLogger records the
// failure instead, and commit turns it into this batch's error.
func (s *Store) commit(b *pebble.Batch) error {
	if s.opts.Durability == persistence.SyncEveryWrite {
		s.serial.Lock()
		defer s.serial.Unlock()
	}
	err := b.Commit(s.writeOpts())
	b.Close()
	if err == nil {
		s.mu.Lock()
		err = s.failed
		s.mu.Unlock()
	}
	return err
}

// dbKey is the on-disk key: segment, then key.
func dbKey(seg int, key []byte) []byte {
	k := make([]byte, 2+len(key))
	binary.BigEndian.PutUint16(k, uint16(seg))
	copy(k[2:], key)
	return k
}

func segBounds(seg int) (lo, hi []byte) {
	lo = []byte{byte(seg >> 8), byte(seg)}
	if seg == 0xFFFF {
		return lo, nil
	}
	n := seg + 1
	return lo, []byte{byte(n >> 8), byte(n)}
}

// Load implements persistence.Store.
func (s *Store) Load(_ context.Context, seg int, key []byte, now int64) (cache.Entry, bool, error) {
	v, closer, err := s.db.Get(dbKey(seg, key))
	if errors.Is(err, pebble.ErrNotFound) {
		return cache.Entry{}, false, nil
	}
	if err != nil {
		return cache.Entry{}, false, fmt.Errorf("file store %s: load: %w", s.dir, err)
	}
	defer closer.Close()
	meta, val, err := persistence.DecodeEntry(v)
	if err != nil {
		return cache.Entry{}, false, fmt.Errorf("file store %s: key %q: %w", s.dir, key, err)
	}
	if meta.Expired(now) {
		return cache.Entry{}, false, nil
	}
	return cache.Entry{Key: append([]byte(nil), key...), Value: append([]byte{}, val...), Meta: meta}, true, nil
}

// Write implements persistence.Store.
func (s *Store) Write(_ context.Context, seg int, e cache.Entry) error {
	if err := s.check(); err != nil {
		return err
	}
	b := s.db.NewBatch()
	if err := b.Set(dbKey(seg, e.Key), persistence.EncodeEntry(nil, e.Meta, e.Value), nil); err != nil {
		b.Close()
		return fmt.Errorf("file store %s: write: %w", s.dir, err)
	}
	if err := s.commit(b); err != nil {
		s.failOnIO(err)
		return fmt.Errorf("file store %s: write: %w", s.dir, err)
	}
	return nil
}

// failOnIO marks the store failed after a commit error: pebble's WAL is not
// usable after a failed write or sync.
func (s *Store) failOnIO(err error) {
	if !errors.Is(err, pebble.ErrClosed) {
		s.fail(err)
	}
}

// WriteBatch implements persistence.Store: one atomic pebble batch.
func (s *Store) WriteBatch(_ context.Context, writes []persistence.SegmentEntry, deletes []persistence.SegmentKey) error {
	if err := s.check(); err != nil {
		return err
	}
	b := s.db.NewBatch()
	var buf []byte
	for _, w := range writes {
		buf = persistence.EncodeEntry(buf[:0], w.Entry.Meta, w.Entry.Value)
		if err := b.Set(dbKey(w.Segment, w.Entry.Key), buf, nil); err != nil {
			b.Close()
			return fmt.Errorf("file store %s: batch: %w", s.dir, err)
		}
	}
	for _, d := range deletes {
		if err := b.Delete(dbKey(d.Segment, d.Key), nil); err != nil {
			b.Close()
			return fmt.Errorf("file store %s: batch: %w", s.dir, err)
		}
	}
	if err := s.commit(b); err != nil {
		s.failOnIO(err)
		return fmt.Errorf("file store %s: batch: %w", s.dir, err)
	}
	return nil
}

// Delete implements persistence.Store.
func (s *Store) Delete(_ context.Context, seg int, key []byte) (bool, error) {
	if err := s.check(); err != nil {
		return false, err
	}
	k := dbKey(seg, key)
	_, closer, err := s.db.Get(k)
	existed := err == nil
	if existed {
		closer.Close()
	} else if !errors.Is(err, pebble.ErrNotFound) {
		return false, fmt.Errorf("file store %s: delete: %w", s.dir, err)
	}
	if !existed {
		return false, nil
	}
	b := s.db.NewBatch()
	if err := b.Delete(k, nil); err != nil {
		b.Close()
		return false, fmt.Errorf("file store %s: delete: %w", s.dir, err)
	}
	if err := s.commit(b); err != nil {
		s.failOnIO(err)
		return false, fmt.Errorf("file store %s: delete: %w", s.dir, err)
	}
	return true, nil
}

// Publish implements persistence.Store.
func (s *Store) Publish(ctx context.Context, segments []int, now int64, fn func(int, cache.Entry) error) error {
	var ranges [][2][]byte
	if segments == nil {
		ranges = append(ranges, [2][]byte{nil, nil})
	}
	for _, seg := range segments {
		lo, hi := segBounds(seg)
		ranges = append(ranges, [2][]byte{lo, hi})
	}
	for _, r := range ranges {
		if err := s.scan(ctx, r[0], r[1], now, fn); err != nil {
			return err
		}
	}
	return nil
}

// scan calls fn with the live entries in [lo, hi).
func (s *Store) scan(ctx context.Context, lo, hi []byte, now int64, fn func(int, cache.Entry) error) error {
	it, err := s.db.NewIter(&pebble.IterOptions{LowerBound: lo, UpperBound: hi})
	if err != nil {
		return fmt.Errorf("file store %s: iterate: %w", s.dir, err)
	}
	n := 0
	for it.First(); it.Valid(); it.Next() {
		k := it.Key()
		if len(k) < 2 {
			continue
		}
		v, err := it.ValueAndErr()
		if err != nil {
			it.Close()
			return fmt.Errorf("file store %s: iterate: %w", s.dir, err)
		}
		meta, val, err := persistence.DecodeEntry(v)
		if err != nil {
			it.Close()
			return fmt.Errorf("file store %s: key %q: %w", s.dir, k[2:], err)
		}
		if meta.Expired(now) {
			continue
		}
		e := cache.Entry{Key: append([]byte(nil), k[2:]...), Value: append([]byte{}, val...), Meta: meta}
		if err := fn(int(binary.BigEndian.Uint16(k)), e); err != nil {
			it.Close()
			return err
		}
		if n++; n%1024 == 0 && ctx.Err() != nil {
			it.Close()
			return ctx.Err()
		}
	}
	if err := it.Close(); err != nil {
		return fmt.Errorf("file store %s: iterate: %w", s.dir, err)
	}
	return nil
}

// Size implements persistence.Store by counting the live entries.
func (s *Store) Size(ctx context.Context, now int64) (int64, error) {
	var n int64
	err := s.scan(ctx, nil, nil, now, func(int, cache.Entry) error { n++; return nil })
	return n, err
}

// Clear implements persistence.Store with one range deletion.
func (s *Store) Clear(context.Context) error {
	if err := s.check(); err != nil {
		return err
	}
	b := s.db.NewBatch()
	if err := b.DeleteRange([]byte{0, 0}, []byte{0xFF, 0xFF, 0xFF}, nil); err != nil {
		b.Close()
		return fmt.Errorf("file store %s: clear: %w", s.dir, err)
	}
	if err := s.commit(b); err != nil {
		s.failOnIO(err)
		return fmt.Errorf("file store %s: clear: %w", s.dir, err)
	}
	return nil
}

// PurgeExpired implements persistence.Store.
func (s *Store) PurgeExpired(ctx context.Context, now int64, fn func(int, []byte)) error {
	if err := s.check(); err != nil {
		return err
	}
	it, err := s.db.NewIter(nil)
	if err != nil {
		return fmt.Errorf("file store %s: purge: %w", s.dir, err)
	}
	b := s.db.NewBatch()
	n := 0
	for it.First(); it.Valid(); it.Next() {
		k := it.Key()
		v, err := it.ValueAndErr()
		if err != nil || len(k) < 2 {
			continue
		}
		meta, _, err := persistence.DecodeEntry(v)
		if err != nil || !meta.Expired(now) {
			continue
		}
		b.Delete(k, nil)
		if fn != nil {
			fn(int(binary.BigEndian.Uint16(k)), append([]byte(nil), k[2:]...))
		}
		n++
	}
	it.Close()
	if n == 0 {
		b.Close()
		return nil
	}
	if err := s.commit(b); err != nil {
		s.failOnIO(err)
		return fmt.Errorf("file store %s: purge: %w", s.dir, err)
	}
	return ctx.Err()
}

// Sync implements persistence.Store.
func (s *Store) Sync(context.Context) error {
	if s.opts.ReadOnly {
		return nil
	}
	if err := s.check(); err != nil {
		return err
	}
	b := s.db.NewBatch()
	b.LogData(nil, nil)
	err := b.Commit(pebble.Sync)
	b.Close()
	if err == nil {
		err = s.check()
	}
	if err != nil {
		s.failOnIO(err)
		return fmt.Errorf("file store %s: sync: %w", s.dir, err)
	}
	return nil
}

// Close implements persistence.Store.
func (s *Store) Close() error {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return nil
	}
	s.closed = true
	failed := s.failed
	s.mu.Unlock()
	if s.stopSync != nil {
		close(s.stopSync)
		s.wg.Wait()
	}
	var errs []error
	if !s.opts.ReadOnly && failed == nil {
		if err := s.db.LogData(nil, pebble.Sync); err != nil {
			errs = append(errs, err)
		}
	}
	if err := s.db.Close(); err != nil {
		errs = append(errs, err)
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("file store %s: close: %w", s.dir, err)
	}
	return nil
}

// DiskUsage returns the bytes the store's files take.
func (s *Store) DiskUsage() uint64 { return s.db.Metrics().DiskSpaceUsage() }
