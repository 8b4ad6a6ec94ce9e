// Package filestore is hotgrid's embedded file store: a persistence.Store
// over pebble, the LSM engine CockroachDB runs on. Infinispan's file-store
// and soft-index-file-store elements map to it.
//
// Keys are laid out by segment (a two-byte big-endian segment number, then
// the key), so a segment's entries are one contiguous range: publishing a
// segment is a bounded scan. A value is the entry codec of package
// persistence: a small header with the entry's metadata, then the value
// bytes.
//
// # Durability
//
// Every commit to pebble goes through one lock (see commit.go): with
// persistence.SyncEveryWrite each write is committed and fsynced on its own;
// with persistence.GroupCommit a committer goroutine merges the writes that
// queue up while it waits for the disk into one synced batch; with
// persistence.Interval writes are committed without a sync and a ticker
// syncs the log every SyncInterval. Close syncs the log and is idempotent.
//
// # Failures
//
// pebble treats a failed write or sync of its write-ahead log as fatal: it
// calls its logger's Fatalf (which by default exits the process) and leaves
// the log writer in a state where the next commit panics. The store gives
// pebble a logger whose Fatalf records the error instead, and watches the
// log's files itself so that it learns of a failed write before any other
// commit reaches pebble. From then on every write returns an error wrapping
// ErrFailed and the cause (ENOSPC, EIO …); reads go on working. Close and
// Open again to recover: pebble replays the log, so every write the policy
// had made durable is still there. A failed memtable flush (pebble retries
// it) refuses writes only until a flush succeeds, so that writers get an
// error instead of waiting in a write stall. Failed compactions are logged;
// should they go on, pebble stalls writes and the stall is logged. Background
// errors are logged at most once per interval per kind.
package filestore

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/cockroachdb/pebble/v2"
	"github.com/cockroachdb/pebble/v2/vfs"

	"github.com/hotgrid/hotgrid/cache"
	"github.com/hotgrid/hotgrid/persistence"
)

// Errors returned by a Store, besides persistence.ErrReadOnly.
var (
	// ErrClosed is returned by every method called after Close.
	ErrClosed = errors.New("filestore: store is closed")
	// ErrFailed is wrapped, with its cause, in the error of every write made
	// after the write-ahead log failed; the store must be reopened.
	ErrFailed = errors.New("filestore: store failed; reopen it to recover")
)

// DefaultSyncInterval is the fsync period of persistence.Interval when
// Options.SyncInterval is zero.
const DefaultSyncInterval = time.Second

// Options configure a Store.
type Options struct {
	// Durability says when a write is on stable storage; the zero value
	// fsyncs every write.
	Durability persistence.Durability
	// SyncInterval is the fsync period of persistence.Interval (zero means
	// DefaultSyncInterval).
	SyncInterval time.Duration
	// ReadOnly opens the store for loading only; writes return
	// persistence.ErrReadOnly.
	ReadOnly bool
	// BlockCacheSize is the memory, in bytes, for decompressed blocks kept
	// for reads; zero means pebble's default, 8 MiB. Loads that miss it
	// read and decompress a block (BenchmarkLoad).
	BlockCacheSize int64
	// FS replaces the real file system (tests inject faults with it); nil
	// means the disk.
	FS vfs.FS
	// Logger receives the store's and the engine's messages; nil means
	// slog.Default().
	Logger *slog.Logger
}

// Validate reports options that cannot work.
func (o *Options) Validate() error {
	switch o.Durability {
	case persistence.SyncEveryWrite, persistence.GroupCommit, persistence.Interval:
	default:
		return fmt.Errorf("unknown durability %v", o.Durability)
	}
	if o.SyncInterval < 0 {
		return fmt.Errorf("negative sync interval %v", o.SyncInterval)
	}
	if o.BlockCacheSize < 0 {
		return fmt.Errorf("negative block cache size %d", o.BlockCacheSize)
	}
	return nil
}

