package resp

import (
	"context"
	"errors"
	"io"
	"net"
	"os"
	"sync"
	"sync/atomic"
	"time"

	"github.com/hotgrid/hotgrid/cache"
	"github.com/hotgrid/hotgrid/netloop"
)

// Read buffer sizing: start small so idle connections cost little, grow
// while a command does not fit or while reads fill the buffer (up to
// readAhead), shrink back once drained.
const (
	minReadBuf = 4 << 10
	maxIdleBuf = 64 << 10
	// readAhead is how far a connection whose reads fill its buffer grows
	// it (Redis reads 16 KiB at a time). A client that pipelines 64 SETs
	// of 32-byte values sends 4.8 KB at once: in 4 KiB it took two reads,
	// two batches and two replies, and the client two reads to get them.
	readAhead = 16 << 10
	// maxPendingOut bounds the output of one batch; past it the batch is
	// flushed before the next command is answered.
	maxPendingOut = 256 << 10
	// maxPushBacklog bounds the pub/sub messages queued for a slow
	// subscriber before it is disconnected (Redis' pubsub output limit).
	maxPushBacklog = 32 << 20
)

// errQuit ends a connection without an error (QUIT, a protocol error after
// which the stream cannot be resynchronised, CLIENT KILL).
var errQuit = errors.New("resp: connection closed by request")

// conn is one client connection. Everything but the fields marked
// otherwise belongs to the connection's goroutine.
type conn struct {
	srv     *Server
	nc      net.Conn
	id      int64
	created time.Time

	rbuf []byte // unread input is rbuf[r:w]
	r, w int
	// filled: the last read filled rbuf, so the next fill grows it (up to
	// readAhead) rather than read the rest in pieces.
	filled bool
	// readErr is an error met by a read made while the connection was
	// blocked; it is returned by the next fill.
	readErr error

	out writer
	p   parser

	// infoMu guards what CLIENT LIST and INFO read from other
	// connections: name, libName, libVer, db, nsub, npsub, nmulti. The
	// connection's own goroutine reads them without it.
	infoMu  sync.Mutex
	name    string
	libName string
	libVer  string
	db      int
	nsub    int
	npsub   int
	nmulti  int // -1 outside MULTI

	// authCtx carries the authenticated subject; nil until AUTH succeeds
	// on a node that requires authentication. user is its name, for
	// CLIENT LIST (under infoMu).
	authCtx context.Context
	user    string

	curCmd     atomic.Pointer[command] // for CLIENT LIST
	lastActive atomic.Int64            // Unix ms of the last batch
	lastCmd    string
	subName    string
	cc         cache.Cache
	ccGen      uint64
	shared     bool // holds srv.execMu shared
	readonly   bool
	quit       bool
	inExec     bool
	namebuf    [maxNameLen]byte

	// MULTI state.
	multi    bool
	multiErr bool
	queued   [][][]byte
	watched  []watchedKey

	// Pub/sub. subs and psubs belong to the connection's goroutine; the
	// registry in srv.pubsub holds the reverse mapping.
	subs  map[string]struct{}
	psubs map[string]struct{}
	// async is set once the connection has subscribed: from then on its
	// output goes through pending, shared with publishers.
	async     bool
	proto     atomic.Int32 // protocol version, read by publishers
	pmu       sync.Mutex   // guards pending, kicked, dead
	pending   []byte
	kicked    bool
	dead      bool
	wmu       sync.Mutex // serialises writes to nc once async
	spare     []byte
	kick      chan struct{}
	pusherEnd chan struct{}

	// Blocking commands.
	wakeCh     chan struct{}
	readCh     chan readResult
	blocked    atomic.Bool
	unblocked  atomic.Bool // CLIENT UNBLOCK
	unblockErr atomic.Bool

	killed atomic.Bool

	// Event loop (loop.go). loop.Conn is set when a loop serves the
	// connection; it is c.nc for the connection's whole life, attached or
	// detached. The other fields belong to whoever serves the connection.
	loop        netloop.Handoff
	inLoop      bool
	toGoroutine bool // a command must run on the connection's goroutine
	backToLoop  bool // return to the loop once that command is answered
	ccStores    bool // cc has stores
	// loopFlushFn is loopFlush as a func value, made once for AfterBatch.
	loopFlushFn func(*netloop.Conn)

	scratch []byte
	offs    []int
	// ncmds counts commands since the last batch ended; it is added to
	// the server's total once per batch to keep a shared counter off the
	// per-command path.
	ncmds int64
}

type readResult struct {
	n   int
	err error
}

type watchedKey struct {
	cc      cache.Cache
	key     string
	version int64 // 0 when the key was absent
}

