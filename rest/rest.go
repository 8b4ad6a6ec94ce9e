// Package rest serves Infinispan's REST API v2 (/rest/v2/...) on top of the
// cache manager: caches (list, create from a template or a configuration,
// exists, remove, details, config, stats, size, clear, keys, entries),
// entries (CRUD with key and value media types, key encodings, expiration
// headers, ETag and conditional requests), and the container, cache
// manager, health and server resources.
package rest

import (
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"strings"

	"github.com/hotgrid/hotgrid/backup"
	"github.com/hotgrid/hotgrid/cache"
	"github.com/hotgrid/hotgrid/config"
	"github.com/hotgrid/hotgrid/security/authz"
)

// InfinispanVersion is the Infinispan release whose REST API this package
// follows; clients such as Lithops check the version field against it.
const InfinispanVersion = "15.0.0.Final"

// Options configure the handler.
type Options struct {
	Manager       *cache.Manager
	Logger        *slog.Logger
	NodeName      string
	ClusterName   string
	ServerVersion string // hotgrid's own version
	// Ready reports whether the node serves; health is FAILED until then.
	Ready func() bool
	// CacheConfigFor builds a runtime cache's configuration from a
	// template name or a configuration document.
	CacheConfigFor func(name, template, document string) (*config.Cache, error)
	// MaxContentLength bounds request bodies; default 10 MiB as Infinispan.
	MaxContentLength int64
	// Backups runs container backups and restores; nil answers 501.
	Backups *backup.Jobs
	// UploadDir holds uploaded archives while they are restored ("" is
	// the system's temporary directory).
	UploadDir string
}

type handler struct {
	o   Options
	mgr *cache.Manager
	log *slog.Logger
}

// NewHandler returns the REST API handler; mount it at "/rest/".
func NewHandler(o Options) http.Handler {
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	if o.MaxContentLength <= 0 {
		o.MaxContentLength = 10 << 20
	}
	if o.NodeName == "" {
		o.NodeName = "hotgrid"
	}
	if o.ClusterName == "" {
		o.ClusterName = "cluster"
	}
	if o.Ready == nil {
		o.Ready = func() bool { return true }
	}
	return &handler{o: o, mgr: o.Manager, log: o.Logger}
}

// httpError is an error with the status Infinispan answers it with.
type httpError struct {
	status int
	msg    string
}

func (e *httpError) Error() string { return e.msg }

func errorf(status int, format string, args ...any) error {
	return &httpError{status, fmt.Sprintf(format, args...)}
}

// fail writes err as Infinispan does: the status and a plain-text message.
func (h *handler) fail(w http.ResponseWriter, err error) {
	status := http.StatusInternalServerError
	var he *httpError
	switch {
	case errors.As(err, &he):
		status = he.status
	case errors.Is(err, cache.ErrNotFound):
		status = http.StatusNotFound
	case errors.Is(err, cache.ErrExists):
		status = http.StatusConflict
	case errors.Is(err, cache.ErrInvalidRequest):
		status = http.StatusBadRequest
	case errors.Is(err, authz.ErrDenied):
		status = http.StatusForbidden
	case errors.Is(err, authz.ErrUnauthenticated):
		status = http.StatusUnauthorized
	}
	if status >= 500 {
		h.log.Warn("rest request failed", "err", err)
	}
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.WriteHeader(status)
	w.Write([]byte(err.Error()))
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(v)
}

// segments splits the escaped path after /rest/v2/ into unescaped parts, so
// that keys may contain '/' (as %2F) and any other character.
func segments(r *http.Request) ([]string, bool) {
	p := r.URL.EscapedPath()
	rest, ok := strings.CutPrefix(p, "/rest/v2/")
	if !ok {
		return nil, rest == "/rest/v2"
	}
	rest = strings.TrimSuffix(rest, "/")
	if rest == "" {
		return nil, true
	}
	parts := strings.Split(rest, "/")
	for i, s := range parts {
		u, err := url.PathUnescape(s)
		if err != nil {
			return nil, false
		}
		parts[i] = u
	}
	return parts, true
}

func (h *handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	parts, ok := segments(r)
	if !ok || len(parts) == 0 {
		h.fail(w, errorf(http.StatusNotFound, "unknown resource %s", r.URL.Path))
		return
	}
	if !isUpload(r, parts) {
		r.Body = http.MaxBytesReader(w, r.Body, h.o.MaxContentLength)
	}
	err := h.authorize(r, parts)
	if err != nil {
		h.fail(w, err)
		return
	}
	switch parts[0] {
	case "caches":
		switch len(parts) {
		case 1:
			err = h.caches(w, r)
		case 2:
			err = h.cacheResource(w, r, parts[1])
		default:
			// A key may itself contain '/' when a client does not
			// escape it.
			err = h.entry(w, r, parts[1], strings.Join(parts[2:], "/"))
		}
	case "container", "cache-managers":
		err = h.container(w, r, parts)
	case "server":
		err = h.server(w, r, parts)
	default:
		err = errorf(http.StatusNotFound, "unknown resource %s", r.URL.Path)
	}
	if err != nil {
		h.fail(w, err)
	}
}

