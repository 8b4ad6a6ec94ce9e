package server

import (
	"bytes"
	"context"
	"crypto/tls"
	"fmt"
	"net"
	"sync"
	"time"

	"github.com/hotgrid/hotgrid/hotrod/wire"
)

// Detection bounds: how long a new connection may stay silent before its
// protocol is known, and how many bytes detection may need.
const (
	detectTimeout = 60 * time.Second
	detectMax     = 4 << 10
)

// connServer is a protocol that serves whole connections.
type connServer interface {
	// ServeConn serves nc; prefix holds the bytes detection read.
	ServeConn(ctx context.Context, nc net.Conn, prefix []byte) error
	Shutdown(ctx context.Context) error
}

// detector claims connections whose first bytes match its protocol. detect
// returns needMore when the bytes so far cannot decide.
type detector struct {
	name   string
	detect func(prefix []byte) (match, needMore bool)
	srv    connServer
}

// detectHotRod claims the Hot Rod request magic.
func detectHotRod(p []byte) (bool, bool) { return p[0] == wire.RequestMagic, false }

// detectHTTP claims a request line ("METHOD target HTTP/1.x") and the
// HTTP/2 prior-knowledge preface ("PRI * HTTP/2.0"). Anything that does not
// start with an upper-case method token is rejected at once, so binary
// protocols are never kept waiting for a line end.
func detectHTTP(p []byte) (bool, bool) {
	i := 0
	for i < len(p) && p[i] >= 'A' && p[i] <= 'Z' {
		i++
	}
	switch {
	case i == len(p):
		return false, i < 16 // a method token still arriving
	case i == 0 || p[i] != ' ':
		return false, false
	}
	line, complete := firstLine(p)
	if bytes.Contains(line, []byte(" HTTP/")) {
		return true, false
	}
	return false, !complete && len(p) < detectMax
}

func firstLine(p []byte) ([]byte, bool) {
	if i := bytes.IndexByte(p, '\n'); i >= 0 {
		return p[:i], true
	}
	return p, false
}

// route reads a connection's first bytes, offers them to each detector in
// order, and hands the connection to the first that claims it. A
// connection that no detector claims is closed and logged at debug level.
// When the endpoint has TLS, every connection must start with a TLS
// handshake (see routeTLS).
func (n *Node) route(ctx context.Context, nc net.Conn) {
	if !n.track(nc) {
		nc.Close()
		return
	}
	defer n.untrack(nc)
	nc.SetReadDeadline(time.Now().Add(detectTimeout))
	if n.sec.tls != nil {
		n.routeTLS(ctx, nc)
		return
	}
	n.detectAndServe(ctx, nc, nc)
}

// routeTLS completes the TLS handshake and serves the protocol ALPN chose
// ("HR" Hot Rod, "RP" RESP, "MB" memcached, "h2" and "http/1.1" HTTP); a
// client that offered no ALPN protocol has its decrypted stream detected as
// on a plain port.
func (n *Node) routeTLS(ctx context.Context, nc net.Conn) {
	tc := tls.Server(nc, n.sec.tlsConfig)
	hctx, cancel := context.WithTimeout(ctx, detectTimeout)
	err := tc.HandshakeContext(hctx)
	cancel()
	if err != nil {
		n.log.Debug("TLS handshake failed", "remote", nc.RemoteAddr().String(), "err", err)
		nc.Close()
		return
	}
	var srv connServer
	switch p := tc.ConnectionState().NegotiatedProtocol; p {
	case "HR":
		srv = n.hotrod
	case "RP":
		srv = n.resp
	case "MB":
		srv = n.mc
	case "h2", "http/1.1":
		nc.SetReadDeadline(time.Time{})
		n.untrack(nc)
		n.httpLn.deliver(tc) // a *tls.Conn, so net/http sees TLS and ALPN
		return
	default:
		n.detectAndServe(ctx, nc, tc)
		return
	}
	nc.SetReadDeadline(time.Time{})
	n.untrack(nc)
	if err := srv.ServeConn(ctx, tc, nil); err != nil {
		n.log.Debug("connection closed", "protocol", tc.ConnectionState().NegotiatedProtocol, "remote", nc.RemoteAddr().String(), "err", err)
	}
}

