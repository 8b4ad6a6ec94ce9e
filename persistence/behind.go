package persistence

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/hotgrid/hotgrid/cache"
)

// behind is a store's write-behind queue: modifications are coalesced by
// key (the latest wins), at most size keys wait, and one goroutine applies
// them in batches. A writer that finds the queue full waits for room, so a
// slow store slows writers down instead of losing their writes.
type behind struct {
	store        Store
	name         string
	size         int
	failSilently bool
	log          *slog.Logger

	mu       sync.Mutex
	room     *sync.Cond // signalled when the queue shrinks or a batch ends
	queue    map[string]modification
	inflight map[string]modification // the batch being written
	closed   bool
	kick     chan struct{}
	done     chan struct{}
	lastErr  error
}

type modification struct {
	seg     int
	entry   cache.Entry
	deleted bool
}

// retryDelay is how long the flusher waits after a failed batch.
const retryDelay = 100 * time.Millisecond

func newBehind(st Store, name string, size int, failSilently bool, log *slog.Logger) *behind {
	b := &behind{
		store: st, name: name, size: max(size, 1), failSilently: failSilently, log: log,
		queue: make(map[string]modification), kick: make(chan struct{}, 1), done: make(chan struct{}),
	}
	b.room = sync.NewCond(&b.mu)
	go b.run()
	return b
}

// write queues a modification, waiting while the queue is full.
func (b *behind) write(ctx context.Context, seg int, e cache.Entry, deleted bool) error {
	k := string(e.Key)
	e.Key = []byte(k)
	b.mu.Lock()
	for {
		if b.closed {
			b.mu.Unlock()
			return fmt.Errorf("write-behind queue of %s is closed", b.name)
		}
		if _, ok := b.queue[k]; ok || len(b.queue) < b.size {
			break
		}
		if err := ctx.Err(); err != nil {
			b.mu.Unlock()
			return err
		}
		b.room.Wait()
	}
	b.queue[k] = modification{seg: seg, entry: e, deleted: deleted}
	b.mu.Unlock()
	select {
	case b.kick <- struct{}{}:
	default:
	}
	return nil
}

// pending returns the queued or in-flight modification of key, if any.
func (b *behind) pending(key []byte) (e cache.Entry, deleted, ok bool) {
	b.mu.Lock()
	defer b.mu.Unlock()
	m, ok := b.queue[string(key)]
	if !ok {
		m, ok = b.inflight[string(key)]
	}
	return m.entry, m.deleted, ok
}

// run applies queued modifications until the queue is closed and empty.
func (b *behind) run() {
	defer close(b.done)
	for {
		b.mu.Lock()
		for len(b.queue) == 0 && !b.closed {
			b.mu.Unlock()
			<-b.kick
			b.mu.Lock()
		}
		if len(b.queue) == 0 && b.closed {
			b.mu.Unlock()
			return
		}
		batch := b.queue
		b.queue = make(map[string]modification, len(batch))
		b.inflight = batch
		b.mu.Unlock()

		err := b.apply(batch)

		b.mu.Lock()
		if err != nil && !b.failSilently && !b.closed {
			// Put the batch back under anything newer and try again
			// (once closed, a failing store is given up on so that
			// shutdown ends; the error is returned by close).
			for k, m := range batch {
				if _, newer := b.queue[k]; !newer {
					b.queue[k] = m
				}
			}
		}
		b.lastErr = err
		b.inflight = nil
		b.room.Broadcast()
		b.mu.Unlock()
		if err != nil {
			b.log.Error("write-behind batch failed", "store", b.name, "modifications", len(batch),
				"dropped", b.failSilently, "err", err)
			time.Sleep(retryDelay)
		}
	}
}

func (b *behind) apply(batch map[string]modification) error {
	var writes []SegmentEntry
	var deletes []SegmentKey
	for _, m := range batch {
		if m.deleted {
			deletes = append(deletes, SegmentKey{Segment: m.seg, Key: m.entry.Key})
		} else {
			writes = append(writes, SegmentEntry{Segment: m.seg, Entry: m.entry})
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	return b.store.WriteBatch(ctx, writes, deletes)
}

// flush waits until every modification queued so far has been applied, or
// ctx ends. It returns the last batch error if the queue drained with one.
func (b *behind) flush(ctx context.Context) error {
	stop := context.AfterFunc(ctx, func() {
		b.mu.Lock()
		b.room.Broadcast()
		b.mu.Unlock()
	})
	defer stop()
	b.mu.Lock()
	defer b.mu.Unlock()
	for len(b.queue) > 0 || b.inflight != nil {
		if err := ctx.Err(); err != nil {
			return fmt.Errorf("write-behind flush of %s: %w", b.name, err)
		}
		select {
		case b.kick <- struct{}{}:
		default:
		}
		b.room.Wait()
	}
	if b.lastErr != nil && !b.failSilently {
		return fmt.Errorf("write-behind %s: %w", b.name, b.lastErr)
	}
	return nil
}

// discard drops what is queued (the cache is being cleared).
func (b *behind) discard() {
	b.mu.Lock()
	clear(b.queue)
	b.room.Broadcast()
	b.mu.Unlock()
}

// close flushes the queue and stops the flusher.
func (b *behind) close(ctx context.Context) error {
	err := b.flush(ctx)
	b.mu.Lock()
	b.closed = true
	b.room.Broadcast()
	b.mu.Unlock()
	select {
	case b.kick <- struct{}{}:
	default:
	}
	select {
	case <-b.done:
	case <-ctx.Done():
		return errors.Join(err, fmt.Errorf("write-behind %s: stop: %w", b.name, ctx.Err()))
	}
	return err
}
