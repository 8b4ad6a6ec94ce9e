//go:build linux

package netloop

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"os"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// Conn is used where protocol code holds any connection.
var _ net.Conn = (*Conn)(nil)

// timeout bounds every wait in these tests.
const timeout = 5 * time.Second

// newLoop creates a loop that is closed (with a bounded wait) when the test
// ends.
func newLoop(t testing.TB) *Loop {
	t.Helper()
	l, err := New()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { closeLoop(t, l) })
	return l
}

// closeLoop closes l and fails the test if Close does not return in time.
// A hung loop is then woken, so that it does not outlive the test.
func closeLoop(t testing.TB, l *Loop) {
	t.Helper()
	done := make(chan struct{})
	go func() {
		l.Close()
		close(done)
	}()
	select {
	case <-done:
		return
	case <-time.After(timeout):
	}
	t.Errorf("Loop.Close did not return within %v (Len %d)", timeout, l.Len())
	l.wake()
	select {
	case <-done:
	case <-time.After(timeout):
		t.Errorf("Loop.Close did not return even after a wake-up")
	}
}

// listen returns a loopback listener on a random port, closed when the test
// ends.
func listen(t testing.TB) net.Listener {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	return ln
}

// pair dials ln with d (a plain dialer if nil) and returns both ends. The
// client end has a deadline and is closed when the test ends.
func pair(t testing.TB, ln net.Listener, d *net.Dialer) (client, server *net.TCPConn) {
	t.Helper()
	if d == nil {
		d = &net.Dialer{}
	}
	accepted := make(chan net.Conn, 1)
	go func() {
		nc, err := ln.Accept()
		if err != nil {
			nc = nil
		}
		accepted <- nc
	}()
	cc, err := d.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cc.Close() })
	cc.SetDeadline(time.Now().Add(2 * timeout))
	sc := recv(t, accepted, "accept")
	if sc == nil {
		t.Fatal("accept failed")
	}
	return cc.(*net.TCPConn), sc.(*net.TCPConn)
}

// attach connects a client to ln and attaches the server end to l.
func attach(t testing.TB, l *Loop, ln net.Listener, h Handler) (*net.TCPConn, *Conn) {
	t.Helper()
	client, server := pair(t, ln, nil)
	c, err := l.Attach(server, h)
	if err != nil {
		t.Fatal(err)
	}
	return client, c
}

// recv receives from ch, failing the test after timeout.
func recv[T any](t testing.TB, ch <-chan T, what string) T {
	t.Helper()
	select {
	case v := <-ch:
		return v
	case <-time.After(timeout):
		t.Fatalf("timed out waiting for %s", what)
		panic("unreachable")
	}
}

// noRecv fails the test if ch holds a value (nothing may have been sent).
func noRecv[T any](t testing.TB, ch <-chan T, what string) {
	t.Helper()
	select {
	case v := <-ch:
		t.Fatalf("unexpected %s: %+v", what, v)
	default:
	}
}

// eventually polls cond until it holds, failing the test after timeout.
func eventually(t testing.TB, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(time.Millisecond)
	}
}

// goWrite runs write on a goroutine; its error fails the test when the
// test ends.
func goWrite(t testing.TB, write func() error) {
	errc := make(chan error, 1)
	go func() { errc <- write() }()
	t.Cleanup(func() {
		select {
		case err := <-errc:
			if err != nil {
				t.Errorf("client write: %v", err)
			}
		case <-time.After(timeout):
			t.Errorf("client write still blocked after %v", timeout)
		}
	})
}

// expectEOF reads from client and fails unless the server closed it cleanly.
func expectEOF(t testing.TB, client net.Conn) {
	t.Helper()
	var b [64]byte
	n, err := client.Read(b[:])
	if n != 0 || err != io.EOF {
		t.Fatalf("client read = %d %q, %v; want end of file", n, b[:n], err)
	}
}

// call is what one handler call saw.
type call struct {
	data     []byte // what it read
	err      error  // the Read error that ended it: ErrWouldBlock when idle
	deadline bool   // DeadlinePassed
}

// recorder is a handler that reads all waiting input, closes the connection
// on a Read error, and reports each call on calls.
type recorder struct {
	calls chan call
	buf   [4096]byte
}

func newRecorder() *recorder { return &recorder{calls: make(chan call, 1024)} }

func (r *recorder) handle(c *Conn) {
	var got call
	for {
		n, err := c.Read(r.buf[:])
		got.data = append(got.data, r.buf[:n]...)
		if err != nil {
			if err != ErrWouldBlock {
				c.Close()
			}
			got.err = err
			break
		}
	}
	got.deadline = c.DeadlinePassed()
	r.calls <- got
}

// next returns the next call, failing the test after timeout.
func (r *recorder) next(t testing.TB) call {
	t.Helper()
	return recv(t, r.calls, "a handler call")
}

// echoHandler echoes what it reads; its state is one connection's.
type echoHandler struct {
	t   testing.TB
	in  [16 << 10]byte
	out []byte // read and not yet written back
}

func (e *echoHandler) handle(c *Conn) {
	for {
		n, err := c.Read(e.in[:])
		e.out = append(e.out, e.in[:n]...)
		if err == ErrWouldBlock {
			break
		}
		if err != nil {
			c.Close()
			return
		}
	}
	if len(e.out) == 0 {
		return
	}
	n, err := c.Write(e.out)
	if err != nil {
		// A request/response client never leaves enough unread to fill
		// the socket buffers.
		e.t.Errorf("echo write: %d of %d bytes, %v", n, len(e.out), err)
		c.Close()
		return
	}
	e.out = e.out[:0]
}

// TestEcho proves that two loops serve 50 concurrent connections, attached
// round robin, echoing 200 messages of 1 B to 8 KiB on each exactly.
func TestEcho(t *testing.T) {
	const (
		clients  = 50
		messages = 200
		maxSize  = 8 << 10
	)
	loops := []*Loop{newLoop(t), newLoop(t)}
	ln := listen(t)

	conns := make([]*net.TCPConn, clients)
	for i := range conns {
		h := &echoHandler{t: t}
		conns[i], _ = attach(t, loops[i%len(loops)], ln, h.handle)
	}
	for i, l := range loops {
		if n := l.Len(); n != clients/len(loops) {
			t.Fatalf("loop %d has %d connections; want %d", i, n, clients/len(loops))
		}
	}

	var wg sync.WaitGroup
	for i, cc := range conns {
		wg.Go(func() {
			rng := rand.New(rand.NewPCG(uint64(i), 42))
			src := rand.NewChaCha8([32]byte{byte(i)})
			msg := make([]byte, maxSize)
			got := make([]byte, maxSize)
			for m := range messages {
				size := 1 + rng.IntN(maxSize)
				src.Read(msg[:size])
				if _, err := cc.Write(msg[:size]); err != nil {
					t.Errorf("client %d message %d: write: %v", i, m, err)
					return
				}
				if _, err := io.ReadFull(cc, got[:size]); err != nil {
					t.Errorf("client %d message %d: read: %v", i, m, err)
					return
				}
				if !bytes.Equal(got[:size], msg[:size]) {
					t.Errorf("client %d message %d: echo of %d bytes differs", i, m, size)
					return
				}
			}
			cc.Close()
		})
	}
	wg.Wait()
	for i, l := range loops {
		eventually(t, fmt.Sprintf("loop %d to drop its connections", i), func() bool { return l.Len() == 0 })
	}
}