// detectAndServe reads the first bytes of stream (nc itself, or the TLS
// connection over it) and serves the protocol they match; raw is the
// tracked network connection.
func (n *Node) detectAndServe(ctx context.Context, raw, stream net.Conn) {
	buf := make([]byte, 0, 512)
	for {
		if len(buf) == cap(buf) {
			buf = append(buf, 0)[:len(buf)]
		}
		k, err := stream.Read(buf[len(buf):cap(buf)])
		buf = buf[:len(buf)+k]
		if len(buf) == 0 || (err != nil && k == 0) {
			n.log.Debug("connection closed before its protocol was known", "remote", raw.RemoteAddr().String(), "err", err)
			stream.Close()
			return
		}
		undecided := false
		for _, d := range n.detectors {
			match, more := d.detect(buf)
			if match {
				raw.SetReadDeadline(time.Time{})
				n.untrack(raw)
				if d.srv == nil { // HTTP
					n.httpLn.deliver(&prefixConn{Conn: stream, prefix: buf})
					return
				}
				if err := d.srv.ServeConn(ctx, stream, buf); err != nil {
					n.log.Debug("connection closed", "protocol", d.name, "remote", raw.RemoteAddr().String(), "err", err)
				}
				return
			}
			if more {
				undecided = true
				break // a later detector must not claim what an earlier may still
			}
		}
		if !undecided || len(buf) >= detectMax {
			n.log.Debug("connection closed: no protocol matches its first bytes",
				"remote", raw.RemoteAddr().String(), "first", fmt.Sprintf("%q", buf[:min(len(buf), 32)]))
			stream.Close()
			return
		}
	}
}

// track records a connection still in detection so that Shutdown can close
// it; it reports false once shutdown has begun.
func (n *Node) track(nc net.Conn) bool {
	n.pendingMu.Lock()
	defer n.pendingMu.Unlock()
	if n.pending == nil {
		return false
	}
	n.pending[nc] = struct{}{}
	return true
}

func (n *Node) untrack(nc net.Conn) {
	n.pendingMu.Lock()
	delete(n.pending, nc)
	n.pendingMu.Unlock()
}

// closePending closes connections still in detection and refuses new ones.
func (n *Node) closePending() {
	n.pendingMu.Lock()
	for nc := range n.pending {
		nc.Close()
	}
	n.pending = nil
	n.pendingMu.Unlock()
}

// prefixConn replays bytes read during detection before the rest.
type prefixConn struct {
	net.Conn
	prefix []byte
}

// NetConn returns the connection below, for security.TLSState.
func (c *prefixConn) NetConn() net.Conn { return c.Conn }

func (c *prefixConn) Read(p []byte) (int, error) {
	if len(c.prefix) > 0 {
		k := copy(p, c.prefix)
		c.prefix = c.prefix[k:]
		return k, nil
	}
	return c.Conn.Read(p)
}

// connListener is a net.Listener fed with connections the router has
// already accepted, so that net/http can serve them.
type connListener struct {
	ch     chan net.Conn
	done   chan struct{}
	once   sync.Once
	addrMu sync.Mutex
	addr   net.Addr
}

func newConnListener() *connListener {
	return &connListener{ch: make(chan net.Conn), done: make(chan struct{})}
}

func (l *connListener) deliver(c net.Conn) {
	l.addrMu.Lock()
	if l.addr == nil {
		l.addr = c.LocalAddr()
	}
	l.addrMu.Unlock()
	select {
	case l.ch <- c:
	case <-l.done:
		c.Close()
	}
}

func (l *connListener) Accept() (net.Conn, error) {
	select {
	case c := <-l.ch:
		return c, nil
	case <-l.done:
		return nil, net.ErrClosed
	}
}

func (l *connListener) Close() error {
	l.once.Do(func() { close(l.done) })
	return nil
}

func (l *connListener) Addr() net.Addr {
	l.addrMu.Lock()
	defer l.addrMu.Unlock()
	if l.addr == nil {
		return &net.TCPAddr{}
	}
	return l.addr
}
