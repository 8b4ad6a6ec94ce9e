// Package resp serves the Redis protocol (RESP2 and RESP3) on top of the
// cache.Cache interface, so redis-cli, redis-benchmark and Redis client
// libraries read and write the same entries as Hot Rod, REST and memcached
// clients.
//
// # Connections
//
// A connection parses every complete command in its read buffer (arguments
// alias the buffer), answers into one output buffer and flushes once per
// batch. Plain TCP connections are served by a few event loops (loop.go,
// package netloop), as Redis serves them, so that a round trip costs one
// read and one write; a command that must wait (BLPOP, SUBSCRIBE, a store
// round trip) moves its connection to a goroutine of its own, which is how
// TLS connections are always served. A connection speaks RESP2 until
// it sends HELLO 3; unlike Infinispan, which only speaks RESP3, any Redis
// client works, including those that never send HELLO.
//
// # Databases
//
// Database 0 is the cache "respCache" (Options.DefaultCache), created when
// the configuration does not define it: local, keys and values
// application/octet-stream, statistics on, alias "0". As in Infinispan,
// SELECT n picks the cache whose name or aliases include "n". hotgrid adds a
// fallback so that clients that use Redis' 16 databases work unchanged: for
// 1 <= n <= 15 without such a cache, SELECT creates a volatile cache named
// "respCache" + n (e.g. "respCache9") with the same configuration and alias
// "n". Other numbers answer "-ERR DB index is out of range".
//
// # Storage
//
// A string is stored as its bytes (entry Kind 0), so Hot Rod, REST and
// memcached clients see the same bytes. Hashes, lists, sets and sorted sets
// are stored as one cache entry each, in a compact binary encoding tagged by
// cache.Write.Kind (see KindHash, KindList, KindSet, KindZSet and
// encoding.go). Every command that changes a value does so in one
// cache.Compute call, so each command is atomic.
//
// # Transactions
//
// MULTI/EXEC are isolated from other RESP clients by a server-wide
// reader/writer lock: every RESP command batch holds it shared, EXEC holds
// it exclusively while it checks WATCHed versions and runs the queued
// commands. Writes through other protocols are not ordered by that lock.
// WATCH records each key's entry version (cache.Metadata.Version, unique per
// write) and EXEC aborts if any changed.
package resp

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/hotgrid/hotgrid/cache"
	"github.com/hotgrid/hotgrid/config"
	"github.com/hotgrid/hotgrid/connset"
	"github.com/hotgrid/hotgrid/netloop"
	"github.com/hotgrid/hotgrid/security"
	"github.com/hotgrid/hotgrid/security/authz"
)

// DefaultCache is the cache of database 0, as in Infinispan.
const DefaultCache = "respCache"

// DefaultMaxRequestSize bounds one bulk argument (Redis' proto-max-bulk-len).
const DefaultMaxRequestSize = 512 << 20

// RedisVersion is the Redis version hotgrid reports; clients use it to
// decide which commands and options they may send.
const RedisVersion = "7.2.0"

// numDatabases is what CONFIG GET databases reports and the range of
// databases SELECT creates on demand.
const numDatabases = 16

// Options configure a Server.
type Options struct {
	Manager *cache.Manager
	Logger  *slog.Logger
	// DefaultCache is the cache of database 0; default "respCache".
	DefaultCache string
	// MaxRequestSize bounds a bulk argument; default 512 MiB.
	MaxRequestSize int
	// Guard, when set, requires AUTH (or HELLO … AUTH) before any other
	// command.
	Guard *security.Guard
	// EventLoops is how many event loops serve plain TCP connections (see
	// loop.go): 0 means one per CPU the Go runtime uses, a negative number
	// none (a goroutine per connection).
	EventLoops int
}

// Server serves RESP connections.
type Server struct {
	opts  Options
	log   *slog.Logger
	mgr   *cache.Manager
	start time.Time

	// execMu isolates EXEC from the commands of other connections.
	execMu sync.RWMutex

	nextID atomic.Int64

	pubsub  pubsub
	waiters waiters

	dbMu sync.Mutex // serialises database creation

	// CONFIG SET values, reported back by CONFIG GET.
	cfgMu  sync.Mutex
	cfgSet map[string]string

	conns connset.Set[*conn]

	loops *netloop.Group

	stats serverStats
}

type serverStats struct {
	totalConns    atomic.Int64
	totalCommands atomic.Int64
	rejected      atomic.Int64
}