// EnsureDefaults fills in the zero fields that have a default.
func (o *Options) EnsureDefaults() {
	if o.SyncInterval == 0 {
		o.SyncInterval = DefaultSyncInterval
	}
	if o.FS == nil {
		o.FS = vfs.Default
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
}

// Store is a pebble-backed persistence.Store. It is safe for concurrent use.
type Store struct {
	dir  string
	opts Options
	log  *slog.Logger
	db   *pebble.DB

	gate   gate
	health health

	// commitMu serialises every commit to pebble, see commit.go.
	commitMu sync.Mutex
	// direct is the pebble durability of a commit made by the writer
	// itself (SyncEveryWrite and Interval).
	direct *pebble.WriteOptions
	// queue feeds the GroupCommit committer; nil under other policies.
	queue chan *groupReq
	// groups counts the committer's commits (for the benchmarks).
	groups atomic.Int64

	stop      chan struct{}
	wg        sync.WaitGroup
	closeOnce sync.Once
}

var _ persistence.Store = (*Store)(nil)

// Open opens the store in dir, creating it unless opts.ReadOnly. Its errors
// name dir and the cause.
func Open(dir string, opts Options) (*Store, error) {
	if err := opts.Validate(); err != nil {
		return nil, fmt.Errorf("file store %s: open: %w", dir, err)
	}
	opts.EnsureDefaults()
	s := &Store{
		dir:    dir,
		opts:   opts,
		log:    opts.Logger.With("store", dir),
		direct: pebble.Sync,
		stop:   make(chan struct{}),
	}
	s.gate.init()
	s.health.init(s.log)
	po := &pebble.Options{
		FS:            &watchFS{FS: opts.FS, s: s},
		ReadOnly:      opts.ReadOnly,
		Logger:        engineLogger{s},
		EventListener: s.eventListener(),
	}
	po.CacheSize = opts.BlockCacheSize
	if !opts.ReadOnly {
		// The newest on-disk format (columnar blocks) takes about 4% fewer
		// table bytes per 100-byte entry than pebble's default, the oldest
		// format it supports (BenchmarkDiskUsage); a store in an older
		// format is upgraded in place on open. A read-only open cannot
		// upgrade, so it reads whatever format is there.
		po.FormatMajorVersion = pebble.FormatNewest
	}
	db, err := pebble.Open(dir, po)
	if err != nil {
		return nil, fmt.Errorf("file store %s: open: %w", dir, err)
	}
	s.db = db
	// pebble reports some failures while opening (writing the MANIFEST, for
	// one) through Fatalf and opens anyway.
	if err := s.health.fatalErr(); err != nil {
		db.Close()
		return nil, fmt.Errorf("file store %s: open: %w", dir, err)
	}
	if opts.ReadOnly {
		return s, nil
	}
	switch opts.Durability {
	case persistence.GroupCommit:
		s.queue = make(chan *groupReq, maxGroup)
		s.wg.Add(1)
		go s.groupLoop()
	case persistence.Interval:
		s.direct = pebble.NoSync
		s.wg.Add(1)
		go s.syncLoop()
	}
	return s, nil
}

// Dir returns the directory the store lives in.
func (s *Store) Dir() string { return s.dir }

// DiskUsage returns the bytes the store's files take, or 0 once it is
// closed.
func (s *Store) DiskUsage() uint64 {
	if !s.gate.enter() {
		return 0
	}
	defer s.gate.exit()
	return s.db.Metrics().DiskSpaceUsage()
}

// errorf wraps err with the store and the operation.
func (s *Store) errorf(op string, err error) error {
	return fmt.Errorf("file store %s: %s: %w", s.dir, op, err)
}

// begin admits an operation: it fails once the store is closed or ctx is
// done, and, for writes, when the store is read-only or failed. A nil error
// must be matched by s.gate.exit().
func (s *Store) begin(ctx context.Context, op string, write bool) error {
	if !s.gate.enter() {
		return s.errorf(op, ErrClosed)
	}
	err := ctx.Err()
	if err == nil && write {
		if s.opts.ReadOnly {
			err = persistence.ErrReadOnly
		} else {
			err = s.health.writable()
		}
	}
	if err != nil {
		s.gate.exit()
		return s.errorf(op, err)
	}
	return nil
}

// Load implements persistence.Store.
func (s *Store) Load(ctx context.Context, seg int, key []byte, now int64) (cache.Entry, bool, error) {
	const op = "load"
	if err := s.begin(ctx, op, false); err != nil {
		return cache.Entry{}, false, err
	}
	defer s.gate.exit()
	k, err := dbKey(seg, key)
	if err != nil {
		return cache.Entry{}, false, s.errorf(op, err)
	}
	v, closer, err := s.db.Get(k)
	if errors.Is(err, pebble.ErrNotFound) {
		return cache.Entry{}, false, nil
	}
	if err != nil {
		return cache.Entry{}, false, s.errorf(op, err)
	}
	defer closer.Close()
	meta, val, err := persistence.DecodeEntry(v)
	if err != nil {
		return cache.Entry{}, false, s.errorf(op, fmt.Errorf("segment %d key %q: %w", seg, key, err))
	}
	if meta.Expired(now) {
		return cache.Entry{}, false, nil
	}
	return cache.Entry{Key: clone(key), Value: clone(val), Meta: meta}, true, nil
}

// clone copies b; the copy of an empty slice is empty, not nil, so that an
// empty value stays distinguishable from none.
func clone(b []byte) []byte { return append([]byte{}, b...) }

// Write implements persistence.Store.
func (s *Store) Write(ctx context.Context, seg int, e cache.Entry) error {
	const op = "write"
	if err := s.begin(ctx, op, true); err != nil {
		return err
	}
	defer s.gate.exit()
	b := s.db.NewBatch()
	defer b.Close()
	if err := setEntry(b, seg, e); err != nil {
		return s.errorf(op, err)
	}
	if err := s.apply(b); err != nil {
		return s.errorf(op, err)
	}
	return nil
}

// WriteBatch implements persistence.Store: the writes and deletes are one
// pebble batch, applied and made durable atomically.
func (s *Store) WriteBatch(ctx context.Context, writes []persistence.SegmentEntry, deletes []persistence.SegmentKey) error {
	const op = "write batch"
	if len(writes) == 0 && len(deletes) == 0 {
		return nil
	}
	if err := s.begin(ctx, op, true); err != nil {
		return err
	}
	defer s.gate.exit()
	size := 0
	for _, w := range writes {
		size += len(w.Entry.Key) + len(w.Entry.Value) + recordOverhead
	}
	for _, d := range deletes {
		size += len(d.Key) + recordOverhead
	}
	if size > maxBatchBytes {
		return s.errorf(op, fmt.Errorf("%d bytes is more than one batch may hold (%d)", size, maxBatchBytes))
	}
	b := s.db.NewBatch()
	defer b.Close()
	for _, w := range writes {
		if err := setEntry(b, w.Segment, w.Entry); err != nil {
			return s.errorf(op, err)
		}
	}
	for _, d := range deletes {
		k, err := dbKey(d.Segment, d.Key)
		if err == nil {
			err = b.Delete(k, nil)
		}
		if err != nil {
			return s.errorf(op, err)
		}
	}
	if err := s.apply(b); err != nil {
		return s.errorf(op, err)
	}
	return nil
}

// Delete implements persistence.Store. Whether the key was there is read
// just before the delete; a concurrent write of the same key can make the
// answer stale, which the cache rules out by writing a key under its
// segment's lock.
func (s *Store) Delete(ctx context.Context, seg int, key []byte) (bool, error) {
	const op = "delete"
	if err := s.begin(ctx, op, true); err != nil {
		return false, err
	}
	defer s.gate.exit()
	k, err := dbKey(seg, key)
	if err != nil {
		return false, s.errorf(op, err)
	}
	_, closer, err := s.db.Get(k)
	if errors.Is(err, pebble.ErrNotFound) {
		return false, nil
	}
	if err != nil {
		return false, s.errorf(op, err)
	}
	closer.Close()
	b := s.db.NewBatch()
	defer b.Close()
	if err := b.Delete(k, nil); err != nil {
		return false, s.errorf(op, err)
	}
	if err := s.apply(b); err != nil {
		return false, s.errorf(op, err)
	}
	return true, nil
}

// Publish implements persistence.Store. Each segment is one bounded scan;
// fn receives copies it may keep. fn must not call Close.
func (s *Store) Publish(ctx context.Context, segments []int, now int64, fn func(int, cache.Entry) error) error {
	const op = "publish"
	if err := s.begin(ctx, op, false); err != nil {
		return err
	}
	defer s.gate.exit()
	visit := func(seg int, key, val []byte, meta cache.Metadata) error {
		if meta.Expired(now) {
			return nil
		}
		return fn(seg, cache.Entry{Key: clone(key), Value: clone(val), Meta: meta})
	}
	if segments == nil {
		return s.scan(ctx, op, nil, nil, visit)
	}
	for _, seg := range segments {
		lo, hi, err := segmentBounds(seg)
		if err != nil {
			return s.errorf(op, err)
		}
		if err := s.scan(ctx, op, lo, hi, visit); err != nil {
			return err
		}
	}
	return nil
}

// Size implements persistence.Store by scanning every entry's header; it
// copies nothing. A maintained counter would need a read before every write
// to know whether the write replaced an entry, and the expiry of every
// mortal entry in memory; see the package's tests for the cost of the scan.
func (s *Store) Size(ctx context.Context, now int64) (int64, error) {
	const op = "size"
	if err := s.begin(ctx, op, false); err != nil {
		return 0, err
	}
	defer s.gate.exit()
	var n int64
	err := s.scan(ctx, op, nil, nil, func(_ int, _, _ []byte, meta cache.Metadata) error {
		if !meta.Expired(now) {
			n++
		}
		return nil
	})
	return n, err
}

// scanCheckEvery is how many entries a scan visits between looks at its
// context.
const scanCheckEvery = 256

// scan calls fn with every entry in [lo, hi), decoded; key and value alias
// the iterator and are valid only during the call. An error from fn is
// returned as it is, so that Publish hands back its callback's error
// unchanged.
func (s *Store) scan(ctx context.Context, op string, lo, hi []byte, fn func(seg int, key, val []byte, meta cache.Metadata) error) error {
	return s.iterate(ctx, op, lo, hi, func(k, v []byte) error {
		seg, key, err := splitKey(k)
		if err != nil {
			return s.errorf(op, err)
		}
		meta, val, err := persistence.DecodeEntry(v)
		if err != nil {
			return s.errorf(op, fmt.Errorf("segment %d key %q: %w", seg, key, err))
		}
		return fn(seg, key, val, meta)
	})
}

// iterate calls fn with every stored key and value in [lo, hi); they alias
// the iterator. fn's error is returned as it is.
func (s *Store) iterate(ctx context.Context, op string, lo, hi []byte, fn func(k, v []byte) error) error {
	it, err := s.db.NewIter(&pebble.IterOptions{LowerBound: lo, UpperBound: hi})
	if err != nil {
		return s.errorf(op, err)
	}
	n := 0
	for it.First(); it.Valid(); it.Next() {
		if n++; n%scanCheckEvery == 0 {
			if err := ctx.Err(); err != nil {
				it.Close()
				return s.errorf(op, err)
			}
		}
		v, err := it.ValueAndErr()
		if err != nil {
			it.Close()
			return s.errorf(op, err)
		}
		if err := fn(it.Key(), v); err != nil {
			it.Close()
			return err
		}
	}
	if err := it.Close(); err != nil {
		return s.errorf(op, err)
	}
	return nil
}

// Clear implements persistence.Store with one range deletion, durable as
// the store's policy says.
func (s *Store) Clear(ctx context.Context) error {
	const op = "clear"
	if err := s.begin(ctx, op, true); err != nil {
		return err
	}
	defer s.gate.exit()
	// Under commitMu no commit can add a key past the last one between
	// finding it and deleting up to it.
	s.commitMu.Lock()
	defer s.commitMu.Unlock()
	it, err := s.db.NewIter(nil)
	if err != nil {
		return s.errorf(op, err)
	}
	var end []byte
	if it.Last() {
		end = append(clone(it.Key()), 0) // the first key after the last one
	}
	if err := it.Close(); err != nil {
		return s.errorf(op, err)
	}
	if end == nil {
		return nil
	}
	b := s.db.NewBatch()
	defer b.Close()
	if err := b.DeleteRange([]byte{}, end, nil); err != nil {
		return s.errorf(op, err)
	}
	wo := pebble.Sync
	if s.opts.Durability == persistence.Interval {
		wo = pebble.NoSync
	}
	if err := s.commitLocked(b, wo); err != nil {
		return s.errorf(op, err)
	}
	return nil
}

// Sync implements persistence.Store: whatever the policy, everything
// committed so far is fsynced before it returns.
func (s *Store) Sync(ctx context.Context) error {
	const op = "sync"
	if err := s.begin(ctx, op, false); err != nil {
		return err
	}
	defer s.gate.exit()
	if s.opts.ReadOnly {
		return nil
	}
	if err := s.syncLog(); err != nil {
		return s.errorf(op, err)
	}
	return nil
}

// Close implements persistence.Store. It waits for the operations in
// flight, stops the committer and the sync ticker, fsyncs the log and closes
// pebble. pebble does not flush its memtable on close (its log is replayed on
// open), and neither does Close: a flush on a full disk would never end.
// A second call returns nil.
func (s *Store) Close() error {
	var err error
	s.closeOnce.Do(func() { err = s.close() })
	return err
}

func (s *Store) close() error {
	s.gate.close()
	close(s.stop)
	s.wg.Wait()
	var errs []error
	if !s.opts.ReadOnly && s.health.fatalErr() == nil {
		if err := s.syncLog(); err != nil {
			errs = append(errs, fmt.Errorf("sync: %w", err))
		}
	}
	if err := s.health.poisoned(); err != nil {
		// A panic inside pebble's commit path left its commit lock held;
		// pebble's Close would wait on it forever. The files stay locked
		// until the process exits.
		errs = append(errs, fmt.Errorf("engine not closed after %w", err))
	} else if err := s.db.Close(); err != nil {
		errs = append(errs, err)
	}
	if err := errors.Join(errs...); err != nil {
		return s.errorf("close", err)
	}
	return nil
}