// TestHandlerCalledOnAttach proves that the handler is called once right
// after Attach without any new input, so that bytes a protocol server read
// before Attach are answered; and that it is not called again while idle.
func TestHandlerCalledOnAttach(t *testing.T) {
	tests := []struct {
		name    string
		preRead string // what the server reads with the net.Conn before Attach
	}{
		{"no input", ""},
		{"input read before attach", "PING\r\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			l := newLoop(t)
			ln := listen(t)
			client, server := pair(t, ln, nil)
			var pending []byte // read before Attach; answered by the first call
			if tt.preRead != "" {
				if _, err := client.Write([]byte(tt.preRead)); err != nil {
					t.Fatal(err)
				}
				pending = make([]byte, len(tt.preRead))
				if _, err := io.ReadFull(server, pending); err != nil {
					t.Fatal(err)
				}
			}
			calls := make(chan call, 16)
			var buf [64]byte
			c, err := l.Attach(server, func(c *Conn) {
				n, err := c.Read(buf[:])
				if err != nil && err != ErrWouldBlock {
					c.Close()
				}
				if len(pending) > 0 {
					if _, err := c.Write(pending); err != nil {
						t.Errorf("answer: %v", err)
					}
					pending = nil
				}
				calls <- call{data: bytes.Clone(buf[:n]), err: err}
			})
			if err != nil {
				t.Fatal(err)
			}
			var mine [1]byte
			server.SetReadDeadline(time.Now().Add(100 * time.Millisecond)) // if still open
			if _, err := server.Read(mine[:]); !errors.Is(err, net.ErrClosed) {
				t.Errorf("the attached TCPConn reads %v; want net.ErrClosed", err)
			}
			if got, want := c.LocalAddr().String(), client.RemoteAddr().String(); got != want {
				t.Errorf("LocalAddr = %s; want %s", got, want)
			}
			if got, want := c.RemoteAddr().String(), client.LocalAddr().String(); got != want {
				t.Errorf("RemoteAddr = %s; want %s", got, want)
			}

			first := recv(t, calls, "the call after Attach")
			if first.err != ErrWouldBlock || len(first.data) != 0 {
				t.Fatalf("first call read %q, %v; want nothing, ErrWouldBlock", first.data, first.err)
			}
			if tt.preRead != "" {
				answer := make([]byte, len(tt.preRead))
				if _, err := io.ReadFull(client, answer); err != nil || string(answer) != tt.preRead {
					t.Fatalf("answer to the bytes read before Attach = %q, %v", answer, err)
				}
			}
			// The next call is for the next input: there was none between.
			if _, err := client.Write([]byte("x")); err != nil {
				t.Fatal(err)
			}
			second := recv(t, calls, "the call for new input")
			if string(second.data) != "x" {
				t.Fatalf("second call read %q, %v; want \"x\"", second.data, second.err)
			}
			noRecv(t, calls, "handler call")
		})
	}
}

// TestPeerCloses proves that when the client leaves, the handler reads what
// it sent and then an error (io.EOF after a clean close), and that its Close
// takes the connection out of the loop.
func TestPeerCloses(t *testing.T) {
	tests := []struct {
		name  string
		send  string
		reset bool // abort with RST instead of FIN
	}{
		{"close", "", false},
		{"data then close", "last words", false},
		{"reset", "", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			l := newLoop(t)
			ln := listen(t)
			r := newRecorder()
			client, _ := attach(t, l, ln, r.handle)
			if c := r.next(t); c.err != ErrWouldBlock {
				t.Fatalf("first call: %v", c.err)
			}
			if tt.send != "" {
				if _, err := client.Write([]byte(tt.send)); err != nil {
					t.Fatal(err)
				}
			}
			if tt.reset {
				client.SetLinger(0)
			} else {
				client.CloseWrite()
			}
			client.Close()

			var got []byte
			var last call
			for last.err == nil || last.err == ErrWouldBlock {
				last = r.next(t)
				got = append(got, last.data...)
			}
			if string(got) != tt.send {
				t.Errorf("handler read %q; want %q", got, tt.send)
			}
			if tt.reset {
				if !errors.Is(last.err, syscall.ECONNRESET) {
					t.Errorf("Read error %v; want ECONNRESET", last.err)
				}
			} else if last.err != io.EOF {
				t.Errorf("Read error %v; want io.EOF", last.err)
			}
			eventually(t, "Len to drop to 0", func() bool { return l.Len() == 0 })
		})
	}
}

// TestCloseFromAnotherGoroutine proves that closing an idle connection from
// another goroutine calls its handler, whose Read fails, and that the client
// sees the end of the stream and the loop lets the connection go.
func TestCloseFromAnotherGoroutine(t *testing.T) {
	l := newLoop(t)
	ln := listen(t)
	r := newRecorder()
	client, c := attach(t, l, ln, r.handle)
	if got := r.next(t); got.err != ErrWouldBlock {
		t.Fatalf("first call: %v", got.err)
	}
	// The handler call is over: idle (TestCloseDuringHandler covers the
	// other case).
	newBarrier(t, l, ln).wait(t)
	if l.Len() != 2 {
		t.Fatalf("Len = %d; want 2", l.Len())
	}
	if err := c.Close(); err != nil {
		t.Fatal(err)
	}
	got := r.next(t)
	if !errors.Is(got.err, net.ErrClosed) && got.err != io.EOF {
		t.Fatalf("Read after Close = %v; want net.ErrClosed or io.EOF", got.err)
	}
	expectEOF(t, client)
	eventually(t, "Len to drop to 1", func() bool { return l.Len() == 1 })
	if err := c.Close(); err != nil {
		t.Errorf("second Close = %v", err)
	}
	if _, err := c.Detach(); !errors.Is(err, net.ErrClosed) {
		t.Errorf("Detach after Close = %v; want net.ErrClosed", err)
	}
	noRecv(t, r.calls, "handler call after the connection ended")
}

// TestCloseDuringHandler proves that a Close from another goroutine that
// lands while the handler runs, after its last Read, still gets the handler
// called to see the end. The handler's contract is to learn of the end from
// Read and call Close; if the loop releases the connection without calling
// it, whatever the handler keeps for the connection (a protocol server's
// goroutine waiting for the connection back) is never told.
func TestCloseDuringHandler(t *testing.T) {
	l := newLoop(t)
	ln := listen(t)
	var hold atomic.Bool
	entered := make(chan struct{}, 1)
	release := make(chan struct{})
	resume := sync.OnceFunc(func() { close(release) })
	defer resume()
	r := newRecorder()
	client, c := attach(t, l, ln, func(c *Conn) {
		held := hold.CompareAndSwap(true, false)
		r.handle(c)
		if held {
			// The handler is done reading; another goroutine's Close
			// lands before it returns.
			entered <- struct{}{}
			<-release
		}
	})
	r.next(t)
	hold.Store(true)
	c.Poke()
	recv(t, entered, "the handler to finish reading")
	if got := r.next(t); got.err != ErrWouldBlock {
		t.Fatalf("the call before Close read %v", got.err)
	}
	if err := c.Close(); err != nil {
		t.Fatal(err)
	}
	resume()

	select {
	case got := <-r.calls:
		if !errors.Is(got.err, net.ErrClosed) && got.err != io.EOF {
			t.Errorf("Read after Close = %v; want net.ErrClosed or io.EOF", got.err)
		}
	case <-time.After(2 * time.Second):
		t.Errorf("the handler was not called after another goroutine's Close (Len %d)", l.Len())
	}
	expectEOF(t, client)
	eventually(t, "Len to drop to 0", func() bool { return l.Len() == 0 })
}

