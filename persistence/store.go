// Package persistence holds hotgrid's stores: the Store contract that a
// cache's persistence layer writes through, and its implementations (an
// embedded LSM file store, a PostgreSQL store). The shape follows
// Infinispan's non-blocking store SPI: load, write, delete, publish a
// segment's entries, size, clear and purge of expired entries.
//
// Keys and values are the cache's stored bytes; Metadata travels with them
// so that versions, expiration and protocol tags survive a restart.
package persistence

import (
	"context"
	"errors"
	"fmt"

	"github.com/hotgrid/hotgrid/cache"
)

// ErrReadOnly is returned by writes to a store configured read-only.
var ErrReadOnly = errors.New("persistence: store is read-only")

// Durability says when an acknowledged write reaches stable storage.
type Durability int

const (
	// SyncEveryWrite gives every write its own fsync before it returns.
	SyncEveryWrite Durability = iota
	// GroupCommit lets concurrent writers share one fsync; each write
	// still returns only after it is on disk.
	GroupCommit
	// Interval fsyncs on a timer; a write returns once it is in the
	// engine's log buffer, and a crash may lose the last interval.
	Interval
)

// String returns the policy's configuration name.
func (d Durability) String() string {
	switch d {
	case SyncEveryWrite:
		return "sync"
	case GroupCommit:
		return "group"
	case Interval:
		return "interval"
	}
	return fmt.Sprintf("Durability(%d)", int(d))
}

// ParseDurability reads a policy name as String writes it; "" is sync.
func ParseDurability(s string) (Durability, error) {
	switch s {
	case "", "sync":
		return SyncEveryWrite, nil
	case "group":
		return GroupCommit, nil
	case "interval":
		return Interval, nil
	}
	return 0, fmt.Errorf("persistence: durability %q: want sync, group or interval", s)
}

// Store is a cache's backing store. Every method may block on I/O and takes
// a context. segment is the key's segment in the cache (0..Segments-1);
// stores may use it to group entries on disk, and must give it back
// unchanged in Publish.
//
// Errors name the store and the operation; an I/O error is returned, never
// swallowed, and never leaves what is already stored unreadable.
type Store interface {
	// Load returns the entry for key, or ok=false if there is none or it
	// has expired at now (Unix ms).
	Load(ctx context.Context, segment int, key []byte, now int64) (e cache.Entry, ok bool, err error)
	// Write stores the entry, replacing any previous one.
	Write(ctx context.Context, segment int, e cache.Entry) error
	// WriteBatch stores several entries and deletes several keys as one
	// durable unit (used by write-behind and putAll).
	WriteBatch(ctx context.Context, writes []SegmentEntry, deletes []SegmentKey) error
	// Delete removes key and reports whether it was there.
	Delete(ctx context.Context, segment int, key []byte) (bool, error)
	// Publish calls fn for every unexpired entry of the given segments (all
	// segments if segments is nil), in no particular order, until fn
	// returns an error, which Publish returns.
	Publish(ctx context.Context, segments []int, now int64, fn func(segment int, e cache.Entry) error) error
	// Size counts the unexpired entries.
	Size(ctx context.Context, now int64) (int64, error)
	// Clear removes every entry.
	Clear(ctx context.Context) error
	// PurgeExpired deletes the entries expired at now and calls fn (if not
	// nil) with each deleted key.
	PurgeExpired(ctx context.Context, now int64, fn func(segment int, key []byte)) error
	// Sync makes every write returned so far durable, whatever the policy.
	Sync(ctx context.Context) error
	// Close syncs and releases the store; it is safe to call twice.
	Close() error
}

// SegmentEntry is an entry with its segment, for WriteBatch.
type SegmentEntry struct {
	Segment int
	Entry   cache.Entry
}

// SegmentKey is a key with its segment, for WriteBatch.
type SegmentKey struct {
	Segment int
	Key     []byte
}
