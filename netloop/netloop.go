//go:build linux

// Package netloop serves many plain TCP connections from one goroutine per
// loop, the way Redis and memcached do: the loop asks a level-triggered epoll
// set which connections have input, reads each once, and lets its handler
// answer every complete request before the next. A handler may keep its
// replies until every ready connection was served (Conn.AfterBatch), so
// that the replies of one batch leave together, as Redis writes them.
//
// A goroutine per connection over Go's netpoller costs, per request, the
// read that returns EAGAIN before the goroutine parks, the park and the
// wake-up, and on a two-CPU machine a spinning scheduler thread. When every
// request is a round trip (no pipelining) and a system call costs a
// microsecond, that is a third of the server's time. A loop costs one read
// and one write per request, plus one epoll_pwait per batch of ready
// connections.
//
// The loop's own epoll descriptor waits in Go's netpoller, so an idle loop
// is a parked goroutine: it holds no thread, and the garbage collector and
// the scheduler treat it as any other.
//
// The loops of a Group share the connections by load: light traffic
// gathers on one loop, and a loop with no time to spare moves some of its
// connections to an idle sibling (balance.go).
//
// Handlers run on the loop's goroutine and must not block: a connection
// that is about to wait (a blocking command, a slow reader whose socket
// buffer is full, a delayed authentication failure) is detached and served
// by a goroutine of its own from then on. TLS connections are never
// attached; they keep a goroutine each.
package netloop

import (
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"
)

// Supported reports whether loops can be created on this platform.
const Supported = true

// ErrWouldBlock is returned by Conn.Read when no input is waiting and by
// Conn.Write when the socket's send buffer is full.
var ErrWouldBlock = errors.New("netloop: operation would block")

// ErrClosed is returned by Attach once the loop is closed.
var ErrClosed = errors.New("netloop: loop closed")

// maxEvents is how many ready connections one epoll_pwait reports.
const maxEvents = 256

// Handler is called on the loop's goroutine when its connection has input
// (again while input remains: the set is level-triggered), when it was
// poked (a past read deadline, a Poke) and once right after Attach. It must
// not block. It ends the connection's life in the loop by calling Close or
// Detach; when Read returns an error other than ErrWouldBlock (the peer
// left, another goroutine or the loop's Close closed it) it must call
// Close.
type Handler func(*Conn)

// Loop multiplexes connections on one goroutine. Create it with New; it
// runs until Close.
type Loop struct {
	epfd int
	// file is epfd as a pollable file: the loop waits for the epoll set to
	// become readable in Go's netpoller.
	file *os.File
	raw  syscall.RawConn
	// kick is an eventfd in the set; writing it wakes the loop to look at
	// poked connections and at closing.
	kick int

	mu     sync.Mutex // guards conns, poked and closed
	conns  map[int32]*Conn
	poked  []*Conn
	closed bool

	// after holds the calls handlers asked for, during the current
	// batch, to be made once it is served (AfterBatch); only the loop's
	// goroutine touches it.
	after []afterCall

	events []unix.EpollEvent
	done   chan struct{}

	// kickMu orders wake's write with shutdown's close of kick.
	kickMu     sync.Mutex
	kickClosed bool

	// group is the loop's group, nil for a loop made by New alone; a loop
	// of a group measures how busy it is and moves connections to an idle
	// sibling when it has no time to spare (balance.go).
	group *Group
	load  load

	// waitFn and its results: one closure for the loop's life, so that
	// waiting allocates nothing.
	waitFn func(uintptr) bool
	waitN  int
	waitE  error
}

// New creates a loop and starts its goroutine.
func New() (*Loop, error) {
	l, err := makeLoop(nil)
	if err != nil {
		return nil, err
	}
	go l.run()
	return l, nil
}