// barrier is an idle connection on a loop; waiting for a call of its
// handler after poking it proves that the loop finished whatever it was
// doing before the poke.
type barrier struct {
	c *Conn
	r *recorder
}

func newBarrier(t testing.TB, l *Loop, ln net.Listener) *barrier {
	t.Helper()
	b := &barrier{r: newRecorder()}
	_, b.c = attach(t, l, ln, b.r.handle)
	b.r.next(t)
	return b
}

// wait returns once the loop has served everything queued before it.
func (b *barrier) wait(t testing.TB) {
	t.Helper()
	b.c.Poke()
	b.r.next(t)
}

// detached is what a handler hands to the goroutine that serves a detached
// connection.
type detached struct {
	nc   net.Conn
	rest []byte // read in the loop and not yet answered
	err  error
}

// lineDetacher echoes lines until the line "DETACH", then detaches and
// passes the connection with the bytes it has not consumed to a goroutine.
type lineDetacher struct {
	in   [4096]byte
	buf  []byte
	done chan<- detached
}

func (d *lineDetacher) handle(c *Conn) {
	for {
		n, err := c.Read(d.in[:])
		d.buf = append(d.buf, d.in[:n]...)
		if err == ErrWouldBlock {
			break
		}
		if err != nil {
			c.Close()
			return
		}
	}
	for {
		i := bytes.IndexByte(d.buf, '\n')
		if i < 0 {
			return
		}
		line := d.buf[:i+1]
		d.buf = d.buf[i+1:]
		if string(line) == "DETACH\n" {
			nc, err := c.Detach()
			d.done <- detached{nc: nc, rest: d.buf, err: err}
			d.buf = nil
			return
		}
		if _, err := c.Write(line); err != nil {
			c.Close()
			return
		}
	}
}

// echoDetached echoes on a detached connection with blocking reads, starting
// with rest. It reports each Read error on errs; after a deadline it waits
// on resume to go on.
func echoDetached(nc net.Conn, rest []byte, errs chan<- error, resume <-chan struct{}) {
	if _, err := nc.Write(rest); err != nil {
		errs <- err
		return
	}
	buf := make([]byte, 32<<10)
	for {
		n, err := nc.Read(buf)
		if n > 0 {
			if _, werr := nc.Write(buf[:n]); werr != nil {
				errs <- werr
				return
			}
		}
		if err != nil {
			errs <- err
			if errors.Is(err, os.ErrDeadlineExceeded) {
				if _, ok := <-resume; ok {
					continue
				}
			}
			return
		}
	}
}

// TestDetach proves that a handler can detach its connection and hand it,
// with the input it read and did not consume, to a goroutine: no byte sent
// after DETACH is lost or reordered. Close and SetReadDeadline on the
// netloop Conn then act on the detached connection.
func TestDetach(t *testing.T) {
	big := make([]byte, 256<<10)
	rand.NewChaCha8([32]byte{7}).Read(big)
	tests := []struct {
		name   string
		writes []string // client writes, in order
		want   string   // the echo
	}{
		{"rest in the same write", []string{"one\ntwo\nDETACH\nthree\nfo", "ur\n"}, "one\ntwo\nthree\nfour\n"},
		{"nothing after detach", []string{"one\nDETACH\n", "two\n"}, "one\ntwo\n"},
		{"split writes", []string{"on", "e\nDET", "ACH\nxyz", "\n"}, "one\nxyz\n"},
		{"large rest", []string{"a\nDETACH\n" + string(big)}, "a\n" + string(big)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			l := newLoop(t)
			ln := listen(t)
			done := make(chan detached, 1)
			h := &lineDetacher{done: done}
			client, c := attach(t, l, ln, h.handle)

			goWrite(t, func() error {
				for _, w := range tt.writes {
					if _, err := client.Write([]byte(w)); err != nil {
						return err
					}
				}
				return nil
			})
			d := recv(t, done, "Detach")
			if d.err != nil {
				t.Fatalf("Detach: %v", d.err)
			}
			t.Cleanup(func() { d.nc.Close() })
			if n := l.Len(); n != 0 {
				t.Errorf("Len after Detach = %d; want 0", n)
			}
			errs := make(chan error, 4)
			resume := make(chan struct{})
			defer close(resume)
			go echoDetached(d.nc, d.rest, errs, resume)

			got := make([]byte, len(tt.want))
			if _, err := io.ReadFull(client, got); err != nil {
				t.Fatalf("read echo: %v (got %q)", err, got)
			}
			if string(got) != tt.want {
				t.Fatalf("echo differs:\n got %.80q\nwant %.80q", got, tt.want)
			}

			// A past read deadline reaches the blocked detached reader.
			if err := c.SetReadDeadline(time.Now()); err != nil {
				t.Fatal(err)
			}
			if err := recv(t, errs, "the deadline"); !errors.Is(err, os.ErrDeadlineExceeded) {
				t.Fatalf("detached Read after SetReadDeadline(now) = %v", err)
			}
			// Deadlines a loop does not support are the detached
			// connection's to handle.
			if err := c.SetReadDeadline(time.Now().Add(time.Hour)); err != nil {
				t.Errorf("SetReadDeadline(future) after Detach = %v; want nil", err)
			}
			if err := c.SetReadDeadline(time.Time{}); err != nil {
				t.Fatal(err)
			}
			resume <- struct{}{}
			if _, err := client.Write([]byte("again\n")); err != nil {
				t.Fatal(err)
			}
			again := make([]byte, len("again\n"))
			if _, err := io.ReadFull(client, again); err != nil || string(again) != "again\n" {
				t.Fatalf("echo after clearing the deadline = %q, %v", again, err)
			}

			// Close closes the detached connection.
			if err := c.Close(); err != nil {
				t.Fatal(err)
			}
			if err := recv(t, errs, "the close"); !errors.Is(err, net.ErrClosed) {
				t.Fatalf("detached Read after Close = %v; want net.ErrClosed", err)
			}
			expectEOF(t, client)
		})
	}
}

