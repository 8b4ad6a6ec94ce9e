// Package server wires a hotgrid node together: it reads the configuration,
// starts the cache manager, listens on the single port, detects each
// connection's protocol from its first bytes and hands it to that
// protocol's server, and shuts everything down in order.
package server

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"time"

	"github.com/hotgrid/hotgrid/backup"
	"github.com/hotgrid/hotgrid/cache"
	"github.com/hotgrid/hotgrid/config"
	"github.com/hotgrid/hotgrid/hotrod"
	"github.com/hotgrid/hotgrid/memcached"
	"github.com/hotgrid/hotgrid/resp"
)

// Version is hotgrid's version, reported to clients.
const Version = "0.1.0"

// Options configure a node. Zero values take the defaults of DESIGN.md's
// contracts.
type Options struct {
	BindAddress string // default 127.0.0.1 (or the configuration's)
	Port        int    // default 11222 (or the configuration's); 0 picks a free port when PortSet
	PortSet     bool   // Port was given explicitly
	ServerRoot  string // holds conf/ and data/; "" keeps nothing on disk
	// ServerConfig is an Infinispan server configuration file; a relative
	// path resolves in ServerRoot/conf.
	ServerConfig string
	NodeName     string
	// Properties are -D name=value overrides for ${name} expressions.
	Properties map[string]string
	Logger     *slog.Logger
	// Start is when the process started, for the "started in" line.
	Start time.Time
	// MaxRequestSize bounds declared lengths in requests.
	MaxRequestSize int
	// RESPPort and MemcachedPort, when set, add a port that serves only
	// that protocol (no detection), like a connector with its own
	// socket binding in the configuration.
	RESPPort, MemcachedPort int
	// AllowUnauthenticated lets a node without users serve on a
	// non-loopback address (a trusted network); without it such a node
	// refuses to start.
	AllowUnauthenticated bool
	// EventLoops is how many event loops serve plain TCP Hot Rod, RESP
	// and memcached connections (each protocol has its own): 0 one per
	// CPU, -1 none (see resp.Options).
	EventLoops int
}

// Node is a running hotgrid server.
type Node struct {
	opts Options
	log  *slog.Logger
	cfg  *config.Server
	mgr  *cache.Manager
	sec  *nodeSecurity
	// backups runs REST backup and restore operations.
	backups *backup.Jobs
	hotrod  *hotrod.Server
	mc      *memcached.Server
	resp    *resp.Server
	http    *http.Server
	httpLn  *connListener

	ln   net.Listener
	addr *net.TCPAddr
	// dedicated are the per-protocol listeners, by protocol name.
	dedicated map[string]net.Listener

	// detectors decide each connection's protocol, in order.
	detectors []detector
	// pending holds connections whose protocol is not yet known.
	pendingMu sync.Mutex
	pending   map[net.Conn]struct{}

	ready    chan struct{}
	stopOnce sync.Once
	// stopCtx ends background work (certificate reloads) at shutdown.
	stopCtx    context.Context
	stopCancel context.CancelFunc
	wg         sync.WaitGroup
}

