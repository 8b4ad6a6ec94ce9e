package persistence

import (
	"context"
	"errors"
	"fmt"
	"log/slog"

	"github.com/hotgrid/hotgrid/cache"
	"github.com/hotgrid/hotgrid/config"
)

// Attached is one store of a cache with the settings of its element.
type Attached struct {
	Name  string // for errors and logs: the element and its path or table
	Store Store
	// ReadOnly stores are loaded from, never written.
	ReadOnly bool
	// Preload loads the store's entries into memory when the cache starts.
	Preload bool
	// PurgeOnStartup empties the store when the cache starts.
	PurgeOnStartup bool
	// WriteBehind, when set, queues writes and applies them in batches.
	WriteBehind *config.WriteBehind
}

// Layer is a cache's persistence: it implements cache.Persister over the
// cache's stores with the modes Infinispan defines — write-through (every
// acknowledged write is in every writable store, durable as the store's
// policy says), write-behind (queued, coalesced, flushed in batches and on
// shutdown) and passivation (only entries that leave memory are written;
// loading one back removes it from the stores).
type Layer struct {
	cache       string
	passivation bool
	stores      []*attached
	log         *slog.Logger
}

type attached struct {
	Attached
	behind *behind // nil: write-through
}

var _ cache.Persister = (*Layer)(nil)

// NewLayer builds the persistence of cache name over stores, emptying those
// configured to purge on start-up. It takes ownership of the stores.
func NewLayer(ctx context.Context, name string, passivation bool, stores []Attached, log *slog.Logger) (*Layer, error) {
	if log == nil {
		log = slog.Default()
	}
	l := &Layer{cache: name, passivation: passivation, log: log.With("cache", name)}
	for _, a := range stores {
		at := &attached{Attached: a}
		if a.PurgeOnStartup && !a.ReadOnly {
			if err := a.Store.Clear(ctx); err != nil {
				l.closeStores()
				return nil, fmt.Errorf("persistence: %s: purge on start-up: %w", a.Name, err)
			}
		}
		if a.WriteBehind != nil && !a.ReadOnly {
			at.behind = newBehind(a.Store, a.Name, a.WriteBehind.QueueSize, a.WriteBehind.FailSilently, l.log)
		}
		l.stores = append(l.stores, at)
	}
	if len(l.stores) == 0 {
		return nil, errors.New("persistence: no store")
	}
	return l, nil
}

func (l *Layer) closeStores() {
	for _, a := range l.stores {
		a.Store.Close()
	}
}

// Load looks key up in the write-behind queues, then in each store in
// order. Under passivation the entry found is removed from the stores: it
// now lives in memory.
func (l *Layer) Load(ctx context.Context, seg int, key []byte, now int64) (cache.Entry, bool, error) {
	for _, a := range l.stores {
		if a.behind != nil {
			if e, deleted, ok := a.behind.pending(key); ok {
				if deleted || e.Meta.Expired(now) {
					return cache.Entry{}, false, nil
				}
				return e, true, nil
			}
		}
		e, ok, err := a.Store.Load(ctx, seg, key, now)
		if err != nil {
			return cache.Entry{}, false, fmt.Errorf("persistence: load: %w", err)
		}
		if !ok {
			continue
		}
		if l.passivation {
			if err := l.deleteAll(ctx, seg, key); err != nil {
				return cache.Entry{}, false, err
			}
		}
		return e, true, nil
	}
	return cache.Entry{}, false, nil
}

// Store writes e through (or behind) to every writable store, unless the
// cache passivates.
func (l *Layer) Store(ctx context.Context, seg int, e cache.Entry) error {
	if l.passivation {
		return nil
	}
	return l.writeAll(ctx, seg, e)
}

func (l *Layer) writeAll(ctx context.Context, seg int, e cache.Entry) error {
	for _, a := range l.stores {
		if a.ReadOnly {
			continue
		}
		var err error
		if a.behind != nil {
			err = a.behind.write(ctx, seg, e, false)
		} else {
			err = a.Store.Write(ctx, seg, e)
		}
		if err != nil {
			return fmt.Errorf("persistence: %w", err)
		}
	}
	return nil
}

// Delete removes key from every writable store.
func (l *Layer) Delete(ctx context.Context, seg int, key []byte) error {
	if l.passivation {
		// The entry was removed from the stores when it was loaded.
		return nil
	}
	return l.deleteAll(ctx, seg, key)
}

func (l *Layer) deleteAll(ctx context.Context, seg int, key []byte) error {
	for _, a := range l.stores {
		if a.ReadOnly {
			continue
		}
		var err error
		if a.behind != nil {
			err = a.behind.write(ctx, seg, cache.Entry{Key: key}, true)
		} else {
			_, err = a.Store.Delete(ctx, seg, key)
		}
		if err != nil {
			return fmt.Errorf("persistence: %w", err)
		}
	}
	return nil
}

