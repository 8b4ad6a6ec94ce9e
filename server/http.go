package server

import (
	"encoding/json"
	"net/http"
)

// httpHandler serves the HTTP side of the single port: the health paths
// that outside tools depend on (DESIGN.md contracts) and the server's
// identity. The REST API mounts here as it grows.
func (n *Node) httpHandler() http.Handler {
	mux := http.NewServeMux()
	health := func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-n.ready:
		default:
			http.Error(w, "FAILED", http.StatusServiceUnavailable)
			return
		}
		w.Header().Set("Content-Type", "text/plain")
		w.Write([]byte("HEALTHY"))
	}
	mux.HandleFunc("GET /rest/v2/container/health/status", health)
	mux.HandleFunc("GET /rest/v2/cache-managers/{name}/health/status", health)
	mux.HandleFunc("HEAD /rest/v2/container/health", func(w http.ResponseWriter, r *http.Request) {})
	mux.HandleFunc("GET /rest/v2/server", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		json.NewEncoder(w).Encode(map[string]string{"version": "hotgrid " + Version})
	})
	return mux
}
