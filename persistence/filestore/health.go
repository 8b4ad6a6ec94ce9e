package filestore

import (
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"
)

// gate counts the operations in flight so that Close can wait for them
// without a lock on every operation's path.
type gate struct {
	// state is the number of operations in flight times two, plus one
	// once the gate is closed.
	state atomic.Int64
	// drained receives a token when the last operation leaves a closed
	// gate.
	drained chan struct{}
}

func (g *gate) init() { g.drained = make(chan struct{}, 1) }

// enter admits an operation unless the gate is closed; a true result must
// be matched by exit.
func (g *gate) enter() bool {
	if g.state.Add(2)&1 != 0 {
		g.exit()
		return false
	}
	return true
}

func (g *gate) exit() {
	if g.state.Add(-2) == 1 {
		select {
		case g.drained <- struct{}{}:
		default:
		}
	}
}

// close shuts the gate and waits until no operation is in flight.
func (g *gate) close() {
	if old := g.state.Or(1); old>>1 != 0 {
		<-g.drained
	}
}

// health is what the store knows about the engine's condition.
type health struct {
	log *slog.Logger
	// bad is set while any of the errors below is, so that writable costs
	// one atomic load while all is well.
	bad atomic.Bool

	mu sync.Mutex
	// fatal is the first failure after which pebble cannot commit again
	// (a failed log write or sync, a Fatalf); it is never cleared.
	fatal error
	// panicked is a panic recovered from pebble's commit path.
	panicked error
	// flush is the error of the last memtable flush, cleared by the next
	// flush that succeeds.
	flush error
}

func (h *health) init(log *slog.Logger) { h.log = log }

// setFatal records a failure that ends writing; the first one is kept.
func (h *health) setFatal(err error) {
	h.mu.Lock()
	first := h.fatal == nil
	if first {
		h.fatal = err
		h.bad.Store(true)
	}
	h.mu.Unlock()
	if first {
		h.log.Error("file store failed; writes are refused until it is reopened", "err", err)
	}
}

// poison records a panic recovered from pebble; it is fatal as well.
func (h *health) poison(err error) {
	h.mu.Lock()
	if h.panicked == nil {
		h.panicked = err
	}
	h.mu.Unlock()
	h.setFatal(err)
}

func (h *health) fatalErr() error {
	if !h.bad.Load() {
		return nil
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.fatal
}

func (h *health) poisoned() error {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.panicked
}

// flushed records the outcome of a memtable flush.
func (h *health) flushed(err error) {
	h.mu.Lock()
	was := h.flush
	h.flush = err
	h.bad.Store(h.fatal != nil || h.flush != nil)
	h.mu.Unlock()
	switch {
	case err != nil && was == nil:
		h.log.Error("memtable flush failed; writes are refused until one succeeds", "err", err)
	case err == nil && was != nil:
		h.log.Info("memtable flush succeeded again; writes are accepted")
	}
}

// writable returns why a write cannot be accepted, if it cannot.
func (h *health) writable() error {
	if !h.bad.Load() {
		return nil
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	switch {
	case h.fatal != nil:
		return fmt.Errorf("%w: %w", ErrFailed, h.fatal)
	case h.flush != nil:
		return fmt.Errorf("memtable flush failing, writes refused until one succeeds: %w", h.flush)
	}
	return nil
}

// throttle lets a repeated message through at most once per period and
// counts the ones it held back. pebble retries a failed flush at once, so
// without it a full disk would log as fast as the loop spins.
type throttle struct {
	period time.Duration

	mu         sync.Mutex
	last       time.Time
	suppressed int
}

// allow reports whether to log now and how many messages were held back
// since the last one logged.
func (t *throttle) allow(now time.Time) (bool, int) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if !t.last.IsZero() && now.Sub(t.last) < t.period {
		t.suppressed++
		return false, 0
	}
	n := t.suppressed
	t.last, t.suppressed = now, 0
	return true, n
}