// makeLoop creates a loop of group g (nil: none) without starting it.
func makeLoop(g *Group) (*Loop, error) {
	epfd, err := unix.EpollCreate1(unix.EPOLL_CLOEXEC)
	if err != nil {
		return nil, fmt.Errorf("netloop: epoll_create1: %w", err)
	}
	kick, err := unix.Eventfd(0, unix.EFD_NONBLOCK|unix.EFD_CLOEXEC)
	if err != nil {
		unix.Close(epfd)
		return nil, fmt.Errorf("netloop: eventfd: %w", err)
	}
	if err := unix.EpollCtl(epfd, unix.EPOLL_CTL_ADD, kick, &unix.EpollEvent{Events: unix.EPOLLIN, Fd: int32(kick)}); err != nil {
		unix.Close(kick)
		unix.Close(epfd)
		return nil, fmt.Errorf("netloop: watch eventfd: %w", err)
	}
	// A non-blocking descriptor makes os.NewFile register it with the
	// netpoller, which then reports when the set has ready members.
	if err := unix.SetNonblock(epfd, true); err != nil {
		unix.Close(kick)
		unix.Close(epfd)
		return nil, fmt.Errorf("netloop: epoll descriptor: %w", err)
	}
	f := os.NewFile(uintptr(epfd), "netloop")
	raw, err := f.SyscallConn()
	if err != nil {
		f.Close()
		unix.Close(kick)
		return nil, fmt.Errorf("netloop: epoll descriptor: %w", err)
	}
	l := &Loop{
		epfd:   epfd,
		file:   f,
		raw:    raw,
		kick:   kick,
		conns:  make(map[int32]*Conn),
		events: make([]unix.EpollEvent, maxEvents),
		done:   make(chan struct{}),
		group:  g,
	}
	l.waitFn = l.waitReady
	l.load.start()
	return l, nil
}

// Attach moves tc into the loop: tc is closed and its socket is served
// through the returned Conn, whose handler is first called at once (so that
// input read before Attach is answered without waiting for more). It is
// Adopt followed by Start.
func (l *Loop) Attach(tc *net.TCPConn, h Handler) (*Conn, error) {
	c, err := l.Adopt(tc, h)
	if err != nil {
		return nil, err
	}
	if err := c.Start(); err != nil {
		return nil, err
	}
	return c, nil
}

// Adopt takes tc's socket for the loop (tc is closed) without serving it
// yet: the caller can record the Conn before its handler first runs, then
// calls Start. Close before Start releases the socket.
func (l *Loop) Adopt(tc *net.TCPConn, h Handler) (*Conn, error) {
	c := &Conn{conn: &conn{local: tc.LocalAddr(), remote: tc.RemoteAddr(), handler: h}}
	c.loop.Store(l)
	c.mine = &Conn{conn: c.conn, own: true}
	c.state.Store(stateNew)
	if err := c.adopt(tc); err != nil {
		return nil, err
	}
	return c, nil
}

// adopt duplicates tc's descriptor into c.fd and closes tc, which takes the
// original out of Go's netpoller; the socket lives on through c.fd.
func (c *Conn) adopt(tc *net.TCPConn) error {
	raw, err := tc.SyscallConn()
	if err != nil {
		return fmt.Errorf("netloop: adopt: %w", err)
	}
	fd := -1
	var derr error
	if err := raw.Control(func(s uintptr) {
		// The duplicate shares the open file description, so it is
		// non-blocking like the original.
		fd, derr = unix.FcntlInt(s, unix.F_DUPFD_CLOEXEC, 0)
	}); err != nil {
		return fmt.Errorf("netloop: adopt: %w", err)
	}
	if derr != nil {
		return fmt.Errorf("netloop: adopt: dup: %w", derr)
	}
	c.fd = fd
	tc.Close()
	return nil
}