// New reads the configuration and prepares a node; Start serves it.
func New(opts Options) (*Node, error) {
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	if opts.Start.IsZero() {
		opts.Start = time.Now()
	}
	props := map[string]string{}
	for k, v := range opts.Properties {
		props[k] = v
	}
	if opts.ServerRoot != "" {
		root, err := filepath.Abs(opts.ServerRoot)
		if err != nil {
			return nil, fmt.Errorf("server root: %w", err)
		}
		opts.ServerRoot = root
		setDefault(props, "infinispan.server.root.path", root)
		setDefault(props, "infinispan.server.config.path", filepath.Join(root, "conf"))
		setDefault(props, "infinispan.server.data.path", filepath.Join(root, "data"))
	}
	if opts.BindAddress != "" {
		props["infinispan.bind.address"] = opts.BindAddress
	}
	if opts.NodeName != "" {
		props["infinispan.node.name"] = opts.NodeName
	}

	var (
		cfg  *config.Server
		warn []config.Warning
		err  error
	)
	if opts.ServerConfig != "" {
		path := opts.ServerConfig
		if !filepath.IsAbs(path) && opts.ServerRoot != "" {
			path = filepath.Join(opts.ServerRoot, "conf", path)
		}
		cfg, warn, err = config.Load(path, props)
		if err != nil {
			return nil, err
		}
	} else {
		cfg = config.Default()
	}
	for _, w := range warn {
		opts.Logger.Warn("configuration", "file", opts.ServerConfig, "warning", w.String())
	}

	n := &Node{
		opts:    opts,
		log:     opts.Logger,
		cfg:     cfg,
		ready:   make(chan struct{}),
		pending: make(map[net.Conn]struct{}),
	}
	n.stopCtx, n.stopCancel = context.WithCancel(context.Background())
	sec, err := n.setupSecurity(props, opts.ServerConfig == "")
	if err != nil {
		return nil, err
	}
	n.sec = sec
	var stateDir string
	if opts.ServerRoot != "" {
		stateDir = filepath.Join(opts.ServerRoot, "data")
	}
	mgr, err := cache.NewManager(cache.ManagerOptions{
		Container: &cfg.Container,
		StateDir:  stateDir,
		Logger:    opts.Logger,
		Persistence: func(ctx context.Context, c *config.Cache) (cache.Persister, error) {
			return openPersistence(ctx, stateDir, c, opts.Logger)
		},
		Authorization: sec.policy,
	})
	if err != nil {
		return nil, err
	}
	var backupDir string // "" lets the first backup make a temporary one
	if stateDir != "" {
		backupDir = filepath.Join(stateDir, "backups")
	}
	n.mgr = mgr
	n.backups = backup.NewJobs(mgr, backupDir, Version, opts.Logger)
	n.hotrod = hotrod.NewServer(hotrod.Options{
		Manager:        mgr,
		Logger:         opts.Logger,
		MaxRequestSize: opts.MaxRequestSize,
		ServerVersion:  Version,
		Topology:       n.topology,
		Guard:          sec.guard,
		EventLoops:     opts.EventLoops,
	})
	n.mc = memcached.NewServer(memcached.Options{Manager: mgr, Logger: opts.Logger, Guard: sec.guard, EventLoops: opts.EventLoops})
	n.resp = resp.NewServer(resp.Options{Manager: mgr, Logger: opts.Logger, Guard: sec.guard, EventLoops: opts.EventLoops})
	// Order matters: binary magic bytes first, then HTTP request lines,
	// then the text protocols. memcached claims only its lower-case
	// commands with valid arguments; RESP claims arrays and any other
	// inline command it knows.
	n.detectors = []detector{
		{name: "hotrod", detect: detectHotRod, srv: n.hotrod},
		{name: "http", detect: detectHTTP},
		{name: "memcached", detect: memcached.Detect, srv: n.mc},
		{name: "resp", detect: resp.Detect, srv: n.resp},
	}
	n.httpLn = newConnListener()
	handler, err := n.httpHandler()
	if err != nil {
		mgr.Close()
		return nil, err
	}
	n.http = &http.Server{
		Handler:           handler,
		ReadHeaderTimeout: 30 * time.Second,
		ErrorLog:          slog.NewLogLogger(opts.Logger.Handler(), slog.LevelDebug),
	}
	return n, nil
}

func setDefault(m map[string]string, k, v string) {
	if _, ok := m[k]; !ok {
		m[k] = v
	}
}

// Manager returns the node's cache manager.
func (n *Node) Manager() *cache.Manager { return n.mgr }

// Addr returns the address the node listens on, once started.
func (n *Node) Addr() *net.TCPAddr { return n.addr }

// listenAddress works out host:port from the flags and the configuration's
// endpoint socket binding; explicit flags win.
func (n *Node) listenAddress() string {
	host, port := "127.0.0.1", 11222
	sb := n.cfg.SocketBindings
	binding := n.cfg.Endpoints.SocketBinding
	for _, b := range sb.Bindings {
		if b.Name != binding && binding != "" {
			continue
		}
		iface := b.Interface
		if iface == "" {
			iface = sb.DefaultInterface
		}
		for _, i := range n.cfg.Interfaces {
			if i.Name == iface && i.Address != "" {
				host = i.Address
			}
		}
		port = b.Port + sb.PortOffset
		break
	}
	if n.opts.BindAddress != "" {
		host = n.opts.BindAddress
	}
	if n.opts.PortSet {
		port = n.opts.Port
	}
	return net.JoinHostPort(host, strconv.Itoa(port))
}

// Start listens and serves in the background; it returns once the node
// accepts connections.
func (n *Node) Start(ctx context.Context) error {
	addr := n.listenAddress()
	if host, _, _ := net.SplitHostPort(addr); n.sec.guard == nil && !isLoopback(host) && !n.opts.AllowUnauthenticated {
		n.mgr.Close()
		return errOpenNode(addr)
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		n.mgr.Close()
		return fmt.Errorf("listen on %s: %w", addr, err)
	}
	n.ln = ln
	n.addr = ln.Addr().(*net.TCPAddr)
	n.wg.Add(2)
	go func() {
		defer n.wg.Done()
		// Serve ends with net.ErrClosed when Shutdown closes the
		// listener that detection feeds; that is a clean stop.
		if err := n.http.Serve(n.httpLn); err != nil && !errors.Is(err, http.ErrServerClosed) && !errors.Is(err, net.ErrClosed) {
			n.log.Error("http server", "err", err)
		}
	}()
	go func() {
		defer n.wg.Done()
		n.acceptLoop(ctx)
	}()
	if err := n.startDedicated(ctx); err != nil {
		ln.Close()
		n.mgr.Close()
		return err
	}
	if n.sec.tls != nil {
		n.wg.Add(1)
		go func() {
			defer n.wg.Done()
			n.sec.tls.Watch(n.stopCtx)
		}()
	}
	close(n.ready)
	if n.sec.guard == nil {
		n.log.Warn("no users are defined: every endpoint serves without authentication (create one with `hotgrid user create`)")
	}
	n.log.Info(fmt.Sprintf("hotgrid %s started in %d ms", Version, time.Since(n.opts.Start).Milliseconds()),
		"address", n.addr.String(), "caches", len(n.mgr.Names()), "pid", os.Getpid())
	return nil
}

