package server

import (
	"net/http"

	"golang.org/x/net/http2"
	//lint:ignore SA1019 net/http's Protocols field serves HTTP/2 by prior knowledge only; h2c also answers "Upgrade: h2c", which the single port must accept.
	"golang.org/x/net/http2/h2c"

	"github.com/hotgrid/hotgrid/config"
	"github.com/hotgrid/hotgrid/hotrod"
	"github.com/hotgrid/hotgrid/rest"
)

// httpHandler serves the HTTP side of the single port: Infinispan's REST
// API v2 under /rest (health included, anonymous), over HTTP/1.1 and
// cleartext HTTP/2 (prior knowledge and Upgrade: h2c).
func (n *Node) httpHandler() http.Handler {
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
	//lint:ignore SA1019 see the import: the upgrade path needs h2c and its http2.Server.
	return h2c.NewHandler(mux, &http2.Server{})
}