// Start begins serving an adopted connection: its handler is called at
// once, then whenever it has input.
func (c *Conn) Start() error {
	l := c.loop.Load()
	c.mu.Lock()
	if c.state.Load() != stateNew {
		c.mu.Unlock()
		return net.ErrClosed
	}
	l.mu.Lock()
	if l.closed {
		l.mu.Unlock()
		c.closeFD()
		c.mu.Unlock()
		return ErrClosed
	}
	l.conns[int32(c.fd)] = c
	l.mu.Unlock()
	// Attached before the set reports it: the handler may run as soon as
	// the descriptor is in the set.
	c.state.Store(stateAttached)
	if err := unix.EpollCtl(l.epfd, unix.EPOLL_CTL_ADD, c.fd, &unix.EpollEvent{Events: unix.EPOLLIN | unix.EPOLLRDHUP, Fd: int32(c.fd)}); err != nil {
		l.mu.Lock()
		delete(l.conns, int32(c.fd))
		l.mu.Unlock()
		c.closeFD()
		c.mu.Unlock()
		return fmt.Errorf("netloop: start: epoll_ctl: %w", err)
	}
	c.mu.Unlock()
	// Only now may the loop call the handler: it may close or detach c,
	// which must find c in the epoll set.
	c.Poke()
	return nil
}

// Reattach moves a detached connection back into the loop, for example
// once the command it was detached for has completed. The goroutine that
// served it must not use the net.Conn Detach returned any more.
func (c *Conn) Reattach() error {
	c.mu.Lock()
	if c.state.Load() != stateDetached {
		c.mu.Unlock()
		return net.ErrClosed
	}
	tc, ok := c.detached.(*net.TCPConn)
	if !ok {
		c.mu.Unlock()
		return fmt.Errorf("netloop: reattach: %T is not a TCP connection", c.detached)
	}
	if err := c.adopt(tc); err != nil {
		c.mu.Unlock()
		return err
	}
	c.detached = nil
	c.state.Store(stateNew)
	c.mu.Unlock()
	return c.Start()
}

// Close stops the loop once it has no connections left; connections still
// attached are closed.
func (l *Loop) Close() error {
	l.mu.Lock()
	if l.closed {
		l.mu.Unlock()
		<-l.done
		return nil
	}
	l.closed = true
	l.mu.Unlock()
	l.wake()
	<-l.done
	return nil
}

// Len returns the number of attached connections.
func (l *Loop) Len() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.conns)
}

func (l *Loop) wake() {
	l.kickMu.Lock()
	defer l.kickMu.Unlock()
	if l.kickClosed {
		return // the loop is gone; its number may be another file's
	}
	var one = [8]byte{1}
	// EAGAIN means the counter is already non-zero: the loop will wake.
	unix.Write(l.kick, one[:])
}

func (l *Loop) run() {
	defer close(l.done)
	defer l.shutdown()
	for {
		t0 := l.load.now()
		l.load.waiting.Store(int64(t0) + 1)
		n, err := l.wait()
		if err != nil {
			// The epoll descriptor failed: nothing can be served any more.
			return
		}
		t1 := l.load.now()
		l.load.waiting.Store(0)
		l.load.idle += t1 - t0
		for i := 0; i < n; i++ {
			fd := l.events[i].Fd
			if int(fd) == l.kick {
				var buf [8]byte
				unix.Read(l.kick, buf[:])
				if l.handlePoked() {
					return
				}
				continue
			}
			l.mu.Lock()
			c := l.conns[fd]
			l.mu.Unlock()
			// A connection on its way in from a sibling (see move) is
			// served once it is ours.
			if c != nil && c.loop.Load() == l {
				l.serve(c)
			}
		}
		l.afterBatch()
		if l.finished() {
			return
		}
		if t1-l.load.winStart >= loadWindow {
			l.endWindow(t1)
		}
	}
}

// wait returns the number of ready descriptors, parking the goroutine in
// the netpoller while there are none.
func (l *Loop) wait() (int, error) {
	l.waitN, l.waitE = 0, nil
	if err := l.raw.Read(l.waitFn); err != nil {
		return 0, err
	}
	return l.waitN, l.waitE
}

// waitReady is waitFn: one epoll_pwait that does not block.
func (l *Loop) waitReady(uintptr) bool {
	for {
		r, _, e := unix.RawSyscall6(unix.SYS_EPOLL_PWAIT, uintptr(l.epfd),
			uintptr(unsafe.Pointer(&l.events[0])), uintptr(len(l.events)), 0, 0, 0)
		if e == unix.EINTR {
			continue
		}
		if e != 0 {
			l.waitE = e
			return true
		}
		l.waitN = int(r)
		return l.waitN > 0
	}
}

