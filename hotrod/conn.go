package hotrod

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"sync"

	"github.com/hotgrid/hotgrid/cache"
	"github.com/hotgrid/hotgrid/hotrod/wire"
	"github.com/hotgrid/hotgrid/netloop"
)

// Read buffer sizing: start small so idle connections cost little, grow
// while reads fill the buffer, shrink back once drained.
const (
	minReadBuf = 4 << 10
	maxIdleBuf = 64 << 10
	// maxPending bounds output queued for a client that does not read
	// (listener events); past it the connection is closed.
	maxPending = 64 << 20
)

// conn is one client connection.
type conn struct {
	srv *Server
	nc  net.Conn

	rbuf []byte // unread input is rbuf[r:w]
	r, w int

	req request
	dec wire.Decoder

	out outbound

	// Cache resolution is remembered per connection: the last cache name
	// and what it resolved to, checked against the manager's generation.
	lastName  []byte
	lastCache cache.Cache
	lastGen   uint64

	scratch []byte // transcoding scratch for keys
	vbuf    []byte // transcoding scratch for values

	listenerIDs []string // listeners this connection registered
	iterIDs     []string
	flusherOnce sync.Once

	auth authState

	localTopo Topology
	closed    chan struct{} // closed when the connection ends

	// Event loop (loop.go). loop.Conn is set when a loop serves the
	// connection; it is nc for the connection's whole life, attached or
	// detached.
	loop       netloop.Handoff
	inLoop     bool // a loop is running the connection
	backToLoop bool // return to the loop once the goroutine's request is answered
	// loopFlushFn is loopFlush as a func value, made once for AfterBatch.
	loopFlushFn func(*netloop.Conn)
}

// outbound is a connection's output: responses from whoever serves the
// connection (its loop or its goroutine) and events from listener
// callbacks are appended under mu; flush writes them with one system call.
type outbound struct {
	mu    sync.Mutex
	buf   []byte
	spare []byte
	wmu   sync.Mutex // serialises socket writes
	nc    net.Conn
	err   error
	kick  chan struct{} // wakes the event flusher
}

func newConn(s *Server, nc net.Conn, prefix []byte) *conn {
	c := &conn{srv: s, nc: nc, closed: make(chan struct{})}
	size := minReadBuf
	for size < len(prefix) {
		size *= 2
	}
	c.rbuf = make([]byte, size)
	c.w = copy(c.rbuf, prefix)
	c.out.nc = nc
	c.dec.Limit = s.opts.MaxRequestSize
	if a, ok := nc.LocalAddr().(*net.TCPAddr); ok {
		c.localTopo = Topology{ID: 1, Members: []Member{{Host: a.IP.String(), Port: a.Port}}}
	} else {
		c.localTopo = Topology{ID: 1, Members: []Member{{Host: "127.0.0.1", Port: 11222}}}
	}
	return c
}

// append adds bytes to the output under the lock.
func (o *outbound) lock() []byte { o.mu.Lock(); return o.buf }

func (o *outbound) unlock(b []byte) { o.buf = b; o.mu.Unlock() }

// flush writes everything queued so far.
func (o *outbound) flush() error {
	o.wmu.Lock()
	defer o.wmu.Unlock()
	o.mu.Lock()
	b := o.buf
	if len(b) == 0 || o.err != nil {
		err := o.err
		o.mu.Unlock()
		return err
	}
	o.buf = o.spare[:0]
	o.spare = nil
	o.mu.Unlock()
	n, err := o.nc.Write(b)
	o.mu.Lock()
	if errors.Is(err, netloop.ErrWouldBlock) {
		// On a loop: the rest goes first once the connection's
		// goroutine has taken over.
		o.buf = append(b[:copy(b, b[n:])], o.buf...)
		o.mu.Unlock()
		return err
	}
	if err != nil && o.err == nil {
		o.err = err
	}
	if cap(b) <= maxIdleBuf {
		o.spare = b[:0]
	}
	o.mu.Unlock()
	return err
}

