package cache

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"sync"
	"sync/atomic"

	"github.com/hotgrid/hotgrid/config"
	"github.com/hotgrid/hotgrid/security/authz"
)

// ManagerOptions configure a Manager.
type ManagerOptions struct {
	// Container is the cache-container configuration: defined caches,
	// templates and the default cache name.
	Container *config.Container
	// StateDir, when set, is where caches created at runtime are recorded
	// so that they are recreated after a restart (SERVER_ROOT/data).
	StateDir string
	// NodeID makes entry versions unique across a cluster.
	NodeID uint16
	// Clock returns Unix milliseconds; nil means the wall clock.
	Clock  func() int64
	Logger *slog.Logger
	// Persistence opens the stores of a cache whose configuration has any
	// (package persistence provides it); nil refuses such caches.
	Persistence func(ctx context.Context, cfg *config.Cache) (Persister, error)
	// Authorization, when set, secures every cache: operations check the
	// subject their context carries (package authz). nil allows everything.
	Authorization *authz.Policy
}

// Manager owns the caches of a node.
type Manager struct {
	opts     ManagerOptions
	log      *slog.Logger
	versions *Versions

	// gen changes whenever a cache is created or removed, so that
	// protocol connections can keep resolved caches until it does.
	gen     atomic.Uint64
	mu      sync.RWMutex
	caches  map[string]*managed
	runtime map[string][]byte // runtime-created cache name -> JSON config
}

type managed struct {
	Cache
	c *container
}

// stateFile is the name of the runtime cache record inside StateDir.
const stateFile = "caches.json"

// NewManager starts the caches the configuration defines and those recorded
// in StateDir.
func NewManager(opts ManagerOptions) (*Manager, error) {
	if opts.Container == nil {
		opts.Container = &config.Container{Name: "default"}
	}
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	m := &Manager{
		opts:     opts,
		log:      opts.Logger,
		versions: NewVersions(opts.NodeID),
		caches:   make(map[string]*managed),
		runtime:  make(map[string][]byte),
	}
	for _, def := range opts.Container.Caches {
		cfg, err := opts.Container.Resolve(def)
		if err != nil {
			return nil, fmt.Errorf("cache %q: %w", def.Name, err)
		}
		if _, err := m.start(cfg); err != nil {
			m.Close()
			return nil, err
		}
	}
	if err := m.loadState(); err != nil {
		m.Close()
		return nil, err
	}
	return m, nil
}

// start builds a cache's layers from its configuration; this is the one
// place where the chain is assembled. m.mu is held or m is not yet shared.
func (m *Manager) start(cfg *config.Cache) (*managed, error) {
	var pers Persister
	if len(cfg.Persistence.Stores) > 0 {
		if m.opts.Persistence == nil {
			return nil, fmt.Errorf("cache %q: persistence is configured but no store implementation is available", cfg.Name)
		}
		var err error
		if pers, err = m.opts.Persistence(context.Background(), cfg); err != nil {
			return nil, fmt.Errorf("cache %q: %w", cfg.Name, err)
		}
	}
	c := newContainer(cfg, containerOptions{Versions: m.versions, Clock: m.opts.Clock, Persister: pers})
	if err := c.preload(context.Background()); err != nil {
		c.close(context.Background())
		return nil, fmt.Errorf("cache %q: preload: %w", cfg.Name, err)
	}
	// Layers (statistics, security, clustering, persistence) wrap the
	// container here as they are added; statistics live in the container
	// itself because they cost a per-segment atomic add.
	mc := &managed{Cache: c, c: c}
	if p := m.opts.Authorization; p != nil && !cfg.Authorization.Disabled {
		roles, err := p.RoleSet(cfg.Authorization.Roles)
		if err != nil {
			c.close(context.Background())
			return nil, fmt.Errorf("cache %q: %w", cfg.Name, err)
		}
		mc.Cache = &secured{Cache: c, policy: p, roles: roles}
	}
	m.caches[cfg.Name] = mc
	m.gen.Add(1)
	return mc, nil
}

