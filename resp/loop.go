package resp

import (
	"context"
	"errors"
	"net"
	"time"

	"github.com/hotgrid/hotgrid/netloop"
)

// A plain TCP connection is served by one of the server's event loops
// (package netloop) rather than by a goroutine of its own: a round trip then
// costs one read and one write, as in Redis. The connection keeps its
// goroutine, parked in ServeConn, which takes over when a command must wait
// or push: the loop detaches the connection before running it and the
// goroutine serves it from then on with the same state. A command that
// waits only briefly (AUTH, whose failures are delayed) returns the
// connection to the loop once answered.

// adopt gives a plain TCP connection to a loop (see netloop.Handoff); it
// returns what the connection holds as its net.Conn.
func (c *conn) adopt(ctx context.Context, nc net.Conn) net.Conn {
	c.loopFlushFn = c.loopFlush
	return c.loop.AdoptOrKeep(c.srv.loops, nc, func(lc *netloop.Conn) { c.loopReady(ctx, lc) }, c.srv.log, "resp")
}

// loopReady is the connection's loop handler: read what arrived, answer
// every complete command, write the replies, and hand the connection to
// its goroutine when a command must wait.
func (c *conn) loopReady(ctx context.Context, lc *netloop.Conn) {
	c.inLoop = true
	if err := c.fill(); err != nil && !errors.Is(err, netloop.ErrWouldBlock) {
		c.leaveLoop(lc, false)
		return
	}
	c.lastActive.Store(time.Now().UnixMilli())
	stop := c.srv.conns.Closing() || lc.DeadlinePassed()
	perr := c.processBuffered(ctx)
	c.unlockShared()
	if perr == nil && !stop && !c.toGoroutine && !c.killed.Load() {
		// The connection stays: its replies leave with the rest of the
		// batch's (see netloop.Conn.AfterBatch).
		if len(c.out.b) > 0 || c.ncmds > 0 {
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
	case stop || c.killed.Load():
		c.leaveLoop(lc, false)
	case c.toGoroutine || ferr != nil || perr != nil:
		// A command must wait, or the client reads slower than we
		// write: the goroutine continues where the loop stopped.
		c.leaveLoop(lc, true)
	}
}

// loopFlush writes the replies of a batch (see loopReady).
func (c *conn) loopFlush(lc *netloop.Conn) {
	if leave, detach := netloop.LeaveAfterWrite(c.flush()); leave {
		c.leaveLoop(lc, detach)
	}
}

// leaveLoop hands the connection to its goroutine, or closes it.
func (c *conn) leaveLoop(lc *netloop.Conn, detach bool) {
	c.inLoop = false
	c.toGoroutine = false
	c.loop.Leave(lc, detach)
}

// needsGoroutine reports whether cmd must not run on the loop: it may block
// (BLPOP and friends), it starts pushing messages (SUBSCRIBE), a failure
// is delayed (AUTH on a secured node), or the database has stores whose
// I/O would hold up the loop's other connections.
func (c *conn) needsGoroutine(cmd *command) bool {
	if cmd.flags&(flagBlocking|flagPush) != 0 {
		return true
	}
	if c.srv.opts.Guard != nil && (cmd.name == "auth" || cmd.name == "hello") {
		c.backToLoop = true
		return true
	}
	if cmd.flags&flagNoKeys == 0 || cmd.flags&flagWrite != 0 {
		if _, err := c.cache(); err == nil && c.ccStores {
			return true
		}
	}
	return false
}