// handlePoked serves the connections queued by Attach, Poke and read
// deadlines; it reports whether the loop is closed and empty.
func (l *Loop) handlePoked() bool {
	l.mu.Lock()
	poked := l.poked
	l.poked = nil
	for _, c := range poked {
		c.queued = false
	}
	l.mu.Unlock()
	for _, c := range poked {
		if !c.attached() {
			continue
		}
		if c.loop.Load() != l {
			// Moved to a sibling since it was queued (see move): the
			// poke is for the loop that serves it now.
			c.Poke()
			continue
		}
		l.serve(c)
	}
	l.mu.Lock()
	closed := l.closed
	var all []*Conn
	if closed {
		for _, c := range l.conns {
			all = append(all, c)
		}
	}
	l.mu.Unlock()
	for _, c := range all {
		// Attached, or closing by another goroutine's Close: either
		// way the handler sees the end and the descriptor goes. Only
		// the loop's goroutine detaches, so none of these is detached.
		c.mine.Close()
		l.serve(c)
	}
	return l.finished()
}

// finished reports whether the loop is closed and has no connections left.
func (l *Loop) finished() bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.closed && len(l.conns) == 0
}

// serve runs c's handler and releases c if the handler closed it.
func (l *Loop) serve(c *Conn) {
	if s := c.state.Load(); s != stateAttached && s != stateClosing {
		return // already released or detached: its handler is done
	}
	c.handler(c.mine)
	if c.state.Load() == stateClosing {
		l.remove(c)
		c.release()
	}
}

// afterCall is a call AfterBatch asked for.
type afterCall struct {
	c  *Conn
	fn func(*Conn)
}

// afterBatch makes the calls handlers asked for with AfterBatch, once every
// ready connection of the batch was served.
func (l *Loop) afterBatch() {
	for i, a := range l.after {
		l.after[i] = afterCall{}
		c := a.c
		if s := c.state.Load(); (s != stateAttached && s != stateClosing) || c.loop.Load() != l {
			continue // released or detached since it asked
		}
		a.fn(c.mine)
		if c.state.Load() == stateClosing {
			l.remove(c)
			c.release()
		}
	}
	l.after = l.after[:0]
}

func (l *Loop) remove(c *Conn) {
	unix.EpollCtl(l.epfd, unix.EPOLL_CTL_DEL, c.fd, nil)
	l.mu.Lock()
	delete(l.conns, int32(c.fd))
	l.mu.Unlock()
}

func (l *Loop) shutdown() {
	l.mu.Lock()
	l.closed = true
	conns := l.conns
	l.conns = map[int32]*Conn{}
	l.mu.Unlock()
	for _, c := range conns {
		// Let each handler see the end of its connection.
		c.mine.Close()
		if c.state.Load() == stateClosing {
			c.handler(c.mine)
		}
		c.release()
	}
	l.file.Close()
	l.kickMu.Lock()
	unix.Close(l.kick)
	l.kickClosed = true
	l.kickMu.Unlock()
}

// Connection states.
const (
	stateNew      = iota // adopted, not yet started
	stateAttached        // watched by the loop
	stateClosing         // Close was called; the loop releases the descriptor
	stateReleased        // the descriptor is closed
	stateDetached        // served by a goroutine through Conn.detached
)

// Conn is a connection served by a loop. Read, Write and Detach belong to
// the handler, on the loop's goroutine; Close, SetReadDeadline, Poke and the
// address methods may be called from any goroutine. Conn implements
// net.Conn so that protocol code can hold it where it holds any connection,
// for the connection's whole life: once detached, Read, Write, Close and
// the deadlines go to the detached connection (Read and Write then belong
// to the goroutine serving it), until Reattach.
type Conn struct {
	*conn
	// own marks the handle the handler gets: its Close is the handler's
	// own, taking effect when the handler returns; any other handle's
	// Close asks the handler to end the connection.
	own bool
}

