package memcached

import (
	"context"
	"errors"
	"net"

	"github.com/hotgrid/hotgrid/netloop"
)

// A plain TCP connection is served by one of the server's event loops
// (package netloop), as memcached's worker threads serve theirs: a round
// trip costs one read and one write. The connection keeps its goroutine,
// parked in ServeConn, which takes over when the connection must not hold
// up a loop: authentication (failures are delayed; the connection returns
// to the loop once authenticated), a cache with stores (their I/O), or a
// client that reads slower than the server writes.

// adopt gives a plain TCP connection to a loop (see netloop.Handoff); it
// returns what the connection holds as its net.Conn.
func (c *conn) adopt(ctx context.Context, nc net.Conn) net.Conn {
	c.loopFlushFn = c.loopFlush
	return c.loop.AdoptOrKeep(c.srv.loops, nc, func(lc *netloop.Conn) { c.loopReady(ctx, lc) }, c.srv.log, "memcached")
}

// loopReady is the connection's loop handler: read what arrived, answer
// every complete request and write the replies.
func (c *conn) loopReady(ctx context.Context, lc *netloop.Conn) {
	if err := c.fill(); err != nil && !errors.Is(err, netloop.ErrWouldBlock) {
		c.leaveLoop(lc, false)
		return
	}
	stop := c.srv.conns.Closing() || lc.DeadlinePassed()
	if !stop && c.r < c.w && c.needsGoroutine() {
		c.leaveLoop(lc, true)
		return
	}
	perr := c.processBuffered(ctx)
	c.srv.stats.add(&c.ctr)
	if perr == nil && !stop {
		// The connection stays: its replies leave with the rest of the
		// batch's (see netloop.Conn.AfterBatch).
		if len(c.out) > 0 {
			lc.AfterBatch(c.loopFlushFn)
		}
		return
	}
	ferr := c.flush()
	switch {
	case ferr != nil && !errors.Is(ferr, netloop.ErrWouldBlock):
		c.leaveLoop(lc, false)
	case perr != nil && !errors.Is(perr, netloop.ErrWouldBlock):
		c.leaveLoop(lc, false)
	case stop:
		c.leaveLoop(lc, false)
	case ferr != nil || perr != nil:
		// The client reads slower than we write: its goroutine
		// writes the rest.
		c.leaveLoop(lc, true)
	}
}

// loopFlush writes the replies of a batch (see loopReady).
func (c *conn) loopFlush(lc *netloop.Conn) {
	if leave, detach := netloop.LeaveAfterWrite(c.flush()); leave {
		c.leaveLoop(lc, detach)
	}
}

// needsGoroutine reports whether the connection must leave the loop before
// its input is answered.
func (c *conn) needsGoroutine() bool {
	if !c.authenticated() {
		c.backToLoop = true
		return true
	}
	_, err := c.cache()
	return err == nil && c.ccStores
}

// leaveLoop hands the connection to its goroutine, or closes it.
func (c *conn) leaveLoop(lc *netloop.Conn, detach bool) { c.loop.Leave(lc, detach) }
