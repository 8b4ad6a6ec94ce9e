// Package cache is hotgrid's cache engine: the Cache interface that every
// protocol calls, the segmented in-memory container behind it, expiration,
// eviction, listeners and statistics, and the Manager that owns the caches of
// a node.
//
// Keys and values are opaque bytes in the cache's storage media type;
// transcoding happens at the protocol edge (package encoding). Byte slices
// returned by a Cache are shared with the container and must not be
// modified; slices passed in are copied before they are kept.
package cache

import (
	"context"
	"errors"
	"time"

	"github.com/hotgrid/hotgrid/config"
)

// Errors returned by caches. Protocols map them to their own status codes.
var (
	ErrNotFound       = errors.New("cache: not found")
	ErrExists         = errors.New("cache: already exists")
	ErrContainerFull  = errors.New("cache: container full (memory when-full=EXCEPTION)")
	ErrStopped        = errors.New("cache: stopped")
	ErrInvalidRequest = errors.New("cache: invalid request")
)

// Metadata describes an entry. Times are Unix milliseconds; Lifespan and
// MaxIdle are milliseconds with -1 meaning never.
type Metadata struct {
	Version  int64
	Created  int64
	LastUsed int64
	Lifespan int64
	MaxIdle  int64
	// Kind tags values that a protocol stores in its own encoding (a RESP
	// hash or list, for example); 0 is plain bytes, which every protocol
	// reads as they are.
	Kind uint8
	// Flags are opaque client flags kept beside the value (memcached's
	// 32-bit item flags); other protocols ignore them.
	Flags uint32
}

// Mortal reports whether the entry can expire.
func (m *Metadata) Mortal() bool { return m.Lifespan >= 0 || m.MaxIdle >= 0 }

// ExpiresAt returns the Unix millisecond time at which the entry expires, or
// -1 if it never does.
func (m *Metadata) ExpiresAt() int64 {
	at := int64(-1)
	if m.Lifespan >= 0 {
		at = m.Created + m.Lifespan
	}
	if m.MaxIdle >= 0 {
		if idle := m.LastUsed + m.MaxIdle; at < 0 || idle < at {
			at = idle
		}
	}
	return at
}

// Expired reports whether the entry has expired at time now (Unix ms).
func (m *Metadata) Expired(now int64) bool {
	at := m.ExpiresAt()
	return at >= 0 && now >= at
}

// Entry is a key, a value and their metadata.
type Entry struct {
	Key   []byte
	Value []byte
	Meta  Metadata
}

// Expiry values for Write.Lifespan and Write.MaxIdle besides a positive
// duration.
const (
	// ExpiryDefault applies the cache's configured value.
	ExpiryDefault time.Duration = -2
	// ExpiryNever means the entry never expires by this measure.
	ExpiryNever time.Duration = -1
)

// Write carries the options of a write operation.
type Write struct {
	// Lifespan and MaxIdle: a positive duration, ExpiryDefault or
	// ExpiryNever. The zero value means "never" so that a zero Write is an
	// immortal write; protocols that want the cache default say so.
	Lifespan time.Duration
	MaxIdle  time.Duration
	// SkipListeners suppresses listener notification for this write.
	SkipListeners bool
	// Kind and Flags are stored in the entry's Metadata.
	Kind  uint8
	Flags uint32
}

// ComputeAction tells Compute what to do with the entry.
type ComputeAction int

// Compute actions.
const (
	ComputeKeep   ComputeAction = iota // leave the entry as it is
	ComputeSet                         // store the returned value
	ComputeRemove                      // remove the entry
)

// ComputeFunc decides an entry's fate from its current state. It runs with
// the entry locked, so it must be quick and must not call the cache. It may
// return a value that aliases cur.Value only if it does not modify it.
type ComputeFunc func(cur Entry, exists bool) (value []byte, w Write, action ComputeAction)

// DefaultWrite is a Write that applies the cache's expiration defaults.
var DefaultWrite = Write{Lifespan: ExpiryDefault, MaxIdle: ExpiryDefault}

// CondResult is the outcome of a conditional (version-checked) write.
type CondResult int

// Conditional write outcomes.
const (
	CondOK       CondResult = iota // the write happened
	CondMismatch                   // the entry exists with another version
	CondAbsent                     // there is no entry
)

// Cache is the one interface every protocol calls. Implementations are safe
// for concurrent use.
type Cache interface {
	// Name returns the cache name.
	Name() string
	// Config returns the effective configuration. It must not be modified.
	Config() *config.Cache
	// NumSegments returns the number of segments keys are spread over.
	NumSegments() int

	// Get returns the entry for key, if present and not expired.
	Get(ctx context.Context, key []byte) (Entry, bool, error)
	// Put stores value under key and returns the previous entry, if any.
	Put(ctx context.Context, key, value []byte, w Write) (prev Entry, existed bool, err error)
	// PutIfAbsent stores value only if key is absent. It returns the
	// current entry and true if key was present (and nothing was written).
	PutIfAbsent(ctx context.Context, key, value []byte, w Write) (cur Entry, existed bool, err error)
	// Replace stores value only if key is present and returns the previous
	// entry; existed is false if nothing was written.
	Replace(ctx context.Context, key, value []byte, w Write) (prev Entry, existed bool, err error)
	// ReplaceIfVersion stores value only if the entry's version is version.
	// On CondOK it returns the previous entry, on CondMismatch the current.
	ReplaceIfVersion(ctx context.Context, key, value []byte, version int64, w Write) (Entry, CondResult, error)
	// Remove deletes key and returns the removed entry.
	Remove(ctx context.Context, key []byte, w Write) (prev Entry, existed bool, err error)
	// RemoveIfVersion deletes key only if the entry's version is version.
	RemoveIfVersion(ctx context.Context, key []byte, version int64, w Write) (Entry, CondResult, error)
	// Compute atomically reads key's entry and, as fn decides, replaces or
	// removes it. It returns the entry after the call and whether one
	// exists; the read-modify-write commands of RESP and memcached (INCR,
	// APPEND, CAS, LPUSH …) are built on it.
	Compute(ctx context.Context, key []byte, fn ComputeFunc) (Entry, bool, error)
	// ContainsKey reports whether key is present.
	ContainsKey(ctx context.Context, key []byte) (bool, error)
	// Size returns the number of live entries.
	Size(ctx context.Context) (int64, error)
	// Clear removes every entry without notifying listeners.
	Clear(ctx context.Context) error
	// Segment appends the live entries of one segment to buf and returns
	// it; it is the building block of iteration and state transfer.
	Segment(ctx context.Context, segment int, buf []Entry) ([]Entry, error)

	// AddListener registers l; events are delivered synchronously, in order
	// per key, and l must not block. RemoveListener unregisters it.
	AddListener(l Listener)
	RemoveListener(l Listener)

	// Stats returns a snapshot of the cache's statistics.
	Stats() Stats
}