func newConn(s *Server, nc net.Conn, prefix []byte) *conn {
	c := &conn{srv: s, nc: nc, id: s.nextID.Add(1), created: time.Now()}
	size := minReadBuf
	for size < len(prefix) {
		size *= 2
	}
	c.rbuf = make([]byte, size)
	c.w = copy(c.rbuf, prefix)
	c.out.proto = 2
	c.proto.Store(2)
	c.p.maxBulk = s.opts.MaxRequestSize
	c.wakeCh = make(chan struct{}, 1)
	c.nmulti = -1
	c.lastActive.Store(c.created.UnixMilli())
	return c
}

func (c *conn) serve(ctx context.Context) (err error) {
	defer func() {
		if !errors.Is(err, netloop.ErrReattach) {
			c.nc.Close()
		}
	}()
	for {
		perr := c.processBuffered(ctx)
		c.unlockShared()
		if err := c.flush(); err != nil {
			return nil
		}
		if perr != nil {
			if errors.Is(perr, errQuit) {
				return nil
			}
			return perr
		}
		if c.srv.conns.Closing() || c.killed.Load() {
			return nil
		}
		if c.backToLoop && c.r == c.w && !c.async && c.readErr == nil {
			c.backToLoop = false
			return netloop.ErrReattach
		}
		err := c.fill()
		c.lastActive.Store(time.Now().UnixMilli())
		if err != nil {
			if errors.Is(err, os.ErrDeadlineExceeded) && c.srv.conns.Closing() {
				// Shutdown: answer what is complete, then close.
				c.processBuffered(ctx)
				c.unlockShared()
				c.flush()
				return nil
			}
			if errors.Is(err, io.EOF) || errors.Is(err, net.ErrClosed) || c.killed.Load() {
				return nil
			}
			return err
		}
	}
}

// cleanup releases what the connection holds in the server.
func (c *conn) cleanup() {
	c.unlockShared()
	if len(c.subs) > 0 || len(c.psubs) > 0 {
		c.srv.pubsub.unsubscribeAll(c)
	}
	c.pmu.Lock()
	c.dead = true
	c.pmu.Unlock()
	if c.pusherEnd != nil {
		close(c.pusherEnd)
	}
}

func (c *conn) lockShared() {
	if !c.shared {
		c.srv.execMu.RLock()
		c.shared = true
	}
}

func (c *conn) unlockShared() {
	if c.shared {
		c.srv.execMu.RUnlock()
		c.shared = false
	}
}

// flush writes the pending output with one system call.
func (c *conn) flush() error {
	c.unlockShared()
	if c.ncmds > 0 {
		c.srv.stats.totalCommands.Add(c.ncmds)
		c.ncmds = 0
	}
	if c.async {
		c.pmu.Lock()
		c.pending = append(c.pending, c.out.b...)
		c.pmu.Unlock()
		c.resetOut()
		return c.writePending()
	}
	if len(c.out.b) == 0 {
		return nil
	}
	n, err := c.nc.Write(c.out.b)
	if errors.Is(err, netloop.ErrWouldBlock) {
		// On a loop: the rest is written once the connection's
		// goroutine has taken over.
		c.out.b = c.out.b[:copy(c.out.b, c.out.b[n:])]
		return err
	}
	c.resetOut()
	return err
}

func (c *conn) resetOut() {
	if cap(c.out.b) > maxIdleBuf {
		c.out.b = nil
	} else {
		c.out.b = c.out.b[:0]
	}
}

// writePending writes what publishers and the connection queued, in order.
func (c *conn) writePending() error {
	c.wmu.Lock()
	defer c.wmu.Unlock()
	c.pmu.Lock()
	buf := c.pending
	c.pending = c.spare[:0]
	c.kicked = false
	c.pmu.Unlock()
	if len(buf) == 0 {
		c.spare = buf
		return nil
	}
	_, err := c.nc.Write(buf)
	if cap(buf) > maxIdleBuf {
		buf = nil
	}
	c.spare = buf[:0]
	if err != nil {
		c.nc.Close()
	}
	return err
}

// goAsync switches the connection's output to the shared pending queue and
// starts the goroutine that writes publishers' messages.
func (c *conn) goAsync() {
	if c.async {
		return
	}
	c.async = true
	c.kick = make(chan struct{}, 1)
	c.pusherEnd = make(chan struct{})
	go c.pusher()
}

func (c *conn) pusher() {
	for {
		select {
		case <-c.kick:
			c.writePending()
		case <-c.pusherEnd:
			return
		}
	}
}

// deliver queues a message for a subscriber; it is called by publishers.
func (c *conn) deliver(msg []byte) {
	c.pmu.Lock()
	if c.dead {
		c.pmu.Unlock()
		return
	}
	if len(c.pending)+len(msg) > maxPushBacklog {
		c.dead = true
		c.pmu.Unlock()
		c.srv.log.Warn("resp subscriber too slow, disconnecting", "client", c.id)
		c.killed.Store(true)
		c.nc.Close()
		return
	}
	c.pending = append(c.pending, msg...)
	kick := !c.kicked
	c.kicked = true
	c.pmu.Unlock()
	if kick {
		select {
		case c.kick <- struct{}{}:
		default:
		}
	}
}

