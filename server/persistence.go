package server

import (
	"context"
	"fmt"
	"log/slog"
	"path/filepath"
	"time"

	"github.com/hotgrid/hotgrid/cache"
	"github.com/hotgrid/hotgrid/config"
	"github.com/hotgrid/hotgrid/persistence"
	"github.com/hotgrid/hotgrid/persistence/filestore"
	"github.com/hotgrid/hotgrid/persistence/sqlstore"
)

// openPersistence opens the stores a cache's configuration declares and
// builds its persistence layer. File stores live in dataDir (the server
// root's data directory) unless their path is absolute.
func openPersistence(ctx context.Context, dataDir string, cfg *config.Cache, log *slog.Logger) (cache.Persister, error) {
	var stores []persistence.Attached
	fail := func(err error) (cache.Persister, error) {
		for _, a := range stores {
			a.Store.Close()
		}
		return nil, err
	}
	for _, sc := range cfg.Persistence.Stores {
		dur, err := persistence.ParseDurability(sc.Properties["durability"])
		if err != nil {
			return fail(err)
		}
		if sc.SyncWrites {
			dur = persistence.SyncEveryWrite
		}
		interval := time.Second
		if v := sc.Properties["sync-interval"]; v != "" {
			interval, _ = time.ParseDuration(v) // validated by the configuration reader
		}
		a := persistence.Attached{ReadOnly: sc.ReadOnly, Preload: sc.Preload, PurgeOnStartup: sc.PurgeOnStartup, WriteBehind: sc.WriteBehind}
		switch sc.Kind {
		case config.StoreFile:
			path := sc.Path
			if path == "" {
				path = cfg.Name
			}
			if !filepath.IsAbs(path) {
				if dataDir == "" {
					return fail(fmt.Errorf("<%s> with a relative path needs a server root (--server-root) to hold its data", sc.Element))
				}
				path = filepath.Join(dataDir, path)
			}
			st, err := filestore.Open(path, filestore.Options{Durability: dur, SyncInterval: interval, ReadOnly: sc.ReadOnly, Logger: log})
			if err != nil {
				return fail(err)
			}
			a.Name, a.Store = sc.Element+" "+path, st
		case config.StoreStringKeyedDB:
			st, err := sqlstore.Open(ctx, sqlstore.Options{ConnectionURL: sc.ConnectionURL, Username: sc.Username,
				Password: sc.Password, CacheName: cfg.Name, Table: sc.Table, ReadOnly: sc.ReadOnly, Logger: log})
			if err != nil {
				return fail(err)
			}
			a.Name, a.Store = sc.Element+" "+sqlstore.TableName(sc.Table.Prefix, cfg.Name), st
		default:
			return fail(fmt.Errorf("<%s> is not available in this build", sc.Element))
		}
		stores = append(stores, a)
	}
	l, err := persistence.NewLayer(ctx, cfg.Name, cfg.Persistence.Passivation, stores, log)
	if err != nil {
		return nil, err
	}
	return l, nil
}