// TestReadDeadline proves that a past read deadline set from another
// goroutine pokes an idle connection's handler, which sees DeadlinePassed;
// that the zero time clears it; that other deadlines are unsupported; and
// that a connection detached after its deadline passed keeps it.
func TestReadDeadline(t *testing.T) {
	t.Run("poke and clear", func(t *testing.T) {
		l := newLoop(t)
		ln := listen(t)
		r := newRecorder()
		_, c := attach(t, l, ln, r.handle)
		if got := r.next(t); got.deadline {
			t.Fatal("DeadlinePassed before any deadline")
		}
		set := make(chan error)
		go func() { set <- c.SetReadDeadline(time.Now()) }()
		if err := recv(t, set, "SetReadDeadline"); err != nil {
			t.Fatal(err)
		}
		if got := r.next(t); !got.deadline || got.err != ErrWouldBlock {
			t.Fatalf("call after SetReadDeadline(now): DeadlinePassed %v, Read %v; want true, ErrWouldBlock", got.deadline, got.err)
		}
		if err := c.SetReadDeadline(time.Time{}); err != nil {
			t.Fatal(err)
		}
		if c.DeadlinePassed() {
			t.Fatal("DeadlinePassed after SetReadDeadline(zero)")
		}
		c.Poke()
		if got := r.next(t); got.deadline {
			t.Fatal("handler sees DeadlinePassed after it was cleared")
		}
	})

	t.Run("setters", func(t *testing.T) {
		l := newLoop(t)
		ln := listen(t)
		r := newRecorder()
		_, c := attach(t, l, ln, r.handle)
		r.next(t)
		tests := []struct {
			name string
			set  func(time.Time) error
			t    time.Time
			want error
		}{
			{"read zero", c.SetReadDeadline, time.Time{}, nil},
			{"read past", c.SetReadDeadline, time.Now().Add(-time.Minute), nil},
			{"read future", c.SetReadDeadline, time.Now().Add(time.Hour), errors.ErrUnsupported},
			{"both future", c.SetDeadline, time.Now().Add(time.Hour), errors.ErrUnsupported},
			{"both zero", c.SetDeadline, time.Time{}, nil},
			{"write zero", c.SetWriteDeadline, time.Time{}, nil},
			// A handler never waits to write: write deadlines are moot.
			{"write future", c.SetWriteDeadline, time.Now().Add(time.Hour), nil},
			{"write past", c.SetWriteDeadline, time.Now().Add(-time.Minute), nil},
			{"both past", c.SetDeadline, time.Now().Add(-time.Minute), nil},
		}
		for _, tt := range tests {
			if err := tt.set(tt.t); !errors.Is(err, tt.want) {
				t.Errorf("%s: %v; want %v", tt.name, err, tt.want)
			}
		}
	})

	t.Run("detach keeps a passed deadline", func(t *testing.T) {
		l := newLoop(t)
		ln := listen(t)
		done := make(chan detached, 1)
		var calls atomic.Int32
		_, c := attach(t, l, ln, func(c *Conn) {
			calls.Add(1)
			if !c.DeadlinePassed() {
				return
			}
			nc, err := c.Detach()
			done <- detached{nc: nc, err: err}
		})
		eventually(t, "the call after Attach", func() bool { return calls.Load() == 1 })
		if err := c.SetReadDeadline(time.Now()); err != nil {
			t.Fatal(err)
		}
		d := recv(t, done, "Detach")
		if d.err != nil {
			t.Fatal(d.err)
		}
		read := make(chan error, 1)
		go func() {
			var b [1]byte
			_, err := d.nc.Read(b[:])
			read <- err
		}()
		select {
		case err := <-read:
			if !errors.Is(err, os.ErrDeadlineExceeded) {
				t.Errorf("detached Read = %v; want os.ErrDeadlineExceeded", err)
			}
		case <-time.After(timeout):
			t.Errorf("detached Read still blocked after %v: the deadline was lost", timeout)
		}
		d.nc.Close()
	})
}

// TestWriteWouldBlock proves that writing to a client that does not read
// ends with ErrWouldBlock and a count short of the buffer, that the count is
// exact (a detached goroutine writes the rest and the client gets the whole
// stream in order), and that Write does not block.
func TestWriteWouldBlock(t *testing.T) {
	const (
		chunkSize = 1<<20 + 7 // not a power of two, to catch misaligned resumes
		maxChunks = 64
	)
	chunk := make([]byte, chunkSize)
	rand.NewChaCha8([32]byte{9}).Read(chunk)

	l := newLoop(t)
	ln := listen(t)
	small := &net.Dialer{Control: func(_, _ string, rc syscall.RawConn) error {
		var serr error
		err := rc.Control(func(fd uintptr) {
			serr = unix.SetsockoptInt(int(fd), unix.SOL_SOCKET, unix.SO_RCVBUF, 4096)
		})
		return errors.Join(err, serr)
	}}
	client, server := pair(t, ln, small)
	if err := server.SetWriteBuffer(16 << 10); err != nil {
		t.Fatal(err)
	}

	type result struct {
		chunks int // whole chunks written
		n      int // bytes of the next chunk written
		err    error
		took   time.Duration
	}
	results := make(chan result, 1)
	var once sync.Once
	_, err := l.Attach(server, func(c *Conn) {
		once.Do(func() {
			start := time.Now()
			var res result
			for res.chunks < maxChunks {
				res.n, res.err = c.Write(chunk)
				if res.err != nil {
					break
				}
				res.chunks++
			}
			res.took = time.Since(start)
			if res.err != ErrWouldBlock {
				results <- res
				c.Close()
				return
			}
			nc, err := c.Detach()
			if err != nil {
				res.err = err
				results <- res
				return
			}
			results <- res
			// Finish the chunk from a goroutine, as a server does.
			go func() {
				nc.Write(chunk[res.n:])
				nc.Close()
			}()
		})
	})
	if err != nil {
		t.Fatal(err)
	}
	res := recv(t, results, "the writes")
	if res.err != ErrWouldBlock {
		t.Fatalf("Write after %d chunks: %d, %v; want ErrWouldBlock", res.chunks, res.n, res.err)
	}
	if res.n >= chunkSize {
		t.Fatalf("Write returned ErrWouldBlock with n = %d = len(p)", res.n)
	}
	if res.took > timeout {
		t.Errorf("the writes took %v", res.took)
	}
	t.Logf("ErrWouldBlock after %d bytes", res.chunks*chunkSize+res.n)

	want := (res.chunks + 1) * chunkSize
	buf := make([]byte, 256<<10)
	off := 0
	for {
		n, err := client.Read(buf)
		for i := 0; i < n; {
			pos := (off + i) % chunkSize
			m := min(n-i, chunkSize-pos)
			if !bytes.Equal(buf[i:i+m], chunk[pos:pos+m]) {
				t.Fatalf("stream differs in bytes %d to %d", off+i, off+i+m)
			}
			i += m
		}
		off += n
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatalf("client read after %d bytes: %v", off, err)
		}
	}
	if off != want {
		t.Fatalf("client read %d bytes; want %d", off, want)
	}
}

// TestLoopClose proves that closing a loop ends every attached connection
// (each handler's Read fails and the client sees the end of the stream),
// that Close returns, that Close is idempotent, and that Attach then fails
// with ErrClosed and closes what it was given.
func TestLoopClose(t *testing.T) {
	const conns = 8
	l := newLoop(t)
	ln := listen(t)
	clients := make([]*net.TCPConn, conns)
	recorders := make([]*recorder, conns)
	for i := range conns {
		recorders[i] = newRecorder()
		clients[i], _ = attach(t, l, ln, recorders[i].handle)
		if got := recorders[i].next(t); got.err != ErrWouldBlock {
			t.Fatalf("conn %d: first call: %v", i, got.err)
		}
	}
	closeLoop(t, l)
	for i, r := range recorders {
		got := r.next(t)
		if got.err == nil || got.err == ErrWouldBlock {
			t.Errorf("conn %d: handler's Read = %v; want an error", i, got.err)
		}
		expectEOF(t, clients[i])
	}
	if n := l.Len(); n != 0 {
		t.Errorf("Len after Close = %d", n)
	}
	closeLoop(t, l)

	client, server := pair(t, ln, nil)
	called := make(chan struct{}, 1)
	if _, err := l.Attach(server, func(*Conn) { called <- struct{}{} }); !errors.Is(err, ErrClosed) {
		t.Fatalf("Attach after Close = %v; want ErrClosed", err)
	}
	expectEOF(t, client)
	noRecv(t, called, "handler call")
}

