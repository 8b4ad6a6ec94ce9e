// Package sqlstore keeps a cache's entries in a PostgreSQL table, with the
// layout and semantics of Infinispan's string-keyed JDBC store
// (<string-keyed-jdbc-store>): one table per cache named PREFIX_CACHENAME,
// an id column holding the key, a data column holding the entry (a compact
// metadata header and the value, see persistence.EncodeEntry), a timestamp
// column holding the expiry time in Unix milliseconds (-1 for never) and a
// segment column.
//
// Expired rows are filtered in SQL by the timestamp column and purged in
// batches; Publish pages through the table in key order, so neither the
// table nor a long-held connection is needed to iterate it. Every write is
// one statement and WriteBatch one transaction. The driver is
// github.com/jackc/pgx/v5 with its pgxpool connection pool.
package sqlstore

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/hotgrid/hotgrid/config"
	"github.com/hotgrid/hotgrid/persistence"
)

// DefaultTimeout bounds each database round trip whose context has no
// earlier deadline (Options.Timeout zero).
const DefaultTimeout = 30 * time.Second

// dropTimeout bounds the DROP TABLE of drop-on-exit in Close, which has no
// context.
const dropTimeout = 30 * time.Second

// Options configure a Store. They are the attributes of Infinispan's
// <string-keyed-jdbc-store>: <connection-pool connection-url username
// password> and <string-keyed-table> with its columns.
type Options struct {
	// ConnectionURL is a JDBC URL (jdbc:postgresql://host:port/db?…,
	// whose pgjdbc parameters are translated or ignored) or a libpq one
	// (postgres://… or postgresql://…).
	ConnectionURL string
	// Username and Password, when set, replace the URL's. The password
	// never appears in an error or a log line.
	Username string
	Password string
	// CacheName names the table, with Table.Prefix (see TableName).
	CacheName string
	// Table holds the prefix, the column names and types (empty fields
	// take the Default… constants), create-on-start and drop-on-exit.
	// Column names are folded to lower case, as PostgreSQL does with
	// Infinispan's unquoted names.
	Table config.Table
	// ReadOnly refuses every write with persistence.ErrReadOnly, and
	// neither creates nor drops the table.
	ReadOnly bool
	// Timeout bounds each round trip to the database (a statement, a
	// batch, a page of Publish) when the caller's context has no earlier
	// deadline: 0 means DefaultTimeout, a negative value no bound.
	Timeout time.Duration
	// Logger receives the store's messages; nil means slog.Default().
	Logger *slog.Logger
}

// Store is a persistence.Store on a PostgreSQL table. It is safe for
// concurrent use.
type Store struct {
	pool       *pgxpool.Pool
	t          *table
	q          statements
	textKeys   bool
	readOnly   bool
	dropOnExit bool
	timeout    time.Duration
	where      string // "table … at postgresql://user@host:port/db", for errors
	log        *slog.Logger

	closeOnce sync.Once
	closeErr  error
}

var _ persistence.Store = (*Store)(nil)

// Open connects to the database, creates the table if it is missing and
// create-on-start is set, checks that its columns are usable and returns
// the store. An unreachable server gives an error naming it (without the
// password) and the cause, once ctx or the connect timeout (10 s unless
// the URL sets one) expires.
func Open(ctx context.Context, o Options) (*Store, error) {
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	t, err := newTable(o.Table, o.CacheName)
	if err != nil {
		return nil, fmt.Errorf("sqlstore: cache %q: %w", o.CacheName, err)
	}
	conn, err := parseConnection(o.ConnectionURL, o.Username, o.Password)
	if err != nil {
		return nil, fmt.Errorf("sqlstore: table %s: %w", t.sql, err)
	}
	s := &Store{
		t:          t,
		q:          newStatements(t),
		readOnly:   o.ReadOnly,
		dropOnExit: o.Table.DropOnExit && !o.ReadOnly,
		timeout:    o.Timeout,
		where:      fmt.Sprintf("table %s at %s", t.sql, conn.where),
		log:        o.Logger.With("store", "sql", "table", TableName(o.Table.Prefix, o.CacheName), "server", conn.where),
	}
	if s.timeout == 0 {
		s.timeout = DefaultTimeout
	}
	fail := func(op string, err error) (*Store, error) {
		if s.pool != nil {
			s.pool.Close()
		}
		return nil, &redactedError{msg: redact(fmt.Sprintf("sqlstore: %s: %s: %v", s.where, op, err), conn.secrets), cause: err}
	}
	if len(conn.ignored) > 0 {
		s.log.Warn("JDBC URL parameters without a PostgreSQL driver equivalent are ignored", "parameters", conn.ignored)
	}
	if s.pool, err = pgxpool.NewWithConfig(ctx, conn.config); err != nil {
		return fail("connect", err)
	}
	if err := s.pool.Ping(ctx); err != nil {
		return fail("connect", err)
	}
	exists, err := t.exists(ctx, s.pool)
	if err != nil {
		return fail("open", err)
	}
	switch {
	case !exists && o.ReadOnly:
		return fail("open", errors.New("the table does not exist, and a read-only store does not create it"))
	case !exists && !o.Table.CreateOnStart:
		return fail("open", errors.New(`the table does not exist and create-on-start is false: create it or set create-on-start="true"`))
	case o.Table.CreateOnStart && !o.ReadOnly:
		// Also when the table exists: Infinispan adds missing
		// indexes on start.
		if err := t.create(ctx, s.pool); err != nil {
			return fail("create table", err)
		}
	}
	l, err := t.check(ctx, s.pool)
	if err != nil {
		return fail("check table", err)
	}
	s.textKeys = l.textKeys
	s.log.Info("sql store open", "created", !exists, "id_type", l.idType, "read_only", o.ReadOnly)
	return s, nil
}

// Sync implements persistence.Store. Every write returns once its
// transaction has committed, so there is nothing left to flush; how
// durable a commit is depends on the server (fsync, synchronous_commit).
func (s *Store) Sync(context.Context) error { return nil }

// Close implements persistence.Store: it drops the table if drop-on-exit
// is set and closes the connections, waiting for operations in flight.
// Operations after Close fail. It is safe to call twice.
func (s *Store) Close() error {
	s.closeOnce.Do(func() {
		if s.dropOnExit {
			ctx, cancel := context.WithTimeout(context.Background(), dropTimeout)
			s.closeErr = s.do(ctx, "drop on exit", true, func(c context.Context) error { return s.t.drop(c, s.pool) })
			cancel()
			if s.closeErr == nil {
				s.log.Info("sql store table dropped on exit")
			}
		}
		s.pool.Close()
	})
	return s.closeErr
}

// fail wraps an operation's error with the store and the operation.
func (s *Store) fail(op string, err error) error {
	return fmt.Errorf("sqlstore: %s: %s: %w", s.where, op, err)
}
