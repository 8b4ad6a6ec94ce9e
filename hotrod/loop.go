package hotrod

import (
	"context"
	"errors"
	"net"

	"github.com/hotgrid/hotgrid/hotrod/wire"
	"github.com/hotgrid/hotgrid/netloop"
)

// A plain TCP connection is served by one of the server's event loops
// (package netloop), as Infinispan's Netty event loops serve theirs: a
// round trip costs one read and one write, with no goroutine to wake. The
// connection keeps its goroutine, parked in ServeConn, which takes over
// before a request that must not hold up a loop is executed:
//
//   - AUTH, whose failures are delayed, and admin tasks (EXEC), which may
//     create caches and write their configuration; the connection returns
//     to the loop once answered;
//   - a request on a cache with stores (their I/O);
//   - ADD_CLIENT_LISTENER: events are then written from other goroutines,
//     so the connection stays with its goroutine for good.
//
// It also takes over when the client reads slower than the server writes.

// errToGoroutine stops processBuffered on a loop before a request that
// the connection's goroutine must execute; the request stays buffered.
var errToGoroutine = errors.New("hotrod: request needs the connection's goroutine")

// adopt gives a plain TCP connection to a loop (see netloop.Handoff); it
// returns what the connection holds as its net.Conn.
func (c *conn) adopt(ctx context.Context, nc net.Conn) net.Conn {
	c.loopFlushFn = c.loopFlush
	return c.loop.AdoptOrKeep(c.srv.loops, nc, func(lc *netloop.Conn) { c.loopReady(ctx, lc) }, c.srv.log, "hotrod")
}

// loopReady is the connection's loop handler: read what arrived, answer
// every complete request, write the responses, and hand the connection to
// its goroutine when a request needs it.
func (c *conn) loopReady(ctx context.Context, lc *netloop.Conn) {
	c.inLoop = true
	if err := c.fill(); err != nil && !errors.Is(err, netloop.ErrWouldBlock) {
		c.leaveLoop(lc, false)
		return
	}
	stop := c.srv.conns.Closing() || lc.DeadlinePassed()
	perr := c.processBuffered(ctx)
	if perr == nil && !stop {
		// The connection stays: its responses leave with the rest of
		// the batch's (see netloop.Conn.AfterBatch).
		if c.out.pending() > 0 {
			lc.AfterBatch(c.loopFlushFn)
		}
		return
	}
	ferr := c.out.flush()
	switch {
	case ferr != nil && !errors.Is(ferr, netloop.ErrWouldBlock):
		c.leaveLoop(lc, false)
	case perr != nil && !errors.Is(perr, errToGoroutine):
		// A malformed request: its error response is written, the
		// connection ends as it would on a goroutine.
		c.srv.log.Debug("hotrod connection closed", "err", perr)
		c.leaveLoop(lc, false)
	case stop:
		c.leaveLoop(lc, false)
	case perr != nil || ferr != nil:
		c.leaveLoop(lc, true)
	}
}

// loopFlush writes the responses of a batch (see loopReady).
func (c *conn) loopFlush(lc *netloop.Conn) {
	if leave, detach := netloop.LeaveAfterWrite(c.out.flush()); leave {
		c.leaveLoop(lc, detach)
	}
}

// leaveLoop hands the connection to its goroutine, or closes it.
func (c *conn) leaveLoop(lc *netloop.Conn, detach bool) {
	c.inLoop = false
	c.loop.Leave(lc, detach)
}

// needsGoroutine reports whether the request whose header c.req holds
// must be executed by the connection's goroutine rather than on a loop.
func (c *conn) needsGoroutine() bool {
	switch c.req.op {
	case wire.OpAuth, wire.OpExec:
		c.backToLoop = true
		return true
	case wire.OpAddClientListener:
		return true
	}
	cc, err := c.resolveCache(c.req.cacheName)
	return err == nil && len(cc.Config().Persistence.Stores) > 0
}

// mayReattach reports whether the goroutine, having answered everything
// buffered, should give the connection back to its loop.
func (c *conn) mayReattach() bool {
	return c.backToLoop && c.loop.Conn != nil && c.r == c.w && c.out.kick == nil &&
		(c.srv.opts.Guard == nil || c.auth.ctx != nil)
}