// holder is a connection whose handler can hold the loop's goroutine, so
// that a test can queue events for the loop's next round in a known order.
type holder struct {
	c       *Conn
	hold    atomic.Bool
	entered chan struct{}
	resume  func() // lets the loop go on
	r       *recorder
}

func newHolder(t testing.TB, l *Loop, ln net.Listener) *holder {
	t.Helper()
	release := make(chan struct{})
	h := &holder{entered: make(chan struct{}, 1), resume: sync.OnceFunc(func() { close(release) }), r: newRecorder()}
	t.Cleanup(h.resume)
	_, h.c = attach(t, l, ln, func(c *Conn) {
		if h.hold.CompareAndSwap(true, false) {
			h.entered <- struct{}{}
			<-release
		}
		h.r.handle(c)
	})
	h.r.next(t)
	return h
}

// stop returns once the loop's goroutine waits in h's handler.
func (h *holder) stop(t testing.TB) {
	t.Helper()
	h.hold.Store(true)
	h.c.Poke()
	recv(t, h.entered, "the loop to hold in a handler")
}

// closeAsync calls l.Close from a goroutine; the channel is closed when it
// returns.
func closeAsync(l *Loop) <-chan struct{} {
	closed := make(chan struct{})
	go func() {
		l.Close()
		close(closed)
	}()
	return closed
}

// TestLoopCloseWhileConnClosing proves that Loop.Close returns when a
// connection closed from another goroutine is still waiting for the loop to
// see its end at the moment the loop handles the close: the loop must not
// wait for a wake-up nobody sends.
//
// The order is forced by holding the loop in a handler: Loop.Close's wake-up
// is queued first, then the other connection's end of file, so the loop
// handles the close while that connection is closing but not yet released.
func TestLoopCloseWhileConnClosing(t *testing.T) {
	l, err := New()
	if err != nil {
		t.Fatal(err)
	}
	ln := listen(t)
	h := newHolder(t, l, ln)
	rb := newRecorder()
	_, b := attach(t, l, ln, rb.handle)
	rb.next(t)

	h.stop(t)
	closed := closeAsync(l)
	eventually(t, "Loop.Close to wake the loop", func() bool { return kickCount(t, l) > 0 })
	b.Close()
	h.resume()

	select {
	case <-closed:
	case <-time.After(2 * time.Second):
		t.Errorf("Loop.Close hangs: Len %d; b's handler saw %v", l.Len(), drainErr(rb))
		l.wake() // let the loop notice it is empty
		recv(t, closed, "Loop.Close after an extra wake-up")
	}
}

// TestLoopCloseRacingDetach proves that Loop.Close never closes a
// connection its handler detached: when the handler detaches in the round
// of the loop that handles the close, either the detach wins and the
// detached connection stays its goroutine's, usable after Loop.Close, or
// the close wins and Detach reports net.ErrClosed.
//
// The loop is held in a handler while the connection is poked (its handler
// will detach) and then Loop.Close is called, so that the loop's next round
// handles the poke and the close together.
func TestLoopCloseRacingDetach(t *testing.T) {
	l, err := New()
	if err != nil {
		t.Fatal(err)
	}
	ln := listen(t)
	h := newHolder(t, l, ln)
	var detachNow atomic.Bool
	done := make(chan detached, 1)
	r := newRecorder()
	client, c := attach(t, l, ln, func(c *Conn) {
		if detachNow.Load() {
			nc, err := c.Detach()
			if err != nil {
				c.Close()
			}
			done <- detached{nc: nc, err: err}
			return
		}
		r.handle(c)
	})
	r.next(t)

	h.stop(t)
	detachNow.Store(true)
	c.Poke()
	closed := closeAsync(l)
	eventually(t, "Loop.Close to begin", func() bool {
		l.mu.Lock()
		defer l.mu.Unlock()
		return l.closed
	})
	h.resume()
	d := recv(t, done, "the handler's Detach")
	recv(t, closed, "Loop.Close")
	if d.err != nil {
		if !errors.Is(d.err, net.ErrClosed) {
			t.Fatalf("Detach = %v; want success or net.ErrClosed", d.err)
		}
		t.Logf("the close won: %v", d.err)
		expectEOF(t, client)
		return
	}
	defer d.nc.Close()
	if _, err := d.nc.Write([]byte("still here")); err != nil {
		t.Fatalf("write on the detached connection after Loop.Close: %v", err)
	}
	got := make([]byte, len("still here"))
	if _, err := io.ReadFull(client, got); err != nil || string(got) != "still here" {
		t.Fatalf("client read %q, %v", got, err)
	}
}

// TestWakeAfterLoopExit proves that Loop.Close's wake-up cannot write to
// the loop's eventfd after the loop has closed it: by then its number may
// belong to another file, socket or eventfd of the process, which would get
// eight stray bytes.
//
// Loop.Close marks the loop closed, unlocks, then writes the eventfd. The
// loop exits as soon as it is closed and empty after a round, without
// waiting for that write, so the test plays the interleaving Close permits:
// the first half of Close, the loop's last round and exit, a new eventfd
// taking the freed number, then Close's write.
func TestWakeAfterLoopExit(t *testing.T) {
	l, err := New()
	if err != nil {
		t.Fatal(err)
	}
	ln := listen(t)
	r := newRecorder()
	client, _ := attach(t, l, ln, r.handle)
	r.next(t)

	l.mu.Lock() // Loop.Close, up to its unlock
	l.closed = true
	l.mu.Unlock()
	client.Close() // the last connection ends; the loop exits
	recv(t, l.done, "the loop to exit")

	victim := -1
	for range 16 {
		fd, err := unix.Eventfd(0, unix.EFD_NONBLOCK|unix.EFD_CLOEXEC)
		if err != nil {
			t.Fatal(err)
		}
		defer unix.Close(fd)
		if fd == l.kick {
			victim = fd
			break
		}
	}
	if victim < 0 {
		t.Skipf("descriptor %d was not reused", l.kick)
	}
	l.wake() // the rest of Loop.Close
	var b [8]byte
	if n, err := unix.Read(victim, b[:]); err == nil {
		t.Fatalf("Loop.Close's wake-up wrote to descriptor %d after the loop closed it (an unrelated eventfd now): read %d bytes", victim, n)
	}
	l.Close()
}