// pending returns the bytes queued but not yet written.
func (o *outbound) pending() int {
	o.mu.Lock()
	n := len(o.buf)
	o.mu.Unlock()
	return n
}

// serve serves the connection on its goroutine until it ends or, after a
// request that needed the goroutine, goes back to its loop (ErrReattach).
func (c *conn) serve(ctx context.Context) error {
	for {
		if err := c.processBuffered(ctx); err != nil {
			c.out.flush()
			return err
		}
		if err := c.out.flush(); err != nil {
			return err
		}
		if c.srv.conns.Closing() {
			return nil
		}
		if c.mayReattach() {
			c.backToLoop = false
			return netloop.ErrReattach
		}
		if err := c.fill(); err != nil {
			if errors.Is(err, os.ErrDeadlineExceeded) && c.srv.conns.Closing() {
				// Shutdown: answer what is complete, then close.
				perr := c.processBuffered(ctx)
				c.out.flush()
				return perr
			}
			if errors.Is(err, io.EOF) || errors.Is(err, net.ErrClosed) {
				return nil
			}
			return err
		}
	}
}

// fill reads more input, growing the buffer when it is full and shrinking it
// when it is empty and large.
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
		c.dec.Buf = c.rbuf[c.r:c.w]
		c.dec.Pos = 0
		err := decodeHeader(&c.dec, &c.req.header)
		if err == nil && c.inLoop && c.needsGoroutine() {
			return errToGoroutine
		}
		if err == nil {
			err = decodeBody(&c.dec, &c.req)
		}
		if errors.Is(err, wire.ErrShort) {
			return nil
		}
		if err != nil {
			c.protocolFailure(err)
			return fmt.Errorf("hotrod: %s: %w", c.nc.RemoteAddr(), err)
		}
		c.r += c.dec.Pos
		c.execute(ctx)
		if c.out.pending() > maxPending {
			return errors.New("hotrod: client does not read its responses")
		}
	}
	return nil
}

// protocolFailure answers a request that cannot be decoded with the error
// response the protocol defines, where the header got far enough to allow
// one.
func (c *conn) protocolFailure(err error) {
	status := byte(wire.StatusParseError)
	msg := err.Error()
	var pe *protocolError
	var tl *wire.ErrTooLong
	switch {
	case errors.As(err, &pe):
		status = pe.status
	case errors.Is(err, errUnknownOp):
		status = wire.StatusUnknownCommand
		msg = fmt.Sprintf("Unknown operation 0x%02x", c.req.op)
	case errors.As(err, &tl):
		status = wire.StatusParseError
	}
	c.srv.log.Debug("hotrod protocol error", "remote", c.nc.RemoteAddr().String(), "err", msg)
	b := c.out.lock()
	b = append(b, wire.ResponseMagic)
	b = wire.AppendVLong(b, c.req.msgID)
	b = append(b, wire.OpError, status, 0)
	b = wire.AppendString(b, msg)
	c.out.unlock(b)
}

// close ends the connection and releases what it registered; ServeConn
// calls it once the connection is over, on a loop or on its goroutine.
func (c *conn) close() {
	for _, id := range c.listenerIDs {
		c.srv.removeListener(id, c)
	}
	for _, id := range c.iterIDs {
		c.srv.iterations.remove(id)
	}
	close(c.closed)
	c.nc.Close()
}

// resolveCache returns the cache a request names, remembering the last one.
func (c *conn) resolveCache(name []byte) (cache.Cache, error) {
	gen := c.srv.mgr.Generation()
	if c.lastCache != nil && gen == c.lastGen && bytes.Equal(name, c.lastName) {
		return c.lastCache, nil
	}
	cc, err := c.srv.mgr.Cache(string(name))
	if err != nil {
		return nil, err
	}
	c.lastName = append(c.lastName[:0], name...)
	c.lastCache, c.lastGen = cc, gen
	return cc, nil
}