// Generation returns a number that changes whenever a cache is created or
// removed.
func (m *Manager) Generation() uint64 { return m.gen.Load() }

// DefaultCacheName returns the configured default cache name, or "".
func (m *Manager) DefaultCacheName() string { return m.opts.Container.DefaultCache }

// Cache returns the named cache; "" names the default cache.
func (m *Manager) Cache(name string) (Cache, error) {
	if name == "" {
		name = m.opts.Container.DefaultCache
		if name == "" {
			return nil, fmt.Errorf("%w: no default cache is defined", ErrNotFound)
		}
	}
	m.mu.RLock()
	c := m.caches[name]
	m.mu.RUnlock()
	if c == nil {
		return nil, fmt.Errorf("%w: cache %q", ErrNotFound, name)
	}
	return c, nil
}

// Authorize checks that ctx's subject holds p on the cache container
// (creating and removing caches, administration, monitoring). It allows
// everything on a manager without authorization.
func (m *Manager) Authorize(ctx context.Context, p authz.Permission) error {
	return m.opts.Authorization.Check(ctx, "", authz.AllRoles, p)
}

// Policy returns the manager's authorization policy, nil if none.
func (m *Manager) Policy() *authz.Policy { return m.opts.Authorization }

// Names returns the cache names, sorted.
func (m *Manager) Names() []string {
	m.mu.RLock()
	names := make([]string, 0, len(m.caches))
	for n := range m.caches {
		names = append(names, n)
	}
	m.mu.RUnlock()
	sort.Strings(names)
	return names
}

// Container returns the cache-container configuration.
func (m *Manager) Container() *config.Container { return m.opts.Container }

// CreateOptions qualify a runtime cache creation.
type CreateOptions struct {
	// Volatile caches are not recorded in StateDir (Infinispan's VOLATILE
	// admin flag); others survive a restart.
	Volatile bool
}

// Create starts a new cache from cfg (already resolved against templates)
// and fails with ErrExists if the name is taken.
func (m *Manager) Create(cfg *config.Cache, o CreateOptions) (Cache, error) {
	return m.create(cfg, o, false)
}

// GetOrCreate returns the named cache, creating it from cfg if absent.
func (m *Manager) GetOrCreate(cfg *config.Cache, o CreateOptions) (Cache, error) {
	return m.create(cfg, o, true)
}

func (m *Manager) create(cfg *config.Cache, o CreateOptions, existingOK bool) (Cache, error) {
	if cfg.Name == "" {
		return nil, fmt.Errorf("%w: a cache needs a name", ErrInvalidRequest)
	}
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("cache %q: %w", cfg.Name, err)
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if c := m.caches[cfg.Name]; c != nil {
		if existingOK {
			return c, nil
		}
		return nil, fmt.Errorf("%w: cache %q", ErrExists, cfg.Name)
	}
	mc, err := m.start(cfg)
	if err != nil {
		return nil, err
	}
	if !o.Volatile && m.opts.StateDir != "" {
		m.runtime[cfg.Name] = cfg.JSON()
		if err := m.saveState(); err != nil {
			mc.c.close(context.Background())
			delete(m.caches, cfg.Name)
			delete(m.runtime, cfg.Name)
			return nil, err
		}
	}
	m.log.Info("cache created", "cache", cfg.Name)
	return mc, nil
}

// Remove stops and deletes the named cache and its entries.
func (m *Manager) Remove(name string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	c := m.caches[name]
	if c == nil {
		return fmt.Errorf("%w: cache %q", ErrNotFound, name)
	}
	if err := c.c.close(context.Background()); err != nil {
		m.log.Error("cache stores did not close cleanly", "cache", name, "err", err)
	}
	delete(m.caches, name)
	m.gen.Add(1)
	if _, ok := m.runtime[name]; ok {
		delete(m.runtime, name)
		if err := m.saveState(); err != nil {
			return err
		}
	}
	m.log.Info("cache removed", "cache", name)
	return nil
}