// TestAdoptStart proves that an adopted connection is not served before
// Start, that Start serves what arrived meanwhile, that Close before Start
// releases the socket, and that Start on a closed loop fails and releases
// it.
func TestAdoptStart(t *testing.T) {
	tests := []struct {
		name       string
		closeFirst bool // Close the Conn before Start
		closeLoop  bool // close the loop before Start
		wantErr    error
	}{
		{name: "start"},
		{name: "close before start", closeFirst: true, wantErr: net.ErrClosed},
		{name: "start after loop close", closeLoop: true, wantErr: ErrClosed},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			l := newLoop(t)
			ln := listen(t)
			client, server := pair(t, ln, nil)
			r := newRecorder()
			c, err := l.Adopt(server, r.handle)
			if err != nil {
				t.Fatal(err)
			}
			if tt.wantErr == nil {
				// Unread input would make the close a reset.
				if _, err := client.Write([]byte("early")); err != nil {
					t.Fatal(err)
				}
			}
			if n := l.Len(); n != 0 {
				t.Errorf("Len before Start = %d", n)
			}
			if tt.closeFirst {
				if err := c.Close(); err != nil {
					t.Fatal(err)
				}
			}
			if tt.closeLoop {
				closeLoop(t, l)
			}
			if err := c.Start(); !errors.Is(err, tt.wantErr) {
				t.Fatalf("Start = %v; want %v", err, tt.wantErr)
			}
			if tt.wantErr != nil {
				expectEOF(t, client)
				noRecv(t, r.calls, "handler call")
				return
			}
			var got []byte
			for len(got) < len("early") {
				got = append(got, r.next(t).data...)
			}
			if string(got) != "early" {
				t.Fatalf("handler read %q; want \"early\"", got)
			}
			if err := c.Start(); !errors.Is(err, net.ErrClosed) {
				t.Errorf("second Start = %v; want net.ErrClosed", err)
			}
		})
	}
}

// session is one connection's state, shared by its loop handler and, while
// detached, by its goroutine, as a protocol server keeps it. It echoes
// lines; "WAIT" hands the connection to a goroutine that serves it with
// blocking reads through the same Conn until "BACK", which reattaches it.
type session struct {
	in         [4096]byte
	buf        []byte       // read and not yet answered
	reattached chan error   // a goroutine's Reattach result
	ended      chan error   // the Read error that ended the connection
	detaches   atomic.Int32 // how many times the handler detached
}

func newSession() *session {
	return &session{reattached: make(chan error, 16), ended: make(chan error, 1)}
}

// line removes and returns the next complete line of s.buf.
func (s *session) line() (string, bool) {
	i := bytes.IndexByte(s.buf, '\n')
	if i < 0 {
		return "", false
	}
	line := string(s.buf[:i+1])
	s.buf = s.buf[i+1:]
	return line, true
}

func (s *session) handle(c *Conn) {
	for {
		n, err := c.Read(s.in[:])
		s.buf = append(s.buf, s.in[:n]...)
		if err == ErrWouldBlock {
			break
		}
		if err != nil {
			c.Close()
			s.ended <- err
			return
		}
	}
	for {
		line, ok := s.line()
		if !ok {
			return
		}
		if line == "WAIT\n" {
			if _, err := c.Detach(); err != nil {
				c.Close()
				s.ended <- err
				return
			}
			s.detaches.Add(1)
			go s.serveDetached(c)
			return
		}
		if _, err := c.Write([]byte(line)); err != nil {
			c.Close()
			s.ended <- err
			return
		}
	}
}

// serveDetached serves c from a goroutine through the netloop Conn, whose
// Read and Write now block, until the line "BACK".
func (s *session) serveDetached(c *Conn) {
	for {
		line, ok := s.line()
		if !ok {
			n, err := c.Read(s.in[:])
			s.buf = append(s.buf, s.in[:n]...)
			if err != nil {
				c.Close()
				s.ended <- err
				return
			}
			continue
		}
		if line == "BACK\n" {
			// The handler, called at once, answers what s.buf holds.
			s.reattached <- c.Reattach()
			return
		}
		if _, err := c.Write([]byte(line)); err != nil {
			c.Close()
			s.ended <- err
			return
		}
	}
}

// TestReattach proves that a detached connection served through the same
// Conn (Read and Write forwarded) can go back to the loop without losing or
// reordering a byte, whichever side had read it, and that the loop then
// serves it as before.
func TestReattach(t *testing.T) {
	type write struct {
		data string
		// afterDetaches delays the write until the handler has detached
		// this many times, so that the goroutine must read it.
		afterDetaches int32
	}
	tests := []struct {
		name   string
		writes []write
		want   string
		rounds int // detach and reattach cycles
	}{
		{"one write", []write{{"a\nWAIT\nb\nBACK\nc\n", 0}}, "a\nb\nc\n", 1},
		{"read while detached", []write{{"a\nWAIT\n", 0}, {"b\n", 1}, {"BACK\nc\n", 1}}, "a\nb\nc\n", 1},
		{"twice", []write{{"a\nWAIT\nb\nBACK\nc\nWAIT\nd\nBA", 0}, {"CK\ne\n", 2}}, "a\nb\nc\nd\ne\n", 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			l := newLoop(t)
			ln := listen(t)
			s := newSession()
			client, _ := attach(t, l, ln, s.handle)
			goWrite(t, func() error {
				for _, w := range tt.writes {
					deadline := time.Now().Add(timeout)
					for s.detaches.Load() < w.afterDetaches {
						if time.Now().After(deadline) {
							return fmt.Errorf("no Detach before writing %q", w.data)
						}
						time.Sleep(time.Millisecond)
					}
					if _, err := client.Write([]byte(w.data)); err != nil {
						return err
					}
				}
				return nil
			})
			got := make([]byte, len(tt.want))
			if _, err := io.ReadFull(client, got); err != nil {
				t.Fatalf("read echo: %v (got %q)", err, got)
			}
			if string(got) != tt.want {
				t.Fatalf("echo = %q; want %q", got, tt.want)
			}
			for range tt.rounds {
				if err := recv(t, s.reattached, "Reattach"); err != nil {
					t.Fatalf("Reattach: %v", err)
				}
			}
			if n := s.detaches.Load(); n != int32(tt.rounds) {
				t.Errorf("detached %d times; want %d", n, tt.rounds)
			}
			if n := l.Len(); n != 1 {
				t.Errorf("Len after Reattach = %d; want 1", n)
			}
			if _, err := client.Write([]byte("z\n")); err != nil {
				t.Fatal(err)
			}
			z := make([]byte, 2)
			if _, err := io.ReadFull(client, z); err != nil || string(z) != "z\n" {
				t.Fatalf("echo after Reattach = %q, %v", z, err)
			}
			client.Close()
			if err := recv(t, s.ended, "the end"); err != io.EOF {
				t.Errorf("handler's Read after the client closed = %v; want io.EOF", err)
			}
			eventually(t, "Len to drop to 0", func() bool { return l.Len() == 0 })
		})
	}
}

