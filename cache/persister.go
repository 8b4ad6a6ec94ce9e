package cache

import "context"

// Persister is a container's view of its cache's stores (package
// persistence implements it). The container calls Load, Store, Delete and
// Passivate with the key's segment write-locked, so that memory and the
// stores change together: a write whose Store fails is not applied and its
// error reaches the caller. Implementations must not call back into the
// cache.
type Persister interface {
	// Load returns key's entry from the stores after a memory miss. The
	// container keeps what it returns in memory.
	Load(ctx context.Context, segment int, key []byte, now int64) (Entry, bool, error)
	// Store makes e durable as the configuration says (write-through,
	// write-behind) before memory changes; under passivation it does
	// nothing.
	Store(ctx context.Context, segment int, e Entry) error
	// Delete removes key from the stores before memory drops it.
	Delete(ctx context.Context, segment int, key []byte) error
	// Passivate receives an entry that eviction is about to drop from
	// memory; an error keeps the entry in memory.
	Passivate(ctx context.Context, segment int, e Entry) error
	// Size counts the cache's entries given the inMemory live ones.
	Size(ctx context.Context, now, inMemory int64) (int64, error)
	// Publish calls fn with the stored entries of one segment.
	Publish(ctx context.Context, segment int, now int64, fn func(Entry) error) error
	// Clear empties the stores.
	Clear(ctx context.Context) error
	// PurgeExpired removes expired entries from the stores.
	PurgeExpired(ctx context.Context, now int64) error
	// Preload calls fn with the stored entries to load at start, until fn
	// returns false.
	Preload(ctx context.Context, now int64, fn func(segment int, e Entry) bool) error
	// Close flushes pending writes, passivates what memory still holds
	// (each, when passivation is on) and closes the stores.
	Close(ctx context.Context, each func(fn func(segment int, e Entry) error) error) error
}
