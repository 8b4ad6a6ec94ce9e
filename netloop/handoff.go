package netloop

import (
	"errors"
	"log/slog"
	"net"
)

// ErrReattach is returned by a protocol's goroutine serve function to give
// its connection back to the loop (see Handoff.Serve).
var ErrReattach = errors.New("netloop: back to the event loop")

// Handoff moves one protocol connection between a loop and the goroutine
// that accepted it. The goroutine calls Adopt, then Serve, which parks it
// while the loop serves the connection; the loop's handler calls Leave to
// hand the connection to the goroutine (or to end it), and the goroutine's
// serve function returns ErrReattach to hand it back.
type Handoff struct {
	// Conn is the connection's loop handle, nil if the connection keeps
	// its goroutine. Protocol code holds it as its net.Conn for the
	// connection's whole life.
	Conn *Conn
	// handoff carries true (detached: the goroutine serves) or false
	// (closed) from the handler to the goroutine.
	handoff chan bool
}

// Adopt gives nc to the next loop of g with handler h, if nc is a plain TCP
// connection and g has loops; it returns the net.Conn the protocol should
// hold: the loop handle, or nc itself when nc keeps its goroutine (a TLS
// connection, a pipe, no loops). err says why a TCP connection could not be
// adopted; nc is then still usable.
func (o *Handoff) Adopt(g *Group, nc net.Conn, h Handler) (net.Conn, error) {
	tc, ok := nc.(*net.TCPConn)
	if !ok {
		return nc, nil
	}
	l := g.Next()
	if l == nil {
		return nc, g.Err()
	}
	c, err := l.Adopt(tc, h)
	if err != nil {
		return nc, err
	}
	o.Conn = c
	o.handoff = make(chan bool, 1)
	return c, nil
}

// AdoptOrKeep is Adopt for a server that carries on with nc when nc cannot
// be adopted: it logs why at debug level, naming protocol, and returns the
// net.Conn the protocol should hold either way.
func (o *Handoff) AdoptOrKeep(g *Group, nc net.Conn, h Handler, log *slog.Logger, protocol string) net.Conn {
	hc, err := o.Adopt(g, nc, h)
	if err != nil {
		log.Debug("connection kept off the event loops", "protocol", protocol, "err", err)
	}
	return hc
}

// Serve starts the adopted connection on its loop and returns when the
// connection is over. Whenever the handler detaches it, serve runs on this
// goroutine; if serve returns ErrReattach the connection goes back to the
// loop, otherwise Serve returns serve's result.
func (o *Handoff) Serve(serve func() error) error {
	if err := o.Conn.Start(); err != nil {
		return nil // Start released the socket: nothing to serve
	}
	for {
		if detached := <-o.handoff; !detached {
			return nil // the handler closed it
		}
		err := serve()
		if !errors.Is(err, ErrReattach) {
			return err
		}
		if err := o.Conn.Reattach(); err != nil {
			o.Conn.Close()
			return nil
		}
	}
}

// Leave is called by the handler, with the handle it was given, to end the
// connection's stay in the loop: detached for the goroutine to serve, or
// closed (also when detaching fails). The handler is not called again
// until a Reattach.
func (o *Handoff) Leave(c *Conn, detach bool) {
	if detach {
		if _, err := c.Detach(); err == nil {
			o.handoff <- true
			return
		}
	}
	c.Close()
	o.handoff <- false
}

// LeaveAfterWrite tells a handler that wrote from the loop whether the
// connection must leave it: not after a whole write (err nil); for its
// goroutine, which writes the rest, when the send buffer filled
// (ErrWouldBlock: the client reads slower than the server writes); for
// good on any other error.
func LeaveAfterWrite(err error) (leave, detach bool) {
	switch {
	case err == nil:
		return false, false
	case errors.Is(err, ErrWouldBlock):
		return true, true
	default:
		return true, false
	}
}
