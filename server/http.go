package server

import (
	"fmt"
	"net/http"
	"strings"

	"golang.org/x/net/http2"
	//lint:ignore SA1019 net/http's Protocols field serves HTTP/2 by prior knowledge only; h2c also answers "Upgrade: h2c", which the single port must accept.
	"golang.org/x/net/http2/h2c"

	"github.com/hotgrid/hotgrid/config"
	"github.com/hotgrid/hotgrid/hotrod"
	"github.com/hotgrid/hotgrid/rest"
	"github.com/hotgrid/hotgrid/security"
)

// httpHandler serves the HTTP side of the single port: Infinispan's REST
// API v2 under /rest (health included, anonymous), over HTTP/1.1 and
// cleartext HTTP/2 (prior knowledge and Upgrade: h2c).
func (n *Node) httpHandler() (http.Handler, error) {
	mux := http.NewServeMux()
	mux.Handle("/rest/", rest.NewHandler(rest.Options{
		Manager:       n.mgr,
		Logger:        n.log,
		NodeName:      n.opts.NodeName,
		ServerVersion: Version,
		Ready: func() bool {
			select {
			case <-n.ready:
				return true
			default:
				return false
			}
		},
		CacheConfigFor: func(name, template, document string) (*config.Cache, error) {
			return hotrod.CacheConfigFor(n.mgr, name, template, document)
		},
		Backups: n.backups,
	}))
	var h http.Handler = mux
	if g := n.sec.guard; g != nil {
		mechs := security.HTTPMechanisms(n.sec.restMechs, n.sec.tls != nil, g.ClientCertificates())
		var err error
		if h, err = g.HTTPHandler(mux, mechs, n.anonymousHTTP); err != nil {
			return nil, fmt.Errorf("rest authentication: %w", err)
		}
	}
	//lint:ignore SA1019 see the import: the upgrade path needs h2c and its http2.Server.
	return h2c.NewHandler(h, &http2.Server{}), nil
}

// anonymousHTTP reports the resources Infinispan serves without
// authentication: the health status paths, the login configuration, and
// /metrics when metrics-auth is false.
func (n *Node) anonymousHTTP(r *http.Request) bool {
	p := strings.TrimSuffix(r.URL.Path, "/")
	switch {
	case p == "/rest/v2/container/health/status":
		return true
	case strings.HasPrefix(p, "/rest/v2/cache-managers/") && strings.HasSuffix(p, "/health/status") && strings.Count(p, "/") == 6:
		return true
	case p == "/rest/v2/login" && r.URL.Query().Get("action") == "config":
		return true
	case p == "/metrics":
		return !n.cfg.Endpoints.MetricsAuth
	}
	return false
}
