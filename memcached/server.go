// Package memcached serves the memcached protocols — text (classic and meta
// commands) and binary — on top of the cache.Cache interface, so memcached
// clients and tools read and write the same entries as Hot Rod, REST and
// RESP clients.
//
// A connection speaks binary if its first byte is 0x80 and text otherwise,
// as memcached decides. Each connection is served by one goroutine that
// answers every complete request in its read buffer into one output buffer
// and flushes once per batch. Values are stored as their data bytes (entry
// Kind 0); the 32-bit client flags live in cache.Metadata.Flags and the CAS
// unique is the entry version.
package memcached

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"sync"
	"sync/atomic"
	"time"

	"github.com/hotgrid/hotgrid/cache"
	"github.com/hotgrid/hotgrid/config"
	"github.com/hotgrid/hotgrid/connset"
	"github.com/hotgrid/hotgrid/netloop"
	"github.com/hotgrid/hotgrid/security"
)

// DefaultCache is the cache memcached clients use, as in Infinispan.
const DefaultCache = "memcachedCache"

// DefaultMaxItemSize is memcached's default item size limit (-I 1m).
const DefaultMaxItemSize = 1 << 20

// Version is the memcached protocol level hotgrid reports in VERSION and
// stats; clients use it to detect features (meta commands need 1.6).
const Version = "1.6.21"

// Options configure a Server.
type Options struct {
	Manager *cache.Manager
	Logger  *slog.Logger
	// Cache is the cache served; default "memcachedCache". It is created
	// (local, keys text/plain, values application/octet-stream, statistics
	// on) when the configuration does not define it.
	Cache string
	// MaxItemSize bounds a stored value; default 1 MiB like memcached.
	MaxItemSize int
	// Guard, when set, requires authentication: text connections first
	// send "set <key> 0 0 <n>" with "<user> <password>" as data, binary
	// connections use SASL.
	Guard *security.Guard
	// EventLoops is how many event loops serve plain TCP connections (see
	// loop.go): 0 means one per CPU the Go runtime uses, a negative number
	// none (a goroutine per connection).
	EventLoops int
}

// Server serves memcached connections.
type Server struct {
	opts  Options
	log   *slog.Logger
	mgr   *cache.Manager
	start time.Time

	stats serverStats

	loops *netloop.Group

	// flushMu guards the pending delayed flush_all.
	flushMu    sync.Mutex
	flushTimer *time.Timer

	conns connset.Set[*conn]
}

// NewServer returns a Server for the caches of opts.Manager. The served
// cache is created on first use if it does not exist.
func NewServer(opts Options) *Server {
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	if opts.Cache == "" {
		opts.Cache = DefaultCache
	}
	if opts.MaxItemSize <= 0 {
		opts.MaxItemSize = DefaultMaxItemSize
	}
	s := &Server{
		opts:  opts,
		log:   opts.Logger,
		mgr:   opts.Manager,
		start: time.Now(),
		loops: netloop.NewGroup(opts.EventLoops),
	}
	if _, err := s.cache(); err != nil {
		s.log.Error("memcached cache unavailable", "cache", opts.Cache, "err", err)
	}
	return s
}

// cache returns the served cache, creating it if needed.
func (s *Server) cache() (cache.Cache, error) {
	c, err := s.mgr.Cache(s.opts.Cache)
	if err == nil {
		return c, nil
	}
	if !errors.Is(err, cache.ErrNotFound) {
		return nil, err
	}
	cfg := config.NewCache(s.opts.Cache, config.ModeLocal)
	cfg.KeyMediaType = "text/plain"
	cfg.ValueMediaType = "application/octet-stream"
	cfg.Statistics = true
	// Volatile: the cache is implicit, recreated at every start rather
	// than recorded as a runtime-created cache.
	return s.mgr.GetOrCreate(cfg, cache.CreateOptions{Volatile: true})
}

// ErrServerClosed is returned by ServeConn once Shutdown has begun.
var ErrServerClosed = errors.New("memcached: server closed")

