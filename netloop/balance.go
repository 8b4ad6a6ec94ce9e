//go:build linux

package netloop

import (
	"sync/atomic"
	"time"

	"golang.org/x/sys/unix"
)

// How the loops of a group share the work.
//
// A new connection goes to the first loop with time to spare (busy under
// shedAbove), so light traffic gathers on one loop as it would on Redis's
// one thread, and the other CPUs stay free for the clients, the garbage
// collector and the connections served by goroutines; when no loop has
// time to spare, it goes to the least busy. (Placing every connection on
// the least busy loop spread redis-benchmark's 50 clients without
// pipelining over both loops of a two-vCPU node, 25 each, because the
// first loop's load showed before the last client connected, though one
// loop serving all 50 was only 50-70 % busy.)
// A loop measures, over windows of loadWindow, the share of the time it
// spent doing something other than waiting for input. When it had little
// time to spare for two windows in a row, it moves connections to the
// least busy sibling, if that one was idle at least half the time (a loop
// parked for a whole window counts as idle): as many as would even out
// their loads if the connections weighed the same, half of them when the
// sibling was idle. So heavy traffic (pipelined requests, many clients)
// spreads over the loops; a group of n loops settles after about log2(n)
// moves.
//
// Why: on two vCPUs with redis-benchmark (50 clients) on the same machine,
// in paired rounds, one loop served GETs without pipelining about 10 %
// faster than two loops sharing the clients round robin, whose second
// thread competes with the client for the CPUs; with 16 or 64 requests in
// flight, two loops served 5-20 % more than one. bench/resp shows the
// default against a single loop.

const (
	// loadWindow is how long a loop measures its load before deciding;
	// short, so that a burst of pipelined requests spreads within tens of
	// milliseconds.
	loadWindow = 20 * time.Millisecond
	// shedAbove is the busy share (per mille) above which a loop moves
	// connections away, after shedWindows windows in a row: it waited
	// for input less than 15 % of the time. One loop serving
	// redis-benchmark's 50 clients on two vCPUs was 60-76 % busy without
	// pipelining (in 50 ms windows, one in a few hundred reached 85 %),
	// 87-99 % with 16 requests in flight, 90-99 % with 64.
	shedAbove   = 850
	shedWindows = 2
	// shedBelow is the busy share (per mille) a sibling must be under to
	// take them.
	shedBelow = 500
	// shedRest is how many windows a loop waits after moving connections
	// before it measures for another move, so that the move shows.
	shedRest = 2
)

// load is a loop's own account of how busy it is. Only the loop's
// goroutine touches it, except what its siblings read: busy and waiting
// (atomics) and epoch (set before the loop starts).
type load struct {
	epoch    time.Time     // monotonic reference for now
	winStart time.Duration // since epoch
	idle     time.Duration // waited for input in the current window
	hot      int           // windows in a row at or above shedAbove
	rest     int           // windows left before the next move may happen
	busy     atomic.Int32  // per mille of the last whole window
	// waiting is 1 + when the loop began to wait for input (since
	// epoch), 0 while it serves: a loop parked for longer than a window
	// has no window to end, and siblings read it as idle.
	waiting atomic.Int64
}

func (ld *load) start() { ld.epoch = time.Now() }

// now reads the monotonic clock only.
func (ld *load) now() time.Duration { return time.Since(ld.epoch) }

// busyNow returns the loop's busy share (per mille) as a sibling sees it:
// that of its last window, or 0 if it has been waiting for input longer
// than a window.
func (ld *load) busyNow() int32 {
	if w := ld.waiting.Load(); w > 0 && ld.now()-time.Duration(w-1) > loadWindow {
		return 0
	}
	return ld.busy.Load()
}

// endWindow closes the current load window at now and, if the loop had no
// time to spare, moves half of its connections to an idle sibling.
func (l *Loop) endWindow(now time.Duration) {
	ld := &l.load
	win := now - ld.winStart
	busy := int32(1000 - min(ld.idle, win)*1000/win)
	ld.busy.Store(busy)
	ld.winStart, ld.idle = now, 0
	if ld.rest > 0 {
		ld.rest--
		return
	}
	if busy < shedAbove {
		ld.hot = 0
		return
	}
	if ld.hot++; l.group == nil || ld.hot < shedWindows {
		return
	}
	to := l.group.idlest(l)
	if to == nil {
		return
	}
	toBusy := to.load.busyNow()
	if toBusy >= shedBelow {
		return
	}
	ld.hot = 0
	if l.shed(to, float64(busy-toBusy)/float64(2*busy)) > 0 {
		ld.rest = shedRest
	}
}

// place returns the loop for a new connection: the first with time to
// spare, else the least busy.
func (g *Group) place() *Loop {
	for _, l := range g.loops {
		if l.load.busyNow() < shedAbove {
			return l
		}
	}
	return g.idlest(nil)
}

// idlest returns the least busy loop other than not (the first of equals),
// nil if there is none.
func (g *Group) idlest(not *Loop) *Loop {
	var best *Loop
	var bestBusy int32
	for _, l := range g.loops {
		if l == not {
			continue
		}
		if b := l.load.busyNow(); best == nil || b < bestBusy {
			best, bestBusy = l, b
		}
	}
	return best
}

// shed moves a share (0 to 1/2) of l's connections, taken at random, to
// the loop to; it runs on l's goroutine between batches and returns how
// many moved.
func (l *Loop) shed(to *Loop, share float64) int {
	l.mu.Lock()
	some := make([]*Conn, 0, int(float64(len(l.conns))*share))
	for _, c := range l.conns { // in Go's random order
		if len(some) == cap(some) {
			break
		}
		some = append(some, c)
	}
	l.mu.Unlock()
	moved := 0
	for _, c := range some {
		if l.move(c, to) {
			moved++
		}
	}
	return moved
}

// move hands c from l to the loop to, on l's goroutine (so c's handler is
// not running). It holds c.mu throughout, which keeps out Poke, Close,
// Detach and SetReadDeadline; c is added to to's set before it leaves l's,
// and to serves it only once c.loop says it is to's. It reports false,
// leaving c with l, if c is not simply attached and idle or to cannot take
// it.
func (l *Loop) move(c *Conn, to *Loop) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.state.Load() != stateAttached || c.closeReq.Load() || c.deadline.Load() {
		return false
	}
	l.mu.Lock()
	// A queued connection stays: l serves it next. Only l's goroutine
	// clears queued and only Poke, which needs c.mu, sets it.
	stay := c.queued || l.conns[int32(c.fd)] != c
	l.mu.Unlock()
	if stay {
		return false
	}
	to.mu.Lock()
	if to.closed {
		to.mu.Unlock()
		return false
	}
	to.conns[int32(c.fd)] = c
	if err := unix.EpollCtl(to.epfd, unix.EPOLL_CTL_ADD, c.fd, &unix.EpollEvent{Events: unix.EPOLLIN | unix.EPOLLRDHUP, Fd: int32(c.fd)}); err != nil {
		delete(to.conns, int32(c.fd))
		to.mu.Unlock()
		return false
	}
	to.mu.Unlock()
	l.mu.Lock()
	delete(l.conns, int32(c.fd))
	c.loop.Store(to)
	l.mu.Unlock()
	unix.EpollCtl(l.epfd, unix.EPOLL_CTL_DEL, c.fd, nil)
	return true
}