// fill reads more input, growing the buffer when it is full (to the size
// the pending command needs, if known) and shrinking it when it is empty
// and large.
func (c *conn) fill() error {
	if c.readErr != nil {
		err := c.readErr
		c.readErr = nil
		return err
	}
	if c.r == c.w {
		c.r, c.w = 0, 0
		if len(c.rbuf) > maxIdleBuf {
			c.rbuf = make([]byte, minReadBuf)
		}
	}
	need := max(c.p.need, c.w-c.r+1)
	if c.filled && len(c.rbuf) < readAhead {
		// The last read filled the buffer: more was likely waiting.
		need = max(need, 2*len(c.rbuf))
	}
	c.filled = false
	if c.r+need > len(c.rbuf) {
		if c.r > 0 {
			c.w = copy(c.rbuf, c.rbuf[c.r:c.w])
			c.r = 0
		}
		if need > len(c.rbuf) {
			size := len(c.rbuf)
			for size < need {
				size *= 2
			}
			nb := make([]byte, size)
			copy(nb, c.rbuf[:c.w])
			c.rbuf = nb
		}
	}
	n, err := c.nc.Read(c.rbuf[c.w:])
	c.w += n
	if n > 0 {
		c.filled = c.w == len(c.rbuf)
		return nil
	}
	if err == nil {
		err = io.ErrNoProgress
	}
	return err
}

// processBuffered answers every complete command in the read buffer. It
// returns an error when the connection must close.
func (c *conn) processBuffered(ctx context.Context) error {
	for c.r < c.w && !c.quit {
		n, args, err := c.p.parse(c.rbuf[c.r:c.w])
		if err != nil {
			c.out.err(err.Error())
			return errQuit
		}
		if n == 0 {
			return nil // incomplete
		}
		c.r += n
		if len(args) == 0 {
			continue
		}
		c.execute(ctx, args)
		if c.toGoroutine {
			c.r -= n // run it again once detached
			return nil
		}
		if c.quit || c.killed.Load() {
			return errQuit
		}
		if len(c.out.b) > maxPendingOut {
			if err := c.flush(); err != nil {
				return err
			}
		}
	}
	if c.quit {
		return errQuit
	}
	return nil
}

// cache returns the cache of the selected database, resolving it again
// after caches were created or removed.
func (c *conn) cache() (cache.Cache, error) {
	gen := c.srv.mgr.Generation()
	if c.cc != nil && gen == c.ccGen {
		return c.cc, nil
	}
	cc, err := c.srv.database(c.runContext(context.Background()), c.db)
	if err != nil {
		return nil, err
	}
	c.cc, c.ccGen = cc, c.srv.mgr.Generation()
	c.ccStores = len(cc.Config().Persistence.Stores) > 0
	return cc, nil
}

// wake releases the connection from a blocking command.
func (c *conn) wake() {
	select {
	case c.wakeCh <- struct{}{}:
	default:
	}
}

// waitWake waits, with the output flushed and the exec lock released, until
// the connection is woken, the deadline passes (zero: never) or the client
// goes away. Input that arrives meanwhile is kept for later. It returns
// false if the connection must close.
func (c *conn) waitWake(deadline time.Time) (woken, alive bool) {
	if err := c.flush(); err != nil {
		return false, false
	}
	var timer <-chan time.Time
	if !deadline.IsZero() {
		d := time.Until(deadline)
		if d <= 0 {
			return false, true
		}
		t := time.NewTimer(d)
		defer t.Stop()
		timer = t.C
	}
	if c.readCh == nil {
		c.readCh = make(chan readResult, 1)
	}
	reading := false
	defer func() {
		if !reading {
			return
		}
		c.nc.SetReadDeadline(time.Now())
		rr := <-c.readCh
		c.w += rr.n
		if rr.err != nil && !errors.Is(rr.err, os.ErrDeadlineExceeded) {
			c.readErr = rr.err
		}
		if c.srv.conns.Closing() {
			c.nc.SetReadDeadline(time.Now())
		} else {
			c.nc.SetReadDeadline(time.Time{})
		}
	}()
	for {
		if c.srv.conns.Closing() || c.killed.Load() {
			return false, false
		}
		if !reading && c.readErr == nil && c.w < len(c.rbuf) {
			reading = true
			buf := c.rbuf[c.w:]
			go func() {
				n, err := c.nc.Read(buf)
				c.readCh <- readResult{n, err}
			}()
		}
		select {
		case <-c.wakeCh:
			return true, !c.srv.conns.Closing() && !c.killed.Load()
		case <-timer:
			return false, true
		case rr := <-c.readCh:
			reading = false
			c.w += rr.n
			if rr.n == 0 || rr.err != nil {
				if rr.err == nil {
					rr.err = io.ErrNoProgress
				}
				c.readErr = rr.err
				return false, false
			}
		}
	}
}
