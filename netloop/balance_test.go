//go:build linux

package netloop

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"net"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// newGroup returns a group of n loops, closed (with a bounded wait) when
// the test ends.
func newGroup(t *testing.T, n int) *Group {
	t.Helper()
	g := NewGroup(n)
	if err := g.Err(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		for _, l := range g.loops {
			closeLoop(t, l)
		}
	})
	return g
}

// loopOf returns the index in g of the loop serving c.
func loopOf(g *Group, c *Conn) int {
	l := c.loop.Load()
	for i, gl := range g.loops {
		if gl == l {
			return i
		}
	}
	return -1
}

// TestIdleGroupGathersConnections: while the loops have time to spare, new
// connections go to the first loop.
func TestIdleGroupGathersConnections(t *testing.T) {
	g := newGroup(t, 3)
	for i := range 10 {
		if l := g.Next(); l != g.loops[0] {
			t.Fatalf("connection %d placed on loop %p, want the first (%p)", i, l, g.loops[0])
		}
	}
}

// TestNextGathersOnLoopWithTimeToSpare: a loop that is serving but has time
// to spare keeps getting the new connections, though its sibling is idle:
// light traffic stays on one loop (redis-benchmark's 50 clients without
// pipelining were split 25/25 when placement chose the least busy loop).
func TestNextGathersOnLoopWithTimeToSpare(t *testing.T) {
	g := newGroup(t, 2)
	g.loops[0].load.waiting.Store(0) // serving: its last window counts
	for _, busy := range []int32{1, 500, shedAbove - 1} {
		g.loops[0].load.busy.Store(busy)
		if l := g.Next(); l != g.loops[0] {
			t.Fatalf("a loop %d‰ busy lost a new connection to its idle sibling", busy)
		}
	}
	g.loops[0].load.busy.Store(shedAbove)
	if l := g.Next(); l != g.loops[1] {
		t.Fatalf("a loop with no time to spare (%d‰ busy) got a new connection", shedAbove)
	}
}

// TestNextAvoidsBusyLoop: a loop whose last window was busy gets no new
// connections while a sibling is idle, and one that has been waiting for
// input longer than a window counts as idle whatever its last window said.
func TestNextAvoidsBusyLoop(t *testing.T) {
	g := newGroup(t, 2)
	g.loops[0].load.busy.Store(900)
	// Loop 0 is parked: once a window has passed it reads as idle again.
	if got := g.loops[0].load.busyNow(); got != 900 && got != 0 {
		t.Fatalf("busyNow = %d, want 900 (or 0 if a window already passed)", got)
	}
	g.loops[0].load.waiting.Store(0) // as if serving: its last window counts
	if l := g.Next(); l != g.loops[1] {
		t.Fatalf("Next chose the busy loop")
	}
	g.loops[0].load.waiting.Store(int64(g.loops[0].load.now()) + 1)
	time.Sleep(loadWindow + 10*time.Millisecond)
	if got := g.loops[0].load.busyNow(); got != 0 {
		t.Fatalf("a loop waiting for two windows reads %d busy, want 0", got)
	}
	if l := g.Next(); l != g.loops[0] {
		t.Fatalf("Next did not choose the first of two idle loops")
	}
}

// TestBusyLoopShedsConnections drives every connection of a group of two
// loops through an echo handler that takes CPU time per message, so that
// the first loop, which gets them all, has no time to spare: some must move
// to the second, and every echo must still come back whole and in order,
// from whichever loop serves it.
func TestBusyLoopShedsConnections(t *testing.T) {
	g := newGroup(t, 2)
	ln := listen(t)
	const n = 8
	var conns [n]*Conn
	var clients [n]*net.TCPConn
	for i := range n {
		client, server := pair(t, ln, nil)
		l := g.Next()
		if l != g.loops[0] {
			t.Fatalf("idle group placed connection %d on loop %p", i, l)
		}
		buf := make([]byte, 64)
		c, err := l.Attach(server, func(c *Conn) {
			m, err := c.Read(buf)
			if errors.Is(err, ErrWouldBlock) {
				return
			}
			if err != nil {
				c.Close()
				return
			}
			spin(300 * time.Microsecond)
			if _, err := c.Write(buf[:m]); err != nil {
				c.Close()
			}
		})
		if err != nil {
			t.Fatal(err)
		}
		conns[i], clients[i] = c, client
	}

	var wg sync.WaitGroup
	stop := make(chan struct{})
	errs := make(chan error, n)
	var echoes atomic.Int64
	for i, client := range clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r := bufio.NewReader(client)
			for k := 0; ; k++ {
				select {
				case <-stop:
					return
				default:
				}
				msg := fmt.Sprintf("c%d-%d\n", i, k)
				if _, err := io.WriteString(client, msg); err != nil {
					errs <- err
					return
				}
				got, err := r.ReadString('\n')
				if err != nil {
					errs <- fmt.Errorf("client %d: %w", i, err)
					return
				}
				if got != msg {
					errs <- fmt.Errorf("client %d: echo %q, want %q", i, got, msg)
					return
				}
				echoes.Add(1)
			}
		}()
	}

	deadline := time.Now().Add(timeout)
	moved := 0
	for time.Now().Before(deadline) && moved == 0 {
		time.Sleep(10 * time.Millisecond)
		moved = 0
		for _, c := range conns {
			if loopOf(g, c) == 1 {
				moved++
			}
		}
	}
	// Let the moved connections carry on for a while on their new loop.
	before := echoes.Load()
	time.Sleep(100 * time.Millisecond)
	close(stop)
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	if moved == 0 {
		t.Fatalf("no connection moved off the busy loop in %v (loop 0 busy %d‰)", timeout, g.loops[0].load.busy.Load())
	}
	if moved == n {
		t.Fatalf("all %d connections moved: the busy loop should keep some", n)
	}
	if echoes.Load() == before {
		t.Fatalf("no echo after the move")
	}
	t.Logf("%d of %d connections moved; %d echoes", moved, n, echoes.Load())
}