func (n *Node) acceptLoop(ctx context.Context) {
	var delay time.Duration
	for {
		nc, err := n.ln.Accept()
		if err != nil {
			if errors.Is(err, net.ErrClosed) {
				return
			}
			// Temporary failures (EMFILE …): back off, as net/http does.
			delay = min(max(2*delay, 5*time.Millisecond), time.Second)
			n.log.Warn("accept", "err", err, "retry", delay)
			time.Sleep(delay)
			continue
		}
		delay = 0
		n.wg.Add(1)
		go func() {
			defer n.wg.Done()
			n.route(ctx, nc)
		}()
	}
}

// Shutdown stops accepting, lets in-flight requests finish and closes the
// caches. It waits until ctx is done at most.
func (n *Node) Shutdown(ctx context.Context) error {
	var err error
	n.stopOnce.Do(func() {
		n.stopCancel()
		if n.ln != nil {
			n.ln.Close()
		}
		for _, l := range n.dedicated {
			l.Close()
		}
		n.closePending()
		n.httpLn.Close()
		err = errors.Join(
			n.hotrod.Shutdown(ctx),
			n.mc.Shutdown(ctx),
			n.resp.Shutdown(ctx),
			n.http.Shutdown(ctx),
		)
		done := make(chan struct{})
		go func() { n.wg.Wait(); close(done) }()
		select {
		case <-done:
		case <-ctx.Done():
			err = errors.Join(err, ctx.Err())
		}
		n.backups.Close()
		n.mgr.Close()
		n.log.Info("hotgrid stopped")
	})
	return err
}

// dedicatedPorts works out the protocols served on ports of their own:
// connectors with a socket binding other than the endpoint's, then the
// --resp-port and --memcached-port flags, which win.
func (n *Node) dedicatedPorts() map[string]string {
	ports := map[string]string{}
	host := n.addr.IP.String()
	sb := n.cfg.SocketBindings
	for _, c := range n.cfg.Endpoints.Connectors {
		if c.SocketBinding == "" || c.SocketBinding == n.cfg.Endpoints.SocketBinding {
			continue
		}
		for _, b := range sb.Bindings {
			if b.Name == c.SocketBinding {
				ports[c.Protocol] = net.JoinHostPort(host, strconv.Itoa(b.Port+sb.PortOffset))
			}
		}
	}
	if n.opts.RESPPort > 0 {
		ports["resp"] = net.JoinHostPort(host, strconv.Itoa(n.opts.RESPPort))
	}
	if n.opts.MemcachedPort > 0 {
		ports["memcached"] = net.JoinHostPort(host, strconv.Itoa(n.opts.MemcachedPort))
	}
	return ports
}

// startDedicated listens on the dedicated ports and serves each with its
// protocol alone.
func (n *Node) startDedicated(ctx context.Context) error {
	servers := map[string]connServer{"resp": n.resp, "memcached": n.mc, "hotrod": n.hotrod}
	n.dedicated = map[string]net.Listener{}
	for proto, addr := range n.dedicatedPorts() {
		srv := servers[proto]
		if srv == nil {
			return fmt.Errorf("a dedicated port for %s is not supported", proto)
		}
		ln, err := net.Listen("tcp", addr)
		if err != nil {
			for _, l := range n.dedicated {
				l.Close()
			}
			return fmt.Errorf("listen on %s for %s: %w", addr, proto, err)
		}
		if n.sec.tls != nil {
			ln = tls.NewListener(ln, n.sec.tlsConfig)
		}
		n.dedicated[proto] = ln
		n.log.Info("dedicated port", "protocol", proto, "address", ln.Addr().String())
		n.wg.Add(1)
		go func() {
			defer n.wg.Done()
			for {
				nc, err := ln.Accept()
				if err != nil {
					return
				}
				n.wg.Add(1)
				go func() {
					defer n.wg.Done()
					if err := srv.ServeConn(ctx, nc, nil); err != nil {
						n.log.Debug("connection closed", "protocol", proto, "err", err)
					}
				}()
			}
		}()
	}
	return nil
}

// topology is the single-member topology of this node.
func (n *Node) topology() *hotrod.Topology {
	if n.addr == nil {
		return nil
	}
	host := n.addr.IP.String()
	if n.addr.IP.IsUnspecified() {
		host = "" // the address each client connected to
	}
	return &hotrod.Topology{ID: 1, Members: []hotrod.Member{{Host: host, Port: n.addr.Port}}}
}
