package memcached

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"

	"github.com/hotgrid/hotgrid/cache"
	"github.com/hotgrid/hotgrid/netloop"
)

// Read buffer sizing: start small so idle connections cost little, grow
// while a request does not fit, shrink back once drained.
const (
	minReadBuf = 4 << 10
	maxIdleBuf = 64 << 10
	// maxPendingOut bounds the output of one batch; past it the batch is
	// flushed before the next request is answered.
	maxPendingOut = 256 << 10
)

// errQuit ends a connection without an error (quit, or a protocol error
// after which the stream cannot be resynchronised).
var errQuit = errors.New("memcached: connection closed by request")

// conn is one client connection.
type conn struct {
	srv *Server
	nc  net.Conn

	rbuf []byte // unread input is rbuf[r:w]
	r, w int
	out  []byte

	decided bool // protocol chosen
	binary  bool
	// swallow counts input bytes still to discard (the data of a value
	// that was refused as too large).
	swallow int

	// The served cache, resolved again when the manager's generation
	// changes.
	cc    cache.Cache
	ccGen uint64

	ctr counters

	auth authState

	toks    [maxTokens][]byte
	scratch []byte // decoded keys, concatenated values, numbers
	keybuf  []byte

	// op carries the parameters and results of a Compute call; computeFn
	// is c.compute bound once so that Compute calls do not allocate.
	op        op
	computeFn cache.ComputeFunc

	// Event loop (loop.go). loop.Conn is set when a loop serves the
	// connection; it is c.nc for the connection's whole life, attached or
	// detached.
	loop       netloop.Handoff
	backToLoop bool // return to the loop once authenticated
	// loopFlushFn is loopFlush as a func value, made once for AfterBatch.
	loopFlushFn func(*netloop.Conn)
	ccStores    bool // cc has stores
}

func newConn(s *Server, nc net.Conn, prefix []byte) *conn {
	c := &conn{srv: s, nc: nc}
	size := minReadBuf
	for size < len(prefix) {
		size *= 2
	}
	c.rbuf = make([]byte, size)
	c.w = copy(c.rbuf, prefix)
	c.ctr.bytesRead += uint64(len(prefix))
	c.computeFn = c.compute
	return c
}

func (c *conn) serve(ctx context.Context) (err error) {
	defer func() {
		if !errors.Is(err, netloop.ErrReattach) {
			c.nc.Close()
		}
	}()
	defer c.srv.stats.add(&c.ctr)
	for {
		perr := c.processBuffered(ctx)
		// Counters first, so that a client that reads its reply and then
		// asks for stats sees its own commands counted.
		c.srv.stats.add(&c.ctr)
		if err := c.flush(); err != nil {
			return nil
		}
		if perr != nil {
			if errors.Is(perr, errQuit) {
				return nil
			}
			return perr
		}
		if c.srv.conns.Closing() {
			return nil
		}
		if c.backToLoop && c.authenticated() && c.r == c.w {
			c.backToLoop = false
			return netloop.ErrReattach
		}
		if err := c.fill(); err != nil {
			if errors.Is(err, os.ErrDeadlineExceeded) && c.srv.conns.Closing() {
				// Shutdown: answer what is complete, then close.
				c.processBuffered(ctx)
				c.flush()
				return nil
			}
			if errors.Is(err, io.EOF) || errors.Is(err, net.ErrClosed) {
				return nil
			}
			return err
		}
	}
}

// flush writes the pending output with one system call.
func (c *conn) flush() error {
	if len(c.out) == 0 {
		return nil
	}
	n, err := c.nc.Write(c.out)
	c.ctr.bytesWritten += uint64(n)
	if errors.Is(err, netloop.ErrWouldBlock) {
		// On a loop: the rest is written once the connection's
		// goroutine has taken over.
		c.out = c.out[:copy(c.out, c.out[n:])]
		return err
	}
	if cap(c.out) > maxIdleBuf {
		c.out = nil
	} else {
		c.out = c.out[:0]
	}
	return err
}

// fill reads more input, growing the buffer when it is full and shrinking
// it when it is empty and large.
func (c *conn) fill() error {
	if c.r == c.w {
		c.r, c.w = 0, 0
		if len(c.rbuf) > maxIdleBuf {
			c.rbuf = make([]byte, minReadBuf)
		}
	}
	if c.w == len(c.rbuf) {
		if c.r > 0 {
			c.w = copy(c.rbuf, c.rbuf[c.r:c.w])
			c.r = 0
		}
		if c.w == len(c.rbuf) {
			nb := make([]byte, 2*len(c.rbuf))
			copy(nb, c.rbuf[:c.w])
			c.rbuf = nb
		}
	}
	n, err := c.nc.Read(c.rbuf[c.w:])
	c.w += n
	c.ctr.bytesRead += uint64(n)
	if n > 0 {
		return nil
	}
	if err == nil {
		err = io.ErrNoProgress
	}
	return err
}

// processBuffered answers every complete request in the read buffer. It
// returns an error when the connection must close.
func (c *conn) processBuffered(ctx context.Context) error {
	for c.r < c.w {
		if c.swallow > 0 {
			n := min(c.swallow, c.w-c.r)
			c.r += n
			c.swallow -= n
			continue
		}
		if !c.decided {
			c.decided = true
			c.binary = c.rbuf[c.r] == binaryRequestMagic
		}
		var n int
		var err error
		if c.binary {
			n, err = c.binaryRequest(ctx, c.rbuf[c.r:c.w])
		} else {
			n, err = c.textRequest(ctx, c.rbuf[c.r:c.w])
		}
		c.r += n
		if err != nil {
			return err
		}
		if n == 0 {
			return nil // incomplete
		}
		if len(c.out) > maxPendingOut {
			if err := c.flush(); err != nil {
				return err
			}
		}
	}
	return nil
}

// cache returns the served cache, resolving it again after caches were
// created or removed.
func (c *conn) cache() (cache.Cache, error) {
	gen := c.srv.mgr.Generation()
	if c.cc != nil && gen == c.ccGen {
		return c.cc, nil
	}
	cc, err := c.srv.cache()
	if err != nil {
		return nil, fmt.Errorf("cache %q: %w", c.srv.opts.Cache, err)
	}
	c.cc, c.ccGen = cc, gen
	c.ccStores = len(cc.Config().Persistence.Stores) > 0
	return cc, nil
}