// TestMoveRacesPokeAndClose moves connections back and forth between two
// loops while other goroutines poke and close them: every connection must
// end closed exactly once, its handler never running on two loops at once.
func TestMoveRacesPokeAndClose(t *testing.T) {
	g := newGroup(t, 2)
	ln := listen(t)
	const n = 16
	conns := make([]*Conn, n)
	var running [n]atomic.Int32
	var closed [n]atomic.Int32
	for i := range n {
		_, server := pair(t, ln, nil)
		buf := make([]byte, 16)
		c, err := g.loops[0].Attach(server, func(c *Conn) {
			if running[i].Add(1) != 1 {
				t.Errorf("connection %d: handler running twice at once", i)
			}
			defer running[i].Add(-1)
			if _, err := c.Read(buf); err != nil && !errors.Is(err, ErrWouldBlock) {
				closed[i].Add(1)
				c.Close()
			}
		})
		if err != nil {
			t.Fatal(err)
		}
		conns[i] = c
	}
	// Pokes from other goroutines until enough moves have happened, then
	// closes, at different times.
	var moves atomic.Int64
	var wg sync.WaitGroup
	for i, c := range conns {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for k := 0; moves.Load() < int64(20*(i+1)) && k < 100000; k++ {
				c.Poke()
				time.Sleep(20 * time.Microsecond)
			}
			c.Close()
		}()
	}
	// Moves, on each loop's own goroutine (as endWindow makes them),
	// from the handler of a connection attached only for that.
	mover := func(from, to *Loop, self *Conn) {
		from.mu.Lock()
		var some []*Conn
		for _, c := range from.conns {
			if c.conn != self.conn { // its handler is running
				some = append(some, c)
			}
		}
		from.mu.Unlock()
		for _, c := range some {
			if from.move(c, to) {
				moves.Add(1)
			}
		}
	}
	allClosed := make(chan struct{})
	go func() {
		wg.Wait()
		close(allClosed)
	}()
	for {
		select {
		case <-allClosed:
		default:
			for i, l := range g.loops {
				runOn(t, l, ln, func(self *Conn) { mover(l, g.loops[1-i], self) })
			}
			continue
		}
		break
	}
	if moves.Load() < 20*n {
		t.Fatalf("only %d moves", moves.Load())
	}
	deadline := time.Now().Add(timeout)
	for time.Now().Before(deadline) && g.Len() > 0 {
		time.Sleep(5 * time.Millisecond)
	}
	if g.Len() != 0 {
		t.Fatalf("%d connections still attached after Close", g.Len())
	}
	for i := range n {
		if closed[i].Load() != 1 {
			t.Errorf("connection %d: handler saw its end %d times, want 1", i, closed[i].Load())
		}
	}
}

// runOn runs f on l's goroutine from the handler of a connection attached
// for that purpose (self, which f must leave alone), and waits for it.
func runOn(t *testing.T, l *Loop, ln net.Listener, f func(self *Conn)) {
	t.Helper()
	ran := make(chan struct{})
	client, server := pair(t, ln, nil)
	defer client.Close()
	var once sync.Once
	if _, err := l.Attach(server, func(c *Conn) {
		once.Do(func() {
			f(c)
			close(ran)
		})
		c.Close()
	}); err != nil {
		t.Fatal(err)
	}
	recv(t, ran, "run on loop")
}

// spin burns CPU for d, as a handler doing real work would.
func spin(d time.Duration) {
	for end := time.Now().Add(d); time.Now().Before(end); {
	}
}
