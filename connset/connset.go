// Package connset tracks a protocol server's open connections so that it
// can drain them on shutdown: stop reading, let every connection answer the
// requests it has already received, then close what remains.
package connset

import (
	"context"
	"net"
	"sync"
	"sync/atomic"
	"time"
)

// Set is the open connections of one server, keyed by the server's own
// connection type. The zero value is ready to use.
type Set[C comparable] struct {
	closing atomic.Bool
	mu      sync.Mutex
	conns   map[C]net.Conn
	wg      sync.WaitGroup
}

// Add records a new connection. It returns false once Shutdown has begun;
// the caller then closes nc and does not serve it.
func (s *Set[C]) Add(c C, nc net.Conn) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closing.Load() {
		return false
	}
	if s.conns == nil {
		s.conns = make(map[C]net.Conn)
	}
	s.conns[c] = nc
	s.wg.Add(1)
	return true
}

// Remove forgets a connection that has finished; every successful Add is
// matched by one Remove.
func (s *Set[C]) Remove(c C) {
	s.mu.Lock()
	delete(s.conns, c)
	s.mu.Unlock()
	s.wg.Done()
}

// Closing reports whether Shutdown has begun; connection loops check it
// after each batch and stop reading.
func (s *Set[C]) Closing() bool { return s.closing.Load() }

// Each calls fn for every open connection, under the set's lock: fn must
// not call back into the set.
func (s *Set[C]) Each(fn func(C)) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for c := range s.conns {
		fn(c)
	}
}

// Len returns the number of open connections.
func (s *Set[C]) Len() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.conns)
}

// Shutdown refuses new connections and unblocks every reader (its read
// deadline passes at once; poke, if set, wakes whatever else a connection
// may wait on). Connections then answer what they hold and finish. It waits
// for them until ctx is done, then closes the rest and returns ctx's error.
func (s *Set[C]) Shutdown(ctx context.Context, poke func(C)) error {
	s.mu.Lock()
	s.closing.Store(true)
	for c, nc := range s.conns {
		nc.SetReadDeadline(time.Now())
		if poke != nil {
			poke(c)
		}
	}
	s.mu.Unlock()
	done := make(chan struct{})
	go func() { s.wg.Wait(); close(done) }()
	select {
	case <-done:
		return nil
	case <-ctx.Done():
		s.mu.Lock()
		for _, nc := range s.conns {
			nc.Close()
		}
		s.mu.Unlock()
		<-done
		return ctx.Err()
	}
}