// ServeConn serves one connection until it closes. prefix holds bytes
// already read from nc by protocol detection; they are parsed first.
func (s *Server) ServeConn(ctx context.Context, nc net.Conn, prefix []byte) error {
	c := newConn(s, nc, prefix)
	c.nc = c.adopt(ctx, nc)
	if !s.conns.Add(c, c.nc) {
		c.nc.Close()
		return ErrServerClosed
	}
	s.stats.currConns.Add(1)
	s.stats.totalConns.Add(1)
	defer func() {
		s.stats.currConns.Add(-1)
		s.conns.Remove(c)
	}()
	if c.loop.Conn != nil {
		return c.loop.Serve(func() error { return c.serve(ctx) })
	}
	return c.serve(ctx)
}

// Shutdown stops reading new requests: every connection answers the
// complete requests it has already received, flushes and closes. It waits
// for that until ctx is done, then closes what remains.
func (s *Server) Shutdown(ctx context.Context) error {
	s.flushMu.Lock()
	if s.flushTimer != nil {
		s.flushTimer.Stop()
	}
	s.flushMu.Unlock()
	err := s.conns.Shutdown(ctx, nil)
	s.loops.Close()
	return err
}

// flushAll clears the cache now or after delay seconds; a later flush_all
// replaces a pending delayed one, as memcached keeps one flush time.
func (s *Server) flushAll(ctx context.Context, cc cache.Cache, delay int64) error {
	s.flushMu.Lock()
	defer s.flushMu.Unlock()
	if s.flushTimer != nil {
		s.flushTimer.Stop()
		s.flushTimer = nil
	}
	if delay <= 0 {
		return cc.Clear(ctx)
	}
	s.flushTimer = time.AfterFunc(time.Duration(delay)*time.Second, func() {
		if err := cc.Clear(context.Background()); err != nil {
			s.log.Warn("memcached delayed flush_all", "err", err)
		}
	})
	return nil
}

// counters are the memcached statistics a connection gathers; they are
// folded into the server's totals once per batch so that requests do not
// contend on shared cache lines.
type counters struct {
	cmdGet, cmdSet, cmdFlush, cmdTouch, cmdMeta uint64
	getHits, getMisses                          uint64
	deleteHits, deleteMisses                    uint64
	incrHits, incrMisses, decrHits, decrMisses  uint64
	casHits, casMisses, casBadval               uint64
	touchHits, touchMisses                      uint64
	storeTooLarge, totalItems                   uint64
	bytesRead, bytesWritten                     uint64
}

type serverStats struct {
	mu         sync.Mutex
	c          counters
	currConns  atomic.Int64
	totalConns atomic.Uint64
}

func (s *serverStats) add(c *counters) {
	s.mu.Lock()
	t := &s.c
	t.cmdGet += c.cmdGet
	t.cmdSet += c.cmdSet
	t.cmdFlush += c.cmdFlush
	t.cmdTouch += c.cmdTouch
	t.cmdMeta += c.cmdMeta
	t.getHits += c.getHits
	t.getMisses += c.getMisses
	t.deleteHits += c.deleteHits
	t.deleteMisses += c.deleteMisses
	t.incrHits += c.incrHits
	t.incrMisses += c.incrMisses
	t.decrHits += c.decrHits
	t.decrMisses += c.decrMisses
	t.casHits += c.casHits
	t.casMisses += c.casMisses
	t.casBadval += c.casBadval
	t.touchHits += c.touchHits
	t.touchMisses += c.touchMisses
	t.storeTooLarge += c.storeTooLarge
	t.totalItems += c.totalItems
	t.bytesRead += c.bytesRead
	t.bytesWritten += c.bytesWritten
	s.mu.Unlock()
	*c = counters{}
}

func (s *serverStats) reset() {
	s.mu.Lock()
	s.c = counters{}
	s.mu.Unlock()
}

// stat is one name/value pair of a stats reply.
type stat struct {
	name, value string
}

