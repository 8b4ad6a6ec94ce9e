package server

import (
	"testing"

	"github.com/hotgrid/hotgrid/cache"
	"github.com/hotgrid/hotgrid/config"
	"github.com/hotgrid/hotgrid/hotrod"
)

func mustCacheConfig(t *testing.T, n *Node, name, doc string) *config.Cache {
	t.Helper()
	cfg, err := hotrod.CacheConfigFor(n.Manager(), name, "", doc)
	if err != nil {
		t.Fatal(err)
	}
	return cfg
}

func createOpts() cache.CreateOptions { return cache.CreateOptions{} }
