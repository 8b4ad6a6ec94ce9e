package rest

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"io"
	"mime"
	"net/http"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/hotgrid/hotgrid/cache"
	"github.com/hotgrid/hotgrid/encoding"
	"github.com/hotgrid/hotgrid/security/authz"
)

// caches serves /rest/v2/caches.
func (h *handler) caches(w http.ResponseWriter, r *http.Request) error {
	if r.Method != http.MethodGet {
		return errorf(http.StatusMethodNotAllowed, "%s not allowed on /rest/v2/caches", r.Method)
	}
	names := h.mgr.Names()
	if r.URL.Query().Get("action") == "detailed" {
		out := make([]map[string]any, 0, len(names))
		for _, n := range names {
			c, err := h.mgr.Cache(n)
			if err != nil {
				continue
			}
			out = append(out, h.cacheInfo(n, c))
		}
		writeJSON(w, http.StatusOK, out)
		return nil
	}
	writeJSON(w, http.StatusOK, names)
	return nil
}

func (h *handler) cacheInfo(name string, c cache.Cache) map[string]any {
	cfg := c.Config()
	st := c.Stats()
	mode := map[int]string{0: "LOCAL", 1: "DIST_SYNC", 2: "REPL_SYNC", 3: "INVALIDATION_SYNC"}[int(cfg.Mode)]
	if cfg.Async {
		mode = strings.Replace(mode, "SYNC", "ASYNC", 1)
	}
	return map[string]any{
		"name": name, "status": "RUNNING", "type": cfg.JSON(), "simple_cache": false,
		"transactional": false, "persistent": false, "bounded": cfg.Memory.MaxCount > 0 || cfg.Memory.MaxSize > 0,
		"secured": false, "indexed": false, "has_remote_backup": false, "health": h.healthStatus(),
		"rebalancing_enabled": true, "mode": mode, "size": st.Entries,
		"key_storage": storageName(cfg.KeyMediaType), "value_storage": storageName(cfg.ValueMediaType),
	}
}

func storageName(mt string) string {
	if mt == "" {
		return encoding.Unknown
	}
	return mt
}

// cacheResource serves /rest/v2/caches/{name}.
func (h *handler) cacheResource(w http.ResponseWriter, r *http.Request, name string) error {
	q := r.URL.Query()
	action := q.Get("action")
	switch r.Method {
	case http.MethodHead:
		if _, err := h.mgr.Cache(name); err != nil {
			w.WriteHeader(http.StatusNotFound)
			return nil
		}
		w.WriteHeader(http.StatusNoContent)
		return nil
	case http.MethodPost, http.MethodPut:
		switch action {
		case "":
			return h.createCache(w, r, name, r.Method == http.MethodPut)
		case "clear":
			c, err := h.cache(name)
			if err != nil {
				return err
			}
			if err := c.Clear(r.Context()); err != nil {
				return err
			}
			w.WriteHeader(http.StatusNoContent)
			return nil
		case "stats-reset":
			c, err := h.cache(name)
			if err != nil {
				return err
			}
			if rs, ok := c.(interface{ ResetStats() }); ok {
				rs.ResetStats()
			}
			w.WriteHeader(http.StatusNoContent)
			return nil
		}
	case http.MethodDelete:
		if err := h.mgr.Remove(name); err != nil {
			if errors.Is(err, cache.ErrNotFound) {
				return errorf(http.StatusNotFound, "ISPN012010: Cache with name '%s' not found", name)
			}
			return err
		}
		w.WriteHeader(http.StatusOK)
		return nil
	case http.MethodGet:
		c, err := h.cache(name)
		if err != nil {
			return err
		}
		switch action {
		case "":
			writeJSON(w, http.StatusOK, h.cacheDetails(name, c))
			return nil
		case "config":
			return writeConfig(w, r, c)
		case "size":
			n, err := c.Size(r.Context())
			if err != nil {
				return err
			}
			writeJSON(w, http.StatusOK, n)
			return nil
		case "stats":
			st := c.Stats()
			writeJSON(w, http.StatusOK, map[string]any{
				"time_since_start": st.TimeSinceStart, "current_number_of_entries": st.Entries,
				"current_number_of_entries_in_memory": st.Entries, "data_memory_used": st.DataMemory,
				"stores": st.Stores, "retrievals": st.Retrievals, "hits": st.Hits, "misses": st.Misses,
				"remove_hits": st.RemoveHits, "remove_misses": st.RemoveMisses, "evictions": st.Evictions,
			})
			return nil
		case "keys", "entries":
			return h.listEntries(w, r, c, action == "entries")
		}
	}
	return errorf(http.StatusBadRequest, "unsupported %s ?action=%s on a cache", r.Method, action)
}

func (h *handler) cache(name string) (cache.Cache, error) {
	c, err := h.mgr.Cache(name)
	if err != nil {
		return nil, errorf(http.StatusNotFound, "ISPN012010: Cache with name '%s' not found", name)
	}
	return c, nil
}

func (h *handler) cacheDetails(name string, c cache.Cache) map[string]any {
	info := h.cacheInfo(name, c)
	st := c.Stats()
	info["stats"] = map[string]any{"current_number_of_entries": st.Entries, "stores": st.Stores, "hits": st.Hits,
		"misses": st.Misses, "remove_hits": st.RemoveHits, "remove_misses": st.RemoveMisses}
	info["configuration"] = string(c.Config().JSON())
	info["rehash_in_progress"] = false
	info["statistics"] = c.Config().Statistics
	return info
}