type conn struct {
	// loop serves the connection; a busy loop may move it to another of
	// its group (see shed), so it is read with Load. It changes only while
	// Conn.mu and the old loop's mu are held and the connection is not in
	// a poke queue.
	loop    atomic.Pointer[Loop]
	fd      int
	local   net.Addr
	remote  net.Addr
	handler Handler

	// mu serialises the descriptor's end (release, Detach) with other
	// goroutines' Close and SetReadDeadline, so that those never touch a
	// descriptor number the process may have reused, and a move to
	// another loop with Poke.
	mu       sync.Mutex
	state    atomic.Int32
	detached net.Conn

	deadline atomic.Bool // a read deadline has passed
	closeReq atomic.Bool // Close through a handle other than the handler's
	mine     *Conn       // the handle given to the handler
	queued   bool        // in loop.poked; guarded by loop.mu
}

func (c *Conn) attached() bool { return c.state.Load() == stateAttached }

// Read reads what the socket holds into p with one read(2): ErrWouldBlock
// if nothing is waiting, io.EOF once the peer has closed. Detached, it is
// the detached connection's (blocking) Read.
func (c *Conn) Read(p []byte) (int, error) {
	if len(p) == 0 {
		return 0, nil
	}
	switch c.state.Load() {
	case stateAttached:
		if c.closeReq.Load() {
			return 0, net.ErrClosed
		}
	case stateDetached:
		return c.detached.Read(p)
	default:
		return 0, net.ErrClosed
	}
	for {
		r, _, e := unix.RawSyscall(unix.SYS_READ, uintptr(c.fd), uintptr(unsafe.Pointer(&p[0])), uintptr(len(p)))
		switch e {
		case 0:
			if r == 0 {
				return 0, io.EOF
			}
			return int(r), nil
		case unix.EINTR:
			continue
		case unix.EAGAIN:
			return 0, ErrWouldBlock
		default:
			return 0, &net.OpError{Op: "read", Net: "tcp", Source: c.local, Addr: c.remote, Err: os.NewSyscallError("read", e)}
		}
	}
}

// Write writes p with as few write(2) calls as the socket takes. If the
// send buffer fills, it returns how much was written and ErrWouldBlock; the
// handler then detaches the connection to write the rest from a goroutine.
func (c *Conn) Write(p []byte) (int, error) {
	switch c.state.Load() {
	case stateAttached:
	case stateDetached:
		return c.detached.Write(p)
	default:
		return 0, net.ErrClosed
	}
	n := 0
	for n < len(p) {
		r, _, e := unix.RawSyscall(unix.SYS_WRITE, uintptr(c.fd), uintptr(unsafe.Pointer(&p[n])), uintptr(len(p)-n))
		switch e {
		case 0:
			n += int(r)
		case unix.EINTR:
		case unix.EAGAIN:
			return n, ErrWouldBlock
		default:
			return n, &net.OpError{Op: "write", Net: "tcp", Source: c.local, Addr: c.remote, Err: os.NewSyscallError("write", e)}
		}
	}
	return n, nil
}

// Detach takes the connection out of the loop and returns it as an
// ordinary net.Conn for a goroutine to serve. Called by the handler; the
// handler is not called again.
func (c *Conn) Detach() (net.Conn, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.state.Load() != stateAttached || c.closeReq.Load() {
		return nil, net.ErrClosed
	}
	c.loop.Load().remove(c)
	f := os.NewFile(uintptr(c.fd), "netloop")
	nc, err := net.FileConn(f) // a duplicate, registered with the netpoller
	f.Close()
	if err != nil {
		c.state.Store(stateReleased)
		return nil, fmt.Errorf("netloop: detach: %w", err)
	}
	c.detached = nc
	c.state.Store(stateDetached)
	if c.deadline.Load() {
		nc.SetReadDeadline(time.Now())
	}
	return nc, nil
}