func (h *handler) healthStatus() string {
	if h.o.Ready() {
		return "HEALTHY"
	}
	return "FAILED"
}

// container serves /rest/v2/container[/...] and its older name
// /rest/v2/cache-managers/{name}[/...].
func (h *handler) container(w http.ResponseWriter, r *http.Request, parts []string) error {
	sub := parts[1:]
	if parts[0] == "cache-managers" {
		if len(parts) < 2 {
			writeJSON(w, http.StatusOK, []string{h.mgr.Container().Name})
			return nil
		}
		if parts[1] != h.mgr.Container().Name && parts[1] != "default" {
			return errorf(http.StatusNotFound, "cache manager %s not found", parts[1])
		}
		sub = parts[2:]
	}
	if len(sub) > 0 && (sub[0] == "backups" || sub[0] == "restores") {
		return h.backups(w, r, sub)
	}
	switch strings.Join(sub, "/") {
	case "":
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			return errorf(http.StatusMethodNotAllowed, "%s not allowed", r.Method)
		}
		names := h.mgr.Names()
		defined := make([]map[string]any, 0, len(names))
		for _, n := range names {
			defined = append(defined, map[string]any{"name": n, "started": true})
		}
		writeJSON(w, http.StatusOK, map[string]any{
			"version":                   InfinispanVersion,
			"hotgrid_version":           h.o.ServerVersion,
			"name":                      h.mgr.Container().Name,
			"coordinator":               true,
			"cache_manager_status":      "RUNNING",
			"cluster_name":              h.o.ClusterName,
			"node_name":                 h.o.NodeName,
			"cluster_members":           []string{h.o.NodeName},
			"cluster_size":              1,
			"defined_caches":            defined,
			"cache_configuration_names": h.templateNames(),
			"statistics":                h.mgr.Container().Statistics,
			"rebalancing_enabled":       true,
		})
	case "health/status":
		w.Header().Set("Content-Type", "text/plain")
		w.Write([]byte(h.healthStatus()))
	case "health":
		if r.Method == http.MethodHead {
			return nil
		}
		var caches []map[string]string
		for _, n := range h.mgr.Names() {
			caches = append(caches, map[string]string{"status": h.healthStatus(), "cache_name": n})
		}
		writeJSON(w, http.StatusOK, map[string]any{
			"cluster_health": map[string]any{
				"cluster_name": h.o.ClusterName, "health_status": h.healthStatus(),
				"number_of_nodes": 1, "node_names": []string{h.o.NodeName},
			},
			"cache_health": caches,
		})
	case "stats":
		var entries, stores, hits, misses int64
		for _, n := range h.mgr.Names() {
			if c, err := h.mgr.Cache(n); err == nil {
				st := c.Stats()
				entries += st.Entries
				stores += st.Stores
				hits += st.Hits
				misses += st.Misses
			}
		}
		writeJSON(w, http.StatusOK, map[string]any{
			"statistics_enabled": h.mgr.Container().Statistics, "number_of_entries": entries,
			"stores": stores, "hits": hits, "misses": misses, "retrievals": hits + misses,
		})
	case "cache-configs", "cache-configs/templates":
		var out []map[string]any
		for _, n := range h.templateNames() {
			if t, ok := h.mgr.Container().Template(n); ok {
				out = append(out, map[string]any{"name": n, "configuration": json.RawMessage(t.JSON())})
			}
		}
		writeJSON(w, http.StatusOK, out)
	default:
		return errorf(http.StatusNotFound, "unknown resource %s", r.URL.Path)
	}
	return nil
}

func (h *handler) templateNames() []string {
	var names []string
	for _, t := range h.mgr.Container().Templates {
		names = append(names, t.Name)
	}
	return append(names, config.BuiltinTemplates()...)
}

func (h *handler) server(w http.ResponseWriter, r *http.Request, parts []string) error {
	switch strings.Join(parts[1:], "/") {
	case "":
		writeJSON(w, http.StatusOK, map[string]string{
			"version": "hotgrid " + h.o.ServerVersion + " (Infinispan " + InfinispanVersion + " REST API)",
		})
	case "cache-managers":
		writeJSON(w, http.StatusOK, []string{h.mgr.Container().Name})
	default:
		return errorf(http.StatusNotFound, "unknown resource %s", r.URL.Path)
	}
	return nil
}