// writeConfig renders a cache's configuration in the format Accept asks
// for: JSON by default, or XML.
func writeConfig(w http.ResponseWriter, r *http.Request, c cache.Cache) error {
	accept := r.Header.Get("Accept")
	switch {
	case strings.Contains(accept, "xml"):
		w.Header().Set("Content-Type", "application/xml")
		w.Write(c.Config().XML())
	case accept == "" || strings.Contains(accept, "json") || strings.Contains(accept, "*/*"):
		w.Header().Set("Content-Type", "application/json")
		w.Write(c.Config().JSON())
	default:
		return errorf(http.StatusNotAcceptable, "configuration cannot be rendered as %s", accept)
	}
	return nil
}

// createCache handles POST (create) and PUT (create or keep) of a cache,
// from ?template= or a configuration body.
func (h *handler) createCache(w http.ResponseWriter, r *http.Request, name string, put bool) error {
	body, err := io.ReadAll(r.Body)
	if err != nil {
		return errorf(http.StatusRequestEntityTooLarge, "request body: %v", err)
	}
	if ct := r.Header.Get("Content-Type"); len(body) > 0 && ct != "" {
		mt, _, _ := mime.ParseMediaType(ct)
		switch mt {
		case "application/json", "application/xml", "text/xml", "application/yaml", "application/x-yaml",
			"text/yaml", "text/plain", "application/octet-stream":
		default:
			return errorf(http.StatusUnsupportedMediaType, "unsupported configuration type %s", ct)
		}
	}
	template := r.URL.Query().Get("template")
	if h.o.CacheConfigFor == nil {
		return errorf(http.StatusInternalServerError, "cache creation is not available")
	}
	cfg, err := h.o.CacheConfigFor(name, template, string(body))
	if err != nil {
		return errorf(http.StatusBadRequest, "%v", err)
	}
	opts := cache.CreateOptions{Volatile: strings.Contains(r.Header.Get("flags"), "VOLATILE")}
	if put {
		_, err = h.mgr.GetOrCreate(cfg, opts)
	} else {
		_, err = h.mgr.Create(cfg, opts)
	}
	if errors.Is(err, cache.ErrExists) {
		return errorf(http.StatusBadRequest, "ISPN000507: Cache %s already exists", name)
	}
	if err != nil {
		return errorf(http.StatusBadRequest, "%v", err)
	}
	w.WriteHeader(http.StatusOK)
	return nil
}

// listEntries streams ?action=keys (a JSON array of keys) or
// ?action=entries (key, value and, with metadata=true, metadata).
func (h *handler) listEntries(w http.ResponseWriter, r *http.Request, c cache.Cache, entries bool) error {
	q := r.URL.Query()
	limit := -1
	if v := q.Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil {
			return errorf(http.StatusBadRequest, "invalid limit %q", v)
		}
		limit = n
	}
	meta := q.Get("metadata") == "true"
	cfg := c.Config()
	// Check before the status goes out: a denial found while streaming
	// could only cut the stream short.
	if err := cache.Authorize(r.Context(), c, authz.BulkRead); err != nil {
		return err
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusOK)
	var buf []byte
	var list []cache.Entry
	n := 0
	buf = append(buf, '[')
	for s := 0; s < c.NumSegments() && (limit < 0 || n < limit); s++ {
		var err error
		list, err = c.Segment(r.Context(), s, list[:0])
		if err != nil {
			return nil // the status is sent; stop the stream
		}
		for _, e := range list {
			if limit >= 0 && n >= limit {
				break
			}
			if n > 0 {
				buf = append(buf, ',')
			}
			n++
			key := jsonText(e.Key, cfg.KeyMediaType)
			if !entries {
				buf = append(buf, key...)
				continue
			}
			buf = append(buf, `{"key":`...)
			buf = append(buf, key...)
			buf = append(buf, `,"value":`...)
			buf = append(buf, jsonText(e.Value, cfg.ValueMediaType)...)
			if meta {
				m := e.Meta
				ttl, idle := int64(-1), int64(-1)
				if m.Lifespan >= 0 {
					ttl = m.Lifespan / 1000
				}
				if m.MaxIdle >= 0 {
					idle = m.MaxIdle / 1000
				}
				buf = strconv.AppendInt(append(buf, `,"timeToLiveSeconds":`...), ttl, 10)
				buf = strconv.AppendInt(append(buf, `,"maxIdleTimeSeconds":`...), idle, 10)
				buf = strconv.AppendInt(append(buf, `,"created":`...), m.Created, 10)
				buf = strconv.AppendInt(append(buf, `,"lastUsed":`...), m.LastUsed, 10)
				buf = strconv.AppendInt(append(buf, `,"expireTime":`...), m.ExpiresAt(), 10)
				buf = strconv.AppendInt(append(buf, `,"version":`...), m.Version, 10)
			}
			buf = append(buf, '}')
		}
		if len(buf) > 32<<10 {
			if _, err := w.Write(buf); err != nil {
				return nil
			}
			buf = buf[:0]
		}
	}
	buf = append(buf, ']')
	w.Write(buf)
	return nil
}

// jsonText renders stored bytes as a JSON value: text types and UTF-8 bytes
// as strings, JSON as itself, other bytes as a base64 string.
func jsonText(b []byte, storage string) []byte {
	base := encoding.Base(storage)
	if base == encoding.JSON && json.Valid(b) {
		return b
	}
	if base == encoding.Protostream {
		if t, err := encoding.Convert(nil, b, encoding.Protostream, encoding.TextPlain); err == nil {
			b = t
		}
	}
	if utf8.Valid(b) {
		out, _ := json.Marshal(string(b))
		return out
	}
	out, _ := json.Marshal(base64.StdEncoding.EncodeToString(b))
	return out
}