// Close closes the connection. Through the handle the handler is given it
// takes effect when the handler returns; through any other it shuts the
// socket down, so that the handler's next Read returns net.ErrClosed and the
// handler closes the connection itself.
func (c *Conn) Close() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	switch c.state.Load() {
	case stateDetached:
		return c.detached.Close()
	case stateNew:
		c.closeFD()
		return nil
	case stateAttached:
		// Wakes the loop if the handler is not running: the socket
		// becomes readable (end of file).
		unix.Shutdown(c.fd, unix.SHUT_RDWR)
		if c.own {
			c.state.Store(stateClosing)
		} else {
			c.closeReq.Store(true) // the handler reads the end and closes
		}
		return nil
	}
	return nil
}

// release closes the descriptor.
func (c *Conn) release() {
	c.mu.Lock()
	defer c.mu.Unlock()
	if s := c.state.Load(); s == stateReleased || s == stateDetached {
		return
	}
	c.closeFD()
}

// closeFD closes the descriptor; c.mu is held.
func (c *Conn) closeFD() {
	unix.Close(c.fd)
	c.state.Store(stateReleased)
}

// AfterBatch asks the loop to call fn with the handler's handle once it has
// served every connection that was ready with this one, before it waits
// for input again; called by the handler, on the loop's goroutine. fn runs
// as the handler does (it may Write, Close or Detach), once per request,
// and not at all if the connection is released or detached first; fn
// should be made once, since a func value made per call allocates.
//
// A handler that buffers its replies and writes them from fn sends the
// replies of one batch together, as Redis does (it answers the clients of
// one pass of its event loop after reading them all): a client serving many
// connections then finds many replies per wake-up instead of one.
func (c *Conn) AfterBatch(fn func(*Conn)) {
	l := c.loop.Load()
	l.after = append(l.after, afterCall{c, fn})
}

// Poke makes the loop call the handler soon, whether or not input arrived.
func (c *Conn) Poke() {
	// c.mu keeps c on its loop (see Loop.move) until it is queued there.
	c.mu.Lock()
	l := c.loop.Load()
	l.mu.Lock()
	if c.queued || l.closed {
		l.mu.Unlock()
		c.mu.Unlock()
		return
	}
	c.queued = true
	l.poked = append(l.poked, c)
	l.mu.Unlock()
	c.mu.Unlock()
	l.wake()
}

// SetReadDeadline supports what draining on shutdown needs: a deadline
// that has passed (the handler sees DeadlinePassed and is poked) or none.
// Other deadlines return errors.ErrUnsupported.
func (c *Conn) SetReadDeadline(t time.Time) error {
	passed := !t.IsZero() && !t.After(time.Now())
	if !t.IsZero() && !passed && c.state.Load() != stateDetached {
		return errors.ErrUnsupported
	}
	c.mu.Lock()
	// Stored under c.mu so that a concurrent Detach either sees it (and
	// passes it on) or has happened (and the deadline is forwarded).
	c.deadline.Store(passed) // remembered across Detach and Reattach
	if c.state.Load() == stateDetached {
		nc := c.detached
		c.mu.Unlock()
		return nc.SetReadDeadline(t)
	}
	c.mu.Unlock()
	if passed {
		c.Poke()
	}
	return nil
}

// DeadlinePassed reports whether a past read deadline was set: the handler
// should answer what it holds and close.
func (c *Conn) DeadlinePassed() bool { return c.deadline.Load() }

// SetDeadline sets the read and write deadlines.
func (c *Conn) SetDeadline(t time.Time) error {
	if err := c.SetWriteDeadline(t); err != nil {
		return err
	}
	return c.SetReadDeadline(t)
}

// SetWriteDeadline is forwarded once detached; attached, it is accepted
// and has no effect, since a handler never waits to write.
func (c *Conn) SetWriteDeadline(t time.Time) error {
	c.mu.Lock()
	if c.state.Load() == stateDetached {
		nc := c.detached
		c.mu.Unlock()
		return nc.SetWriteDeadline(t)
	}
	c.mu.Unlock()
	return nil
}

// LocalAddr returns the local address.
func (c *Conn) LocalAddr() net.Addr { return c.local }

// RemoteAddr returns the peer's address.
func (c *Conn) RemoteAddr() net.Addr { return c.remote }