// TestReattachReadDeadline proves that the read deadline state the handler
// sees after Reattach is the last one set through the Conn, including while
// it was detached: a shutdown that sets a past deadline on a detached
// connection must still make the loop's handler drain it once it is back.
func TestReattachReadDeadline(t *testing.T) {
	tests := []struct {
		name   string
		before time.Time // set while attached (zero: none)
		while  time.Time // set while detached (zero with clear: the zero time)
		clear  bool      // set while to the zero time
		want   bool      // DeadlinePassed after Reattach
	}{
		{name: "none"},
		{name: "set before detach", before: time.Now(), want: true},
		{name: "set while detached", while: time.Now(), want: true},
		{name: "cleared while detached", before: time.Now(), clear: true, want: false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			l := newLoop(t)
			ln := listen(t)
			seen := make(chan bool, 16)
			detachedErr := make(chan error, 1)
			var detachNext atomic.Bool
			_, c := attach(t, l, ln, func(c *Conn) {
				passed := c.DeadlinePassed()
				// Report last, so that the call is over when the
				// test goes on.
				defer func() { seen <- passed }()
				var b [64]byte
				for {
					_, err := c.Read(b[:])
					if err == ErrWouldBlock {
						break
					}
					if err != nil {
						c.Close()
						return
					}
				}
				if detachNext.CompareAndSwap(true, false) {
					_, err := c.Detach()
					detachedErr <- err
				}
			})
			recv(t, seen, "the call after Attach")

			detachNext.Store(true)
			if tt.before.IsZero() {
				c.Poke()
			} else if err := c.SetReadDeadline(tt.before); err != nil {
				t.Fatal(err)
			}
			recv(t, seen, "the call that detaches")
			if err := recv(t, detachedErr, "Detach"); err != nil {
				t.Fatal(err)
			}
			if !tt.while.IsZero() || tt.clear {
				if err := c.SetReadDeadline(tt.while); err != nil {
					t.Fatal(err)
				}
			}
			if err := c.Reattach(); err != nil {
				t.Fatal(err)
			}
			if got := recv(t, seen, "the call after Reattach"); got != tt.want {
				t.Errorf("DeadlinePassed after Reattach = %v; want %v", got, tt.want)
			}
		})
	}
}

// kickCount returns the counter of l's eventfd, read from /proc.
func kickCount(t testing.TB, l *Loop) uint64 {
	t.Helper()
	info, err := os.ReadFile(fmt.Sprintf("/proc/self/fdinfo/%d", l.kick))
	if err != nil {
		t.Fatal(err)
	}
	for line := range strings.Lines(string(info)) {
		if v, ok := strings.CutPrefix(line, "eventfd-count:"); ok {
			n, err := strconv.ParseUint(strings.TrimSpace(v), 16, 64)
			if err != nil {
				t.Fatal(err)
			}
			return n
		}
	}
	t.Fatalf("no eventfd-count in fdinfo:\n%s", info)
	return 0
}

// drainErr returns the last Read error r's handler reported so far.
func drainErr(r *recorder) error {
	var err error
	for {
		select {
		case c := <-r.calls:
			err = c.err
		default:
			return err
		}
	}
}

// countFDs returns the number of open descriptors of the process.
func countFDs(t testing.TB) int {
	t.Helper()
	entries, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		t.Fatal(err)
	}
	return len(entries)
}

// detachFirst returns a handler that detaches its connection on its first
// call, reporting on ch, and afterwards (once reattached) reads and closes
// on a Read error.
func detachFirst(ch chan<- detached) Handler {
	first := true
	r := newRecorder()
	return func(c *Conn) {
		if first {
			first = false
			nc, err := c.Detach()
			ch <- detached{nc: nc, err: err}
			return
		}
		r.handle(c)
	}
}

// TestNoDescriptorLeak proves that a loop and 100 connections that end in
// every way leave no descriptor open: the peer closes; Close from another
// goroutine; Detach, then Close on the net.Conn or on the netloop Conn;
// Close between Adopt and Start; Detach, Reattach, then the peer closes;
// still attached at Loop.Close.
func TestNoDescriptorLeak(t *testing.T) {
	const conns = 100
	// Let the runtime open its netpoller descriptors first.
	warm, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	warm.Close()
	before := countFDs(t)

	func() {
		l, err := New()
		if err != nil {
			t.Fatal(err)
		}
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		defer ln.Close()
		var clients []net.Conn
		defer func() {
			for _, cc := range clients {
				cc.Close()
			}
		}()
		detaches := make(chan detached, conns)
		left := 0 // connections left for Loop.Close
		for i := range conns {
			cc, err := net.Dial("tcp", ln.Addr().String())
			if err != nil {
				t.Fatal(err)
			}
			clients = append(clients, cc)
			sc, err := ln.Accept()
			if err != nil {
				t.Fatal(err)
			}
			h := newRecorder().handle
			if mode := i % 6; mode == 2 || mode == 5 {
				h = detachFirst(detaches)
			}
			c, err := l.Adopt(sc.(*net.TCPConn), h)
			if err != nil {
				t.Fatal(err)
			}
			if i%6 == 4 { // Close between Adopt and Start
				c.Close()
				if err := c.Start(); !errors.Is(err, net.ErrClosed) {
					t.Fatalf("Start after Close = %v", err)
				}
				continue
			}
			if err := c.Start(); err != nil {
				t.Fatal(err)
			}
			switch i % 6 {
			case 0: // the peer closes
				cc.Close()
			case 1: // Close from another goroutine
				c.Close()
			case 2: // Detach, then close the net.Conn or the netloop Conn
				d := recv(t, detaches, "Detach")
				if d.err != nil {
					t.Fatal(d.err)
				}
				if i%12 == 2 {
					d.nc.Close()
				} else {
					c.Close()
				}
			case 5: // Detach, Reattach, then the peer closes
				if d := recv(t, detaches, "Detach"); d.err != nil {
					t.Fatal(d.err)
				}
				if err := c.Reattach(); err != nil {
					t.Fatal(err)
				}
				cc.Close()
			case 3: // left for Loop.Close
				left++
			}
		}
		eventually(t, "the ended connections to leave the loop", func() bool { return l.Len() == left })
		closeLoop(t, l)
	}()

	deadline := time.Now().Add(2 * time.Second)
	after := countFDs(t)
	for after != before && time.Now().Before(deadline) {
		time.Sleep(5 * time.Millisecond)
		after = countFDs(t)
	}
	if after != before {
		t.Fatalf("%d descriptors open before, %d after", before, after)
	}
}

// BenchmarkEchoRoundTrip measures one 32-byte request and its echo over one
// connection, served by a loop and by a goroutine per connection.
func BenchmarkEchoRoundTrip(b *testing.B) {
	b.Run("loop", func(b *testing.B) {
		l := newLoop(b)
		ln := listen(b)
		h := &echoHandler{t: b}
		client, _ := attach(b, l, ln, h.handle)
		client.SetDeadline(time.Time{})
		benchRoundTrips(b, client)
	})
	b.Run("goroutine", func(b *testing.B) {
		ln := listen(b)
		client, server := pair(b, ln, nil)
		client.SetDeadline(time.Time{})
		go func() {
			defer server.Close()
			buf := make([]byte, 16<<10)
			for {
				n, err := server.Read(buf)
				if err != nil {
					return
				}
				if _, err := server.Write(buf[:n]); err != nil {
					return
				}
			}
		}()
		benchRoundTrips(b, client)
	})
}

// benchRoundTrips times one 32-byte round trip per op on client.
func benchRoundTrips(b *testing.B, client net.Conn) {
	req := bytes.Repeat([]byte("x"), 32)
	resp := make([]byte, len(req))
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		if _, err := client.Write(req); err != nil {
			b.Fatal(err)
		}
		if _, err := io.ReadFull(client, resp); err != nil {
			b.Fatal(err)
		}
	}
}

