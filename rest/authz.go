package rest

import (
	"net/http"

	"github.com/hotgrid/hotgrid/cache"
	"github.com/hotgrid/hotgrid/security/authz"
)

// authorize checks the permissions of requests that do not reach a cache
// through the Cache interface (whose secured layer checks the rest):
// creating and removing caches needs CREATE, statistics MONITOR, statistics
// reset and backups ADMIN. It returns nil when the node has no
// authorization.
func (h *handler) authorize(r *http.Request, parts []string) error {
	if h.mgr.Policy() == nil {
		return nil
	}
	ctx := r.Context()
	action := r.URL.Query().Get("action")
	switch parts[0] {
	case "caches":
		if len(parts) != 2 {
			return nil
		}
		switch {
		case (r.Method == http.MethodPost || r.Method == http.MethodPut) && action == "",
			r.Method == http.MethodDelete:
			return h.mgr.Authorize(ctx, authz.Create)
		case action == "stats" || action == "stats-reset":
			c, err := h.mgr.Cache(parts[1])
			if err != nil {
				return nil // the handler answers 404
			}
			p := authz.Monitor
			if action == "stats-reset" {
				p = authz.Admin
			}
			return cache.Authorize(ctx, c, p)
		}
	case "container", "cache-managers":
		sub := parts[1:]
		if parts[0] == "cache-managers" && len(sub) > 0 {
			sub = sub[1:]
		}
		if len(sub) == 0 {
			return nil
		}
		switch sub[0] {
		case "backups", "restores":
			return h.mgr.Authorize(ctx, authz.Admin)
		case "stats":
			return h.mgr.Authorize(ctx, authz.Monitor)
		}
	}
	return nil
}