// generalStats returns the "stats" reply, in memcached's order for the
// names it shares with memcached.
func (s *Server) generalStats(ctx context.Context, cc cache.Cache) []stat {
	s.stats.mu.Lock()
	t := s.stats.c
	s.stats.mu.Unlock()
	var items, bytes, evictions int64
	if cc != nil {
		items, _ = cc.Size(ctx)
		st := cc.Stats()
		bytes, evictions = st.DataMemory, st.Evictions
	}
	now := time.Now()
	u := func(v uint64) string { return fmt.Sprint(v) }
	i := func(v int64) string { return fmt.Sprint(v) }
	return []stat{
		{"pid", fmt.Sprint(os.Getpid())},
		{"uptime", i(int64(now.Sub(s.start) / time.Second))},
		{"time", i(now.Unix())},
		{"version", Version},
		{"pointer_size", "64"},
		{"rusage_user", "0.000000"},
		{"rusage_system", "0.000000"},
		{"max_connections", "0"},
		{"curr_connections", i(s.stats.currConns.Load())},
		{"total_connections", u(s.stats.totalConns.Load())},
		{"rejected_connections", "0"},
		{"connection_structures", i(s.stats.currConns.Load())},
		{"cmd_get", u(t.cmdGet)},
		{"cmd_set", u(t.cmdSet)},
		{"cmd_flush", u(t.cmdFlush)},
		{"cmd_touch", u(t.cmdTouch)},
		{"cmd_meta", u(t.cmdMeta)},
		{"get_hits", u(t.getHits)},
		{"get_misses", u(t.getMisses)},
		{"get_expired", "0"},
		{"get_flushed", "0"},
		{"delete_misses", u(t.deleteMisses)},
		{"delete_hits", u(t.deleteHits)},
		{"incr_misses", u(t.incrMisses)},
		{"incr_hits", u(t.incrHits)},
		{"decr_misses", u(t.decrMisses)},
		{"decr_hits", u(t.decrHits)},
		{"cas_misses", u(t.casMisses)},
		{"cas_hits", u(t.casHits)},
		{"cas_badval", u(t.casBadval)},
		{"touch_hits", u(t.touchHits)},
		{"touch_misses", u(t.touchMisses)},
		{"store_too_large", u(t.storeTooLarge)},
		{"store_no_memory", "0"},
		{"auth_cmds", "0"},
		{"auth_errors", "0"},
		{"bytes_read", u(t.bytesRead)},
		{"bytes_written", u(t.bytesWritten)},
		{"limit_maxbytes", "0"},
		{"accepting_conns", "1"},
		{"threads", "1"},
		{"bytes", i(bytes)},
		{"curr_items", i(items)},
		{"total_items", u(t.totalItems)},
		{"evictions", i(evictions)},
		{"reclaimed", "0"},
	}
}

// settingsStats is the "stats settings" reply: the settings hotgrid has.
func (s *Server) settingsStats() []stat {
	return []stat{
		{"maxbytes", "0"},
		{"maxconns", "0"},
		{"tcpport", "0"},
		{"verbosity", "0"},
		{"evictions", "on"},
		{"cas_enabled", "yes"},
		{"binding_protocol", "auto-negotiate"},
		{"auth_enabled_sasl", "no"},
		{"auth_enabled_ascii", "no"},
		{"item_size_max", fmt.Sprint(s.opts.MaxItemSize)},
		{"flush_enabled", "yes"},
	}
}

// itemsStats is "stats items": hotgrid has no slab classes, so everything
// is reported as class 1, and nothing when the cache is empty, as memcached
// does.
func (s *Server) itemsStats(ctx context.Context, cc cache.Cache) []stat {
	if cc == nil {
		return nil
	}
	n, _ := cc.Size(ctx)
	if n == 0 {
		return nil
	}
	st := cc.Stats()
	return []stat{
		{"items:1:number", fmt.Sprint(n)},
		{"items:1:age", "0"},
		{"items:1:mem_requested", fmt.Sprint(st.DataMemory)},
		{"items:1:evicted", fmt.Sprint(st.Evictions)},
	}
}

// slabsStats is "stats slabs": no slabs.
func (s *Server) slabsStats() []stat {
	return []stat{{"active_slabs", "0"}, {"total_malloced", "0"}}
}
