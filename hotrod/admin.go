package hotrod

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"strings"

	"github.com/hotgrid/hotgrid/cache"
	"github.com/hotgrid/hotgrid/config"
	"github.com/hotgrid/hotgrid/hotrod/wire"
	"github.com/hotgrid/hotgrid/security/authz"
)

// exec runs a server task. Only the admin tasks (@@cache@…) exist here.
func (c *conn) exec(ctx context.Context, cc cache.Cache) {
	task := string(c.req.task)
	params := make(map[string]string, len(c.req.params))
	for _, p := range c.req.params {
		params[string(p.key)] = string(p.value)
	}
	perm := authz.Exec
	switch task {
	case "@@cache@create", "@@cache@getorcreate", "@@cache@remove":
		perm = authz.Create
	case "@@cache@names":
		perm = authz.None
	}
	if err := c.srv.mgr.Authorize(ctx, perm); err != nil {
		c.failErr(err)
		return
	}
	result, err := c.srv.adminTask(task, params)
	if err != nil {
		c.fail(wire.StatusServerError, err.Error())
		return
	}
	b := c.out.lock()
	b = c.header(b, wire.StatusSuccess, cc)
	b = wire.AppendBytes(b, result)
	c.out.unlock(b)
}

// adminTask runs one @@context@operation task and returns its result.
func (s *Server) adminTask(task string, p map[string]string) ([]byte, error) {
	switch task {
	case "@@cache@create", "@@cache@getorcreate":
		name := p["name"]
		if name == "" {
			return nil, errors.New("ISPN005029: Missing required parameter 'name'")
		}
		cfg, err := CacheConfigFor(s.mgr, name, p["template"], p["configuration"])
		if err != nil {
			return nil, err
		}
		opts := cache.CreateOptions{Volatile: strings.Contains(p["flags"], "VOLATILE")}
		if task == "@@cache@create" {
			_, err = s.mgr.Create(cfg, opts)
			if errors.Is(err, cache.ErrExists) {
				return nil, fmt.Errorf("org.infinispan.commons.CacheConfigurationException: ISPN000507: Cache %s already exists", name)
			}
		} else {
			_, err = s.mgr.GetOrCreate(cfg, opts)
		}
		if err != nil {
			return nil, err
		}
		return nil, nil
	case "@@cache@remove":
		name := p["name"]
		if err := s.mgr.Remove(name); err != nil && !errors.Is(err, cache.ErrNotFound) {
			return nil, err
		}
		return nil, nil
	case "@@cache@names":
		return json.Marshal(s.mgr.Names())
	}
	return nil, fmt.Errorf("ISPN027001: Unknown task '%s'", task)
}

// CacheConfigFor builds the configuration of a cache created at runtime:
// from a configuration document (XML, JSON or YAML), or from a template
// (user-defined or org.infinispan.*), or else like the default cache.
func CacheConfigFor(m *cache.Manager, name, template, document string) (*config.Cache, error) {
	ctr := m.Container()
	var cfg *config.Cache
	switch {
	case strings.TrimSpace(document) != "":
		parsed, err := config.ParseCache(name, []byte(document), nil)
		if err != nil {
			return nil, fmt.Errorf("org.infinispan.commons.CacheConfigurationException: %w", err)
		}
		parsed.Name = name
		cfg, err = ctr.Resolve(parsed)
		if err != nil {
			return nil, fmt.Errorf("org.infinispan.commons.CacheConfigurationException: %w", err)
		}
	case template != "":
		t, ok := ctr.Template(template)
		if !ok {
			return nil, fmt.Errorf("org.infinispan.commons.CacheConfigurationException: ISPN000436: Cache '%s' has been requested, but no matching cache configuration exists", template)
		}
		cfg = copyCache(t)
	default:
		if def, err := m.Cache(""); err == nil {
			cfg = copyCache(def.Config())
		} else {
			cfg = config.NewCache(name, config.ModeLocal)
		}
	}
	cfg.Name = name
	cfg.Template = false
	return cfg, nil
}

func copyCache(c *config.Cache) *config.Cache {
	cp := *c
	cp.Set = maps.Clone(c.Set)
	return &cp
}
