// Package client is a Go Hot Rod client: pooled connections, many requests
// in flight on each (pipelined and matched by message id), topology and hash
// aware. The hotgrid CLI, tests and benchmarks use it; it speaks protocol
// 4.0 by default and 3.0 or 3.1 on request.
package client

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/hotgrid/hotgrid/hash"
	"github.com/hotgrid/hotgrid/hotrod/wire"
)

// Options configure a Client.
type Options struct {
	// Servers are host:port addresses; the topology the server sends
	// replaces them once known. Default 127.0.0.1:11222.
	Servers []string
	// PoolSize is the number of connections per server; default 1 (a
	// connection carries many requests at once).
	PoolSize int
	// Intelligence is 1 (basic), 2 (topology aware) or 3 (hash aware, the
	// default).
	Intelligence byte
	// Version is the protocol version byte (30, 31 or 40); default 40.
	Version byte
	// Timeout bounds dialling; requests are bounded by their context.
	Timeout time.Duration
	// KeyMediaType and ValueMediaType are sent with every request (2.8+);
	// empty means none.
	KeyMediaType, ValueMediaType string
	// User and Password, when User is set, authenticate every connection
	// with Mechanism: PLAIN or SCRAM-SHA-1/256/384/512 (default
	// SCRAM-SHA-256, as the Java client).
	User, Password, Mechanism string
	// TLS, when set, wraps every connection (the client offers ALPN "HR").
	TLS *tls.Config
}

// ErrCacheNotFound matches a server error for a missing cache.
var ErrCacheNotFound = errors.New("hotrod: cache not found")

// ErrClosed is returned for requests on a closed client or connection.
var ErrClosed = errors.New("hotrod: client closed")

// ServerError is an error response from the server.
type ServerError struct {
	Status  byte
	Message string
}

func (e *ServerError) Error() string {
	return fmt.Sprintf("hotrod: server error 0x%02x: %s", e.Status, e.Message)
}

// Is makes errors.Is(err, ErrCacheNotFound) work.
func (e *ServerError) Is(target error) bool {
	return target == ErrCacheNotFound && strings.Contains(e.Message, "CacheNotFoundException")
}

// Client is a Hot Rod client. It is safe for concurrent use.
type Client struct {
	opts  Options
	msgID atomic.Int64

	mu       sync.Mutex
	pools    map[string][]*conn
	next     atomic.Uint32
	topology atomic.Pointer[topology]
	closed   bool
}

// topology is the server's view: members and, for hash-aware clients, the
// primary owner of each segment.
type topology struct {
	id       int32
	members  []string
	segments []int // segment -> member index
}

// New connects to the first reachable server.
func New(ctx context.Context, o Options) (*Client, error) {
	if len(o.Servers) == 0 {
		o.Servers = []string{"127.0.0.1:11222"}
	}
	if o.PoolSize <= 0 {
		o.PoolSize = 1
	}
	if o.Intelligence == 0 {
		o.Intelligence = wire.IntelligenceHashAware
	}
	if o.Version == 0 {
		o.Version = wire.Version40
	}
	if o.Timeout == 0 {
		o.Timeout = 10 * time.Second
	}
	c := &Client{opts: o, pools: make(map[string][]*conn)}
	c.topology.Store(&topology{id: -1, members: o.Servers})
	var err error
	for _, s := range o.Servers {
		if _, err = c.connFor(ctx, s); err == nil {
			return c, nil
		}
	}
	return nil, err
}

// Close closes every connection.
func (c *Client) Close() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.closed = true
	for _, p := range c.pools {
		for _, cn := range p {
			cn.close(ErrClosed)
		}
	}
	c.pools = map[string][]*conn{}
	return nil
}

// connFor returns a connection to addr, dialling the pool lazily.
func (c *Client) connFor(ctx context.Context, addr string) (*conn, error) {
	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		return nil, ErrClosed
	}
	pool := c.pools[addr]
	live := pool[:0]
	for _, cn := range pool {
		if cn.err.Load() == nil {
			live = append(live, cn)
		}
	}
	c.pools[addr] = live
	if len(live) >= c.opts.PoolSize {
		cn := live[int(c.next.Add(1))%len(live)]
		c.mu.Unlock()
		return cn, nil
	}
	c.mu.Unlock()
	d := net.Dialer{Timeout: c.opts.Timeout}
	nc, err := d.DialContext(ctx, "tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("hotrod: dial %s: %w", addr, err)
	}
	if c.opts.TLS != nil {
		cfg := c.opts.TLS.Clone()
		if cfg.NextProtos == nil {
			cfg.NextProtos = []string{"HR"}
		}
		if cfg.ServerName == "" {
			cfg.ServerName, _, _ = net.SplitHostPort(addr)
		}
		tc := tls.Client(nc, cfg)
		if err := tc.HandshakeContext(ctx); err != nil {
			nc.Close()
			return nil, fmt.Errorf("hotrod: tls handshake with %s: %w", addr, err)
		}
		nc = tc
	}
	cn := newConn(c, nc)
	if c.opts.User != "" {
		if err := cn.authenticate(ctx); err != nil {
			cn.close(err)
			return nil, err
		}
	}
	c.mu.Lock()
	c.pools[addr] = append(c.pools[addr], cn)
	c.mu.Unlock()
	return cn, nil
}

// route picks the connection for a key: the primary owner of its segment
// when the client is hash aware and knows the topology.
func (c *Client) route(ctx context.Context, key []byte) (*conn, error) {
	t := c.topology.Load()
	addr := t.members[0]
	if key != nil && len(t.segments) > 0 {
		seg := hash.Segment(key, len(t.segments))
		addr = t.members[t.segments[seg]]
	} else if len(t.members) > 1 {
		addr = t.members[int(c.next.Add(1))%len(t.members)]
	}
	cn, err := c.connFor(ctx, addr)
	if err != nil && addr != c.opts.Servers[0] {
		return c.connFor(ctx, c.opts.Servers[0])
	}
	return cn, err
}

func (c *Client) updateTopology(t *topology) {
	if old := c.topology.Load(); old.id != t.id {
		c.topology.Store(t)
	}
}

// Cache returns a handle on the named cache ("" is the default cache).
func (c *Client) Cache(name string) *Cache {
	return &Cache{c: c, name: name}
}

// Cache is a handle on one remote cache.
type Cache struct {
	c    *Client
	name string
}

// Name returns the cache name.
func (k *Cache) Name() string { return k.name }