// Restore puts an entry into the named cache with the metadata it carries
// (a backup's entry: same version, creation time and expiry), through the
// cache's stores and without listener events.
func (m *Manager) Restore(ctx context.Context, name string, e Entry) error {
	m.mu.RLock()
	mc := m.caches[name]
	m.mu.RUnlock()
	if mc == nil {
		return fmt.Errorf("%w: cache %q", ErrNotFound, name)
	}
	return mc.c.restore(ctx, e)
}

// Config returns the configuration of the named cache and whether it was
// created at runtime (rather than defined in the server configuration).
func (m *Manager) Config(name string) (cfg *config.Cache, runtime bool, err error) {
	m.mu.RLock()
	defer m.mu.RUnlock()
	mc := m.caches[name]
	if mc == nil {
		return nil, false, fmt.Errorf("%w: cache %q", ErrNotFound, name)
	}
	_, runtime = m.runtime[name]
	return mc.Config(), runtime, nil
}

// Close stops every cache: pending store writes are flushed, memory is
// passivated where configured and the stores are closed.
func (m *Manager) Close() {
	m.mu.Lock()
	defer m.mu.Unlock()
	for name, c := range m.caches {
		if err := c.c.close(context.Background()); err != nil {
			m.log.Error("cache stores did not close cleanly", "cache", name, "err", err)
		}
	}
}

// state is the on-disk record of runtime-created caches.
type state struct {
	Caches map[string]json.RawMessage `json:"caches"`
}

func (m *Manager) loadState() error {
	if m.opts.StateDir == "" {
		return nil
	}
	path := filepath.Join(m.opts.StateDir, stateFile)
	data, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("read cache state: %w", err)
	}
	var st state
	if err := json.Unmarshal(data, &st); err != nil {
		return fmt.Errorf("read cache state %s: %w", path, err)
	}
	names := make([]string, 0, len(st.Caches))
	for n := range st.Caches {
		names = append(names, n)
	}
	slices.Sort(names)
	for _, name := range names {
		doc := st.Caches[name]
		cfg, err := config.ParseCache(name, doc, nil)
		if err != nil {
			return fmt.Errorf("cache state %s: cache %q: %w", path, name, err)
		}
		if _, ok := m.caches[name]; ok {
			m.log.Warn("runtime cache shadowed by a configured cache", "cache", name)
			continue
		}
		if _, err := m.start(cfg); err != nil {
			return fmt.Errorf("cache state %s: %w", path, err)
		}
		m.runtime[name] = doc
	}
	return nil
}

// saveState writes the runtime cache record atomically; m.mu is held.
func (m *Manager) saveState() error {
	st := state{Caches: make(map[string]json.RawMessage, len(m.runtime))}
	for n, doc := range m.runtime {
		st.Caches[n] = doc
	}
	data, err := json.MarshalIndent(st, "", "  ")
	if err != nil {
		return err
	}
	if err := os.MkdirAll(m.opts.StateDir, 0o755); err != nil {
		return fmt.Errorf("save cache state: %w", err)
	}
	path := filepath.Join(m.opts.StateDir, stateFile)
	tmp := path + ".tmp"
	f, err := os.Create(tmp)
	if err != nil {
		return fmt.Errorf("save cache state: %w", err)
	}
	_, werr := f.Write(data)
	serr := f.Sync()
	cerr := f.Close()
	if err := errors.Join(werr, serr, cerr); err != nil {
		os.Remove(tmp)
		return fmt.Errorf("save cache state %s: %w", tmp, err)
	}
	if err := os.Rename(tmp, path); err != nil {
		return fmt.Errorf("save cache state: %w", err)
	}
	// Make the rename itself durable.
	if d, err := os.Open(m.opts.StateDir); err == nil {
		d.Sync()
		d.Close()
	}
	return nil
}
