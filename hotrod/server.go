// Package hotrod serves Infinispan's Hot Rod protocol, versions 2.0 to 4.1,
// on top of the cache.Cache interface.
//
// A connection parses every complete request in its read buffer, answers
// each into an output buffer, and flushes once when the buffer holds no
// further complete request, so a pipelining client costs two system calls
// per batch rather than per request. Plain TCP connections are served so
// by a few event loops, others (TLS) by a goroutine each; a loop hands a
// connection to its own goroutine for requests that may block (loop.go).
// Listener events are appended to the same output buffer from other
// goroutines and flushed by a per-connection flusher.
package hotrod

import (
	"context"
	"errors"
	"log/slog"
	"net"
	"sync"

	"github.com/hotgrid/hotgrid/cache"
	"github.com/hotgrid/hotgrid/connset"
	"github.com/hotgrid/hotgrid/netloop"
	"github.com/hotgrid/hotgrid/security"
)

// Member is a server address advertised to clients in topology updates.
// An empty Host means "the address the client connected to".
type Member struct {
	Host string
	Port int
}

// Topology is the node's view of the cluster sent to topology-aware clients.
type Topology struct {
	// ID is opaque to clients; it must differ from -1 and 0, the initial
	// ids of the Java and js clients, and change with membership.
	ID      int32
	Members []Member
}

// Options configure a Server.
type Options struct {
	Manager *cache.Manager
	// Topology returns the current topology; nil means a single member at
	// the connection's local address.
	Topology func() *Topology
	Logger   *slog.Logger
	// MaxRequestSize bounds every length declared in a request (keys,
	// values, names); a larger one is refused before anything is
	// allocated. Default 64 MiB.
	MaxRequestSize int
	// ServerVersion is reported by admin tasks and REST; informational.
	ServerVersion string
	// Guard, when set, requires SASL authentication before any operation
	// but PING, AUTH_MECH_LIST and AUTH.
	Guard *security.Guard
	// EventLoops is how many event loops serve plain TCP connections (see
	// loop.go): 0 means one per CPU the Go runtime uses, a negative number
	// none (a goroutine per connection).
	EventLoops int
}

// DefaultMaxRequestSize is the default bound on a declared length.
const DefaultMaxRequestSize = 64 << 20

// Server serves Hot Rod connections.
type Server struct {
	opts Options
	log  *slog.Logger
	mgr  *cache.Manager

	iterations iterations
	// listeners are registered server-wide by id, as Infinispan does, so
	// that a client may remove one over any of its connections.
	listenersMu sync.Mutex
	listeners   map[string]*clientListener

	conns connset.Set[*conn]
	loops *netloop.Group
}

// NewServer returns a Server for the caches of opts.Manager.
func NewServer(opts Options) *Server {
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	if opts.MaxRequestSize <= 0 {
		opts.MaxRequestSize = DefaultMaxRequestSize
	}
	return &Server{
		opts:       opts,
		log:        opts.Logger,
		mgr:        opts.Manager,
		iterations: iterations{m: make(map[string]*iteration)},
		listeners:  make(map[string]*clientListener),
		loops:      netloop.NewGroup(opts.EventLoops),
	}
}

// ErrServerClosed is returned by ServeConn once Shutdown has begun.
var ErrServerClosed = errors.New("hotrod: server closed")

// ServeConn serves one connection until it closes. prefix holds bytes
// already read from nc (by protocol detection); they are parsed first.
func (s *Server) ServeConn(ctx context.Context, nc net.Conn, prefix []byte) error {
	c := newConn(s, nc, prefix)
	c.nc = c.adopt(ctx, nc)
	c.out.nc = c.nc
	if !s.conns.Add(c, c.nc) {
		c.nc.Close()
		return ErrServerClosed
	}
	defer s.conns.Remove(c)
	defer c.close()
	if c.loop.Conn != nil {
		return c.loop.Serve(func() error { return c.serve(ctx) })
	}
	return c.serve(ctx)
}

// Shutdown stops reading new requests: every connection answers the
// complete requests it has already received, flushes and closes. It waits
// for that until ctx is done, then closes what remains.
func (s *Server) Shutdown(ctx context.Context) error {
	err := s.conns.Shutdown(ctx, nil)
	s.loops.Close()
	return err
}

// topology returns the current topology for a connection.
func (s *Server) topology(c *conn) *Topology {
	if s.opts.Topology != nil {
		if t := s.opts.Topology(); t != nil {
			return t
		}
	}
	return &c.localTopo
}