// NewServer returns a Server for the caches of opts.Manager. The default
// cache is created if the configuration does not define it.
func NewServer(opts Options) *Server {
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	if opts.DefaultCache == "" {
		opts.DefaultCache = DefaultCache
	}
	if opts.MaxRequestSize <= 0 {
		opts.MaxRequestSize = DefaultMaxRequestSize
	}
	s := &Server{
		opts:   opts,
		log:    opts.Logger,
		mgr:    opts.Manager,
		start:  time.Now(),
		cfgSet: make(map[string]string),
		loops:  netloop.NewGroup(opts.EventLoops),
	}
	s.pubsub.init()
	s.waiters.init()
	// The node itself creates respCache, whoever connects first.
	if _, err := s.database(authz.WithSubject(context.Background(), authz.Internal()), 0); err != nil {
		s.log.Error("resp cache unavailable", "cache", opts.DefaultCache, "err", err)
	}
	return s
}

// errDBRange answers SELECT of a database that does not exist.
var errDBRange = errors.New("ERR DB index is out of range")

// database returns the cache of database db, creating it when hotgrid's
// rules say so (see the package comment) and ctx's subject may create
// caches.
func (s *Server) database(ctx context.Context, db int) (cache.Cache, error) {
	if db == 0 {
		if c, err := s.mgr.Cache(s.opts.DefaultCache); err == nil {
			return c, nil
		}
	}
	alias := strconv.Itoa(db)
	if c := s.byAlias(alias); c != nil {
		return c, nil
	}
	if db < 0 || db >= numDatabases {
		return nil, errDBRange
	}
	name := s.opts.DefaultCache
	if db > 0 {
		name += alias
	}
	s.dbMu.Lock()
	defer s.dbMu.Unlock()
	if c, err := s.mgr.Cache(name); err == nil {
		return c, nil
	}
	if err := s.mgr.Authorize(ctx, authz.Create); err != nil {
		return nil, err
	}
	cfg := config.NewCache(name, config.ModeLocal)
	cfg.KeyMediaType = "application/octet-stream"
	cfg.ValueMediaType = "application/octet-stream"
	cfg.Statistics = true
	cfg.Aliases = []string{alias}
	// Volatile: implicit caches are recreated at every start rather than
	// recorded as runtime-created caches.
	c, err := s.mgr.GetOrCreate(cfg, cache.CreateOptions{Volatile: true})
	if err != nil {
		return nil, fmt.Errorf("create %s: %w", name, err)
	}
	return c, nil
}

// byAlias finds the cache named alias or whose aliases include it.
func (s *Server) byAlias(alias string) cache.Cache {
	if c, err := s.mgr.Cache(alias); err == nil {
		return c
	}
	for _, n := range s.mgr.Names() {
		c, err := s.mgr.Cache(n)
		if err != nil {
			continue
		}
		if slices.Contains(c.Config().Aliases, alias) {
			return c
		}
	}
	return nil
}

// ErrServerClosed is returned by ServeConn once Shutdown has begun.
var ErrServerClosed = errors.New("resp: server closed")

// ServeConn serves one connection until it closes. prefix holds bytes
// already read from nc by protocol detection; they are parsed first.
func (s *Server) ServeConn(ctx context.Context, nc net.Conn, prefix []byte) error {
	c := newConn(s, nc, prefix)
	c.nc = c.adopt(ctx, nc)
	if !s.conns.Add(c, c.nc) {
		c.nc.Close()
		return ErrServerClosed
	}
	s.stats.totalConns.Add(1)
	defer func() {
		c.cleanup()
		s.conns.Remove(c)
	}()
	if c.loop.Conn != nil {
		return c.loop.Serve(func() error { return c.serve(ctx) })
	}
	return c.serve(ctx)
}

// Shutdown stops reading new commands: every connection answers the
// complete commands it has already received, flushes and closes; blocked
// clients are released. It waits for that until ctx is done, then closes
// what remains.
func (s *Server) Shutdown(ctx context.Context) error {
	err := s.conns.Shutdown(ctx, (*conn).wake)
	s.loops.Close()
	return err
}

// connections returns a snapshot of the open connections.
func (s *Server) connections() []*conn {
	var out []*conn
	s.conns.Each(func(c *conn) { out = append(out, c) })
	slices.SortFunc(out, func(a, b *conn) int { return int(a.id - b.id) })
	return out
}