// TestHandoff walks one connection through netloop.Handoff as the protocol
// servers use it: adopted, served by the loop, detached to its goroutine,
// given back with ErrReattach, served by the loop again, closed.
func TestHandoff(t *testing.T) {
	g := NewGroup(1)
	defer g.Close()
	ln := listen(t)
	client, server := pair(t, ln, &net.Dialer{})
	defer client.Close()

	var o Handoff
	buf := make([]byte, 64)
	hc, err := o.Adopt(g, server, func(c *Conn) {
		n, err := c.Read(buf)
		if errors.Is(err, ErrWouldBlock) {
			return
		}
		if err != nil {
			o.Leave(c, false)
			return
		}
		switch string(buf[:n]) {
		case "detach\n":
			c.Write([]byte("detaching\n"))
			o.Leave(c, true)
		case "close\n":
			o.Leave(c, false)
		default:
			c.Write(append([]byte("loop:"), buf[:n]...))
		}
	})
	if err != nil || hc != o.Conn {
		t.Fatalf("Adopt: %v, %T", err, hc)
	}
	served := make(chan error, 1)
	goroutineRounds := 0
	go func() {
		served <- o.Serve(func() error {
			goroutineRounds++
			n, err := hc.Read(buf) // blocking: the goroutine's turn
			if err != nil {
				return err
			}
			hc.Write(append([]byte("goroutine:"), buf[:n]...))
			return ErrReattach
		})
	}()
	r := bufio.NewReader(client)
	ask := func(line, want string) {
		t.Helper()
		client.SetDeadline(time.Now().Add(timeout))
		if _, err := client.Write([]byte(line)); err != nil {
			t.Fatal(err)
		}
		if want == "" {
			return
		}
		got, err := r.ReadString('\n')
		if err != nil || got != want {
			t.Fatalf("%q: got %q, %v; want %q", line, got, err, want)
		}
	}
	ask("a\n", "loop:a\n")
	ask("detach\n", "detaching\n")
	ask("b\n", "goroutine:b\n")
	ask("c\n", "loop:c\n") // back on the loop after ErrReattach
	ask("close\n", "")
	if err := recv(t, served, "Serve to return"); err != nil {
		t.Fatalf("Serve: %v", err)
	}
	if goroutineRounds != 1 {
		t.Fatalf("the goroutine served %d rounds, want 1", goroutineRounds)
	}
	eventually(t, "the loop to drop the connection", func() bool { return g.Len() == 0 })

	// A connection that is not plain TCP keeps its goroutine.
	a, b := net.Pipe()
	defer a.Close()
	defer b.Close()
	var p Handoff
	if got, err := p.Adopt(g, a, nil); got != a || err != nil || p.Conn != nil {
		t.Fatalf("Adopt(pipe) = %T, %v", got, err)
	}
	// Nor does any connection when the group has no loops.
	_, s2 := pair(t, ln, &net.Dialer{})
	defer s2.Close()
	var q Handoff
	if got, err := q.Adopt(NewGroup(-1), s2, nil); got != net.Conn(s2) || err != nil || q.Conn != nil {
		t.Fatalf("Adopt without loops = %T, %v", got, err)
	}
}

// TestAfterBatch: the calls asked for with AfterBatch come once every
// connection of the batch was served, once per request, with a handle that
// can write and close; a connection detached in the same handler call gets
// none.
func TestAfterBatch(t *testing.T) {
	l := newLoop(t)
	ln := listen(t)

	// The handlers keep to the Handler contract (read, close on an error)
	// so that the loop can close once the test ends, and they record what
	// happened until then.
	var mu sync.Mutex
	var events []string
	record := func(e string) {
		mu.Lock()
		events = append(events, e)
		mu.Unlock()
	}
	recorded := func() string {
		mu.Lock()
		defer mu.Unlock()
		return fmt.Sprintf("%q", events)
	}
	done := make(chan struct{}, 64) // never full: the loop must not block
	// ended reads c and closes it once its client has gone.
	ended := func(c *Conn, buf []byte) bool {
		if _, err := c.Read(buf); err != nil && !errors.Is(err, ErrWouldBlock) {
			c.Close()
			return true
		}
		return false
	}

	// Hold the loop in a handler while a and b are attached, so that both
	// are served in the batch that follows.
	_, holdServer := pair(t, ln, nil)
	holding, release := make(chan struct{}), make(chan struct{})
	var held bool
	holdBuf := make([]byte, 16)
	if _, err := l.Attach(holdServer, func(c *Conn) {
		if ended(c, holdBuf) || held {
			return
		}
		held = true
		close(holding)
		<-release
	}); err != nil {
		t.Fatal(err)
	}
	<-holding

	clients := map[string]*net.TCPConn{}
	for _, name := range []string{"a", "b", "detached"} {
		client, server := pair(t, ln, nil)
		clients[name] = client
		after := func(c *Conn) {
			record("after " + name)
			switch name {
			case "a":
				c.Write([]byte("reply a"))
			case "b":
				c.Close()
			}
			done <- struct{}{}
		}
		buf := make([]byte, 16)
		if _, err := l.Attach(server, func(c *Conn) {
			if ended(c, buf) {
				return
			}
			record("serve " + name)
			c.AfterBatch(after)
			c.AfterBatch(after) // asked twice: called twice, unless closed by then
			if name == "detached" {
				nc, err := c.Detach()
				if err != nil {
					t.Error(err)
					return
				}
				nc.Close()
				done <- struct{}{}
			}
		}); err != nil {
			t.Fatal(err)
		}
	}
	close(release)
	for range 4 { // a twice, b once (closed by the first), detached once
		select {
		case <-done:
		case <-time.After(timeout):
			t.Fatalf("after-batch calls missing; events %s", recorded())
		}
	}
	want := fmt.Sprintf("%q", []string{"serve a", "serve b", "serve detached", "after a", "after a", "after b"})
	if got := recorded(); got != want {
		t.Fatalf("events %s, want %s", got, want)
	}
	buf := make([]byte, 32)
	n, err := io.ReadAtLeast(clients["a"], buf, len("reply areply a"))
	if err != nil || string(buf[:n]) != "reply areply a" {
		t.Fatalf("a read %q, %v; want both replies written after the batch", buf[:n], err)
	}
	if _, err := clients["b"].Read(buf); err != io.EOF {
		t.Fatalf("b read %v, want EOF: Close in an after-batch call must end the connection", err)
	}
	// b is gone, detached was taken out; the holder and a are left.
	for deadline := time.Now().Add(timeout); l.Len() != 2; time.Sleep(time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("%d connections attached, want 2 (the holder and a)", l.Len())
		}
	}
}

// TestLeaveAfterWrite: a whole write stays, a full send buffer (however
// wrapped) detaches, any other error closes.
func TestLeaveAfterWrite(t *testing.T) {
	for _, tc := range []struct {
		err           error
		leave, detach bool
	}{
		{nil, false, false},
		{ErrWouldBlock, true, true},
		{fmt.Errorf("flush: %w", ErrWouldBlock), true, true},
		{net.ErrClosed, true, false},
		{io.ErrShortWrite, true, false},
	} {
		if leave, detach := LeaveAfterWrite(tc.err); leave != tc.leave || detach != tc.detach {
			t.Errorf("LeaveAfterWrite(%v) = %v, %v; want %v, %v", tc.err, leave, detach, tc.leave, tc.detach)
		}
	}
}
