//go:build !linux

package netloop

import (
	"errors"
	"net"
)

// Supported reports whether loops can be created on this platform.
const Supported = false

// ErrWouldBlock is returned by Conn.Read when no input is waiting and by
// Conn.Write when the socket's send buffer is full.
var ErrWouldBlock = errors.New("netloop: operation would block")

// ErrClosed is returned by Attach once the loop is closed.
var ErrClosed = errors.New("netloop: loop closed")

var errUnsupported = errors.New("netloop: event loops need Linux")

// Handler is called on the loop's goroutine; see the Linux build.
type Handler func(*Conn)

// Loop is not available on this platform: New fails and callers serve each
// connection from a goroutine.
type Loop struct{}

// New fails on this platform.
func New() (*Loop, error) { return nil, errUnsupported }

// Attach fails on this platform.
func (l *Loop) Attach(*net.TCPConn, Handler) (*Conn, error) { return nil, errUnsupported }

// Close does nothing.
func (l *Loop) Close() error { return nil }

// Len returns 0.
func (l *Loop) Len() int { return 0 }

// Conn is never created on this platform.
type Conn struct{ net.Conn }

// Detach fails on this platform.
func (c *Conn) Detach() (net.Conn, error) { return nil, errUnsupported }

// Poke does nothing.
func (c *Conn) Poke() {}

// AfterBatch does nothing.
func (c *Conn) AfterBatch(func(*Conn)) {}

// DeadlinePassed reports false.
func (c *Conn) DeadlinePassed() bool { return false }

// Adopt fails on this platform.
func (l *Loop) Adopt(*net.TCPConn, Handler) (*Conn, error) { return nil, errUnsupported }

// Start fails on this platform.
func (c *Conn) Start() error { return errUnsupported }

// Reattach fails on this platform.
func (c *Conn) Reattach() error { return errUnsupported }

// makeLoop fails on this platform.
func makeLoop(*Group) (*Loop, error) { return nil, errUnsupported }

func (l *Loop) run() {}

// place has no loops to choose from on this platform.
func (g *Group) place() *Loop { return nil }