// Passivate writes an evicted entry under passivation; otherwise the stores
// already hold it.
func (l *Layer) Passivate(ctx context.Context, seg int, e cache.Entry) error {
	if !l.passivation {
		return nil
	}
	if err := l.writeAll(ctx, seg, e); err != nil {
		l.log.Error("passivation failed; the entry stays in memory", "err", err)
		return err
	}
	return nil
}

// flush waits for the write-behind queues to drain.
func (l *Layer) flush(ctx context.Context) error {
	var errs []error
	for _, a := range l.stores {
		if a.behind != nil {
			errs = append(errs, a.behind.flush(ctx))
		}
	}
	return errors.Join(errs...)
}

// primary is the store that answers size and iteration: the first one.
func (l *Layer) primary() *attached { return l.stores[0] }

// Size counts the cache's entries: the primary store's when it holds every
// entry (write-through or write-behind), memory's plus the store's under
// passivation or when the primary store is read-only.
func (l *Layer) Size(ctx context.Context, now, inMemory int64) (int64, error) {
	if err := l.flush(ctx); err != nil {
		return 0, err
	}
	p := l.primary()
	n, err := p.Store.Size(ctx, now)
	if err != nil {
		return 0, fmt.Errorf("persistence: %s: size: %w", p.Name, err)
	}
	if l.passivation || p.ReadOnly {
		return inMemory + n, nil
	}
	return max(n, inMemory), nil
}

// Publish calls fn with the primary store's entries of one segment.
func (l *Layer) Publish(ctx context.Context, seg int, now int64, fn func(cache.Entry) error) error {
	if err := l.flush(ctx); err != nil {
		return err
	}
	p := l.primary()
	err := p.Store.Publish(ctx, []int{seg}, now, func(_ int, e cache.Entry) error { return fn(e) })
	if err != nil {
		return fmt.Errorf("persistence: %s: publish: %w", p.Name, err)
	}
	return nil
}

// Clear empties every writable store.
func (l *Layer) Clear(ctx context.Context) error {
	for _, a := range l.stores {
		if a.ReadOnly {
			continue
		}
		if a.behind != nil {
			a.behind.discard()
		}
		if err := a.Store.Clear(ctx); err != nil {
			return fmt.Errorf("persistence: %s: clear: %w", a.Name, err)
		}
	}
	return nil
}

// PurgeExpired removes expired entries from every writable store.
func (l *Layer) PurgeExpired(ctx context.Context, now int64) error {
	var errs []error
	for _, a := range l.stores {
		if a.ReadOnly {
			continue
		}
		if err := a.Store.PurgeExpired(ctx, now, nil); err != nil {
			l.log.Warn("purging expired entries failed", "store", a.Name, "err", err)
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// errStopPreload ends a preload early when memory is full.
var errStopPreload = errors.New("preload: memory full")

// Preload loads the entries of the stores configured to preload. Under
// passivation each loaded entry is removed from the stores.
func (l *Layer) Preload(ctx context.Context, now int64, fn func(seg int, e cache.Entry) bool) error {
	for _, a := range l.stores {
		if !a.Preload {
			continue
		}
		n := 0
		err := a.Store.Publish(ctx, nil, now, func(seg int, e cache.Entry) error {
			if !fn(seg, e) {
				return errStopPreload
			}
			n++
			if l.passivation {
				return l.deleteAll(ctx, seg, e.Key)
			}
			return nil
		})
		if err != nil && !errors.Is(err, errStopPreload) {
			return fmt.Errorf("persistence: %s: preload: %w", a.Name, err)
		}
		l.log.Info("preloaded", "store", a.Name, "entries", n)
	}
	return nil
}

// Close passivates memory (under passivation), drains the write-behind
// queues and closes the stores.
func (l *Layer) Close(ctx context.Context, each func(fn func(seg int, e cache.Entry) error) error) error {
	var errs []error
	if l.passivation {
		n := 0
		err := each(func(seg int, e cache.Entry) error {
			n++
			return l.writeAll(ctx, seg, e)
		})
		if err != nil {
			errs = append(errs, fmt.Errorf("persistence: passivation on shutdown: %w", err))
		}
		l.log.Info("passivated on shutdown", "entries", n)
	}
	for _, a := range l.stores {
		if a.behind != nil {
			errs = append(errs, a.behind.close(ctx))
		}
		if err := a.Store.Close(); err != nil {
			errs = append(errs, fmt.Errorf("persistence: %s: close: %w", a.Name, err))
		}
	}
	return errors.Join(errs...)
}
