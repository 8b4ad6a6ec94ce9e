// Package sqlstore keeps a cache's entries in a PostgreSQL table, with the
// semantics of Infinispan's string-keyed JDBC store: one table per cache
// named PREFIX_CACHENAME, an id column holding the key, a data column
// holding the entry (metadata and value), a timestamp column holding the
// expiry time (-1 for never) and a segment column.
package sqlstore

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"regexp"
	"strings"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/hotgrid/hotgrid/cache"
	"github.com/hotgrid/hotgrid/config"
	"github.com/hotgrid/hotgrid/persistence"
)

// Options configure a Store.
type Options struct {
	// ConnectionURL is a postgres:// URL or a JDBC one
	// (jdbc:postgresql://host:port/db?…).
	ConnectionURL string
	Username      string
	Password      string
	CacheName     string
	// Table names the table and its columns; zero fields take
	// Infinispan's defaults.
	Table    config.Table
	ReadOnly bool
	Logger   *slog.Logger
}

// Store is a persistence.Store on a PostgreSQL table.
type Store struct {
	pool       *pgxpool.Pool
	table      string // quoted
	cols       columns
	textKeys   bool // the id column is text: keys are stored as "=" + base64
	readOnly   bool
	dropOnExit bool
	where      string // for errors: host/db and table, no credentials
	log        *slog.Logger
}

type columns struct{ id, data, ts, seg string }

var _ persistence.Store = (*Store)(nil)

var nonIdent = regexp.MustCompile(`[^A-Za-z0-9_]`)

// ident quotes an SQL identifier.
func ident(s string) string { return `"` + strings.ReplaceAll(s, `"`, `""`) + `"` }

// TableName is the table Infinispan would use for a cache: the prefix, an
// underscore and the cache name with every other character replaced by an
// underscore.
func TableName(prefix, cacheName string) string {
	return prefix + "_" + nonIdent.ReplaceAllString(cacheName, "_")
}

// poolURL turns a JDBC URL into one pgx understands and sets the
// credentials.
func poolURL(raw, user, password string) (*url.URL, error) {
	raw = strings.TrimPrefix(raw, "jdbc:")
	u, err := url.Parse(raw)
	if err != nil {
		return nil, fmt.Errorf("connection URL: %w", err)
	}
	if u.Scheme != "postgresql" && u.Scheme != "postgres" {
		return nil, fmt.Errorf("connection URL scheme %q: only PostgreSQL is supported", u.Scheme)
	}
	q := u.Query()
	if user == "" {
		user = q.Get("user")
	}
	if password == "" {
		password = q.Get("password")
	}
	q.Del("user")
	q.Del("password")
	u.RawQuery = q.Encode()
	if user != "" {
		if password != "" {
			u.User = url.UserPassword(user, password)
		} else {
			u.User = url.User(user)
		}
	}
	return u, nil
}

// Open connects, checks (or creates) the table and returns the store.
func Open(ctx context.Context, o Options) (*Store, error) {
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	t := o.Table
	def := func(s *string, v string) {
		if *s == "" {
			*s = v
		}
	}
	def(&t.Prefix, "ISPN_STRING_TABLE")
	def(&t.IDColumn.Name, "ID_COLUMN")
	def(&t.IDColumn.Type, "VARCHAR(255)")
	def(&t.DataColumn.Name, "DATA_COLUMN")
	def(&t.DataColumn.Type, "BYTEA")
	def(&t.TimeColumn.Name, "TIMESTAMP_COLUMN")
	def(&t.TimeColumn.Type, "BIGINT")
	def(&t.SegmentColumn.Name, "SEGMENT_COLUMN")
	def(&t.SegmentColumn.Type, "INT")
	u, err := poolURL(o.ConnectionURL, o.Username, o.Password)
	if err != nil {
		return nil, err
	}
	table := TableName(t.Prefix, o.CacheName)
	s := &Store{
		table: ident(table),
		cols: columns{ident(t.IDColumn.Name), ident(t.DataColumn.Name), ident(t.TimeColumn.Name),
			ident(t.SegmentColumn.Name)},
		textKeys:   !strings.Contains(strings.ToUpper(t.IDColumn.Type), "BYTEA"),
		readOnly:   o.ReadOnly,
		dropOnExit: t.DropOnExit,
		where:      fmt.Sprintf("postgresql://%s%s table %s", u.Host, u.Path, table),
		log:        o.Logger,
	}
	pc, err := pgxpool.ParseConfig(u.String())
	if err != nil {
		return nil, fmt.Errorf("sql store %s: %s", s.where, redact(err, o.Password))
	}
	pool, err := pgxpool.NewWithConfig(ctx, pc)
	if err != nil {
		return nil, fmt.Errorf("sql store %s: %s", s.where, redact(err, o.Password))
	}
	if err := pool.Ping(ctx); err != nil {
		pool.Close()
		return nil, fmt.Errorf("sql store %s: connect: %s", s.where, redact(err, o.Password))
	}
	s.pool = pool
	if t.CreateOnStart && !o.ReadOnly {
		ddl := fmt.Sprintf(`CREATE TABLE IF NOT EXISTS %s (%s %s NOT NULL PRIMARY KEY, %s %s, %s %s, %s %s)`,
			s.table, s.cols.id, t.IDColumn.Type, s.cols.data, t.DataColumn.Type, s.cols.ts, t.TimeColumn.Type,
			s.cols.seg, t.SegmentColumn.Type)
		idx := []string{
			fmt.Sprintf(`CREATE INDEX IF NOT EXISTS %s ON %s (%s)`, ident(table+"_ts"), s.table, s.cols.ts),
			fmt.Sprintf(`CREATE INDEX IF NOT EXISTS %s ON %s (%s)`, ident(table+"_seg"), s.table, s.cols.seg),
		}
		for _, q := range append([]string{ddl}, idx...) {
			if _, err := pool.Exec(ctx, q); err != nil {
				pool.Close()
				return nil, fmt.Errorf("sql store %s: create table: %w", s.where, err)
			}
		}
	} else {
		var exists bool
		err := pool.QueryRow(ctx, `SELECT to_regclass($1) IS NOT NULL`, s.table).Scan(&exists)
		if err == nil && !exists {
			err = errors.New("table does not exist and create-on-start is false")
		}
		if err != nil {
			pool.Close()
			return nil, fmt.Errorf("sql store %s: %w", s.where, err)
		}
	}
	return s, nil
}

// redact removes a password from an error message.
func redact(err error, password string) string {
	msg := err.Error()
	if password != "" {
		msg = strings.ReplaceAll(msg, password, "***")
	}
	return msg
}

// id is the key as the id column holds it.
func (s *Store) id(key []byte) any {
	if s.textKeys {
		return "=" + base64.StdEncoding.EncodeToString(key)
	}
	return key
}

func (s *Store) keyOf(id any) ([]byte, error) {
	switch v := id.(type) {
	case []byte:
		return v, nil
	case string:
		if !strings.HasPrefix(v, "=") {
			return nil, fmt.Errorf("id %q is not a hotgrid key", v)
		}
		return base64.StdEncoding.DecodeString(v[1:])
	}
	return nil, fmt.Errorf("id of type %T", id)
}

func (s *Store) writable() error {
	if s.readOnly {
		return persistence.ErrReadOnly
	}
	return nil
}

func (s *Store) fail(op string, err error) error {
	return fmt.Errorf("sql store %s: %s: %w", s.where, op, err)
}

// Load implements persistence.Store.
func (s *Store) Load(ctx context.Context, seg int, key []byte, now int64) (cache.Entry, bool, error) {
	var data []byte
	err := s.pool.QueryRow(ctx, fmt.Sprintf(`SELECT %s FROM %s WHERE %s = $1 AND (%s < 0 OR %s > $2)`,
		s.cols.data, s.table, s.cols.id, s.cols.ts, s.cols.ts), s.id(key), now).Scan(&data)
	if errors.Is(err, pgx.ErrNoRows) {
		return cache.Entry{}, false, nil
	}
	if err != nil {
		return cache.Entry{}, false, s.fail("load", err)
	}
	m, v, err := persistence.DecodeEntry(data)
	if err != nil {
		return cache.Entry{}, false, s.fail("load", err)
	}
	if m.Expired(now) { // max-idle is judged on the stored last-use time
		return cache.Entry{}, false, nil
	}
	return cache.Entry{Key: append([]byte(nil), key...), Value: v, Meta: m}, true, nil
}

func (s *Store) upsert() string {
	return fmt.Sprintf(`INSERT INTO %s (%s, %s, %s, %s) VALUES ($1, $2, $3, $4)
ON CONFLICT (%s) DO UPDATE SET %s = EXCLUDED.%s, %s = EXCLUDED.%s, %s = EXCLUDED.%s`,
		s.table, s.cols.id, s.cols.data, s.cols.ts, s.cols.seg,
		s.cols.id, s.cols.data, s.cols.data, s.cols.ts, s.cols.ts, s.cols.seg, s.cols.seg)
}

// Write implements persistence.Store.
func (s *Store) Write(ctx context.Context, seg int, e cache.Entry) error {
	if err := s.writable(); err != nil {
		return err
	}
	_, err := s.pool.Exec(ctx, s.upsert(), s.id(e.Key), persistence.EncodeEntry(nil, e.Meta, e.Value), e.Meta.ExpiresAt(), seg)
	if err != nil {
		return s.fail("write", err)
	}
	return nil
}

// WriteBatch implements persistence.Store in one transaction.
func (s *Store) WriteBatch(ctx context.Context, writes []persistence.SegmentEntry, deletes []persistence.SegmentKey) error {
	if err := s.writable(); err != nil {
		return err
	}
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		b := &pgx.Batch{}
		up := s.upsert()
		for _, w := range writes {
			b.Queue(up, s.id(w.Entry.Key), persistence.EncodeEntry(nil, w.Entry.Meta, w.Entry.Value), w.Entry.Meta.ExpiresAt(), w.Segment)
		}
		del := fmt.Sprintf(`DELETE FROM %s WHERE %s = $1`, s.table, s.cols.id)
		for _, d := range deletes {
			b.Queue(del, s.id(d.Key))
		}
		return tx.SendBatch(ctx, b).Close()
	})
	if err != nil {
		return s.fail("batch", err)
	}
	return nil
}

// Delete implements persistence.Store.
func (s *Store) Delete(ctx context.Context, seg int, key []byte) (bool, error) {
	if err := s.writable(); err != nil {
		return false, err
	}
	tag, err := s.pool.Exec(ctx, fmt.Sprintf(`DELETE FROM %s WHERE %s = $1`, s.table, s.cols.id), s.id(key))
	if err != nil {
		return false, s.fail("delete", err)
	}
	return tag.RowsAffected() > 0, nil
}

// Publish implements persistence.Store, streaming the rows.
func (s *Store) Publish(ctx context.Context, segments []int, now int64, fn func(int, cache.Entry) error) error {
	q := fmt.Sprintf(`SELECT %s, %s, %s FROM %s WHERE (%s < 0 OR %s > $1)`,
		s.cols.id, s.cols.data, s.cols.seg, s.table, s.cols.ts, s.cols.ts)
	args := []any{now}
	if segments != nil {
		segs := make([]int32, len(segments))
		for i, v := range segments {
			segs[i] = int32(v)
		}
		q += fmt.Sprintf(` AND %s = ANY($2)`, s.cols.seg)
		args = append(args, segs)
	}
	rows, err := s.pool.Query(ctx, q, args...)
	if err != nil {
		return s.fail("publish", err)
	}
	defer rows.Close()
	for rows.Next() {
		var id any
		var data []byte
		var seg int32
		if err := rows.Scan(&id, &data, &seg); err != nil {
			return s.fail("publish", err)
		}
		key, err := s.keyOf(id)
		if err != nil {
			return s.fail("publish", err)
		}
		m, v, err := persistence.DecodeEntry(data)
		if err != nil {
			return s.fail("publish", err)
		}
		if m.Expired(now) {
			continue
		}
		if err := fn(int(seg), cache.Entry{Key: key, Value: v, Meta: m}); err != nil {
			return err
		}
	}
	if err := rows.Err(); err != nil {
		return s.fail("publish", err)
	}
	return nil
}

// Size implements persistence.Store.
func (s *Store) Size(ctx context.Context, now int64) (int64, error) {
	var n int64
	err := s.pool.QueryRow(ctx, fmt.Sprintf(`SELECT count(*) FROM %s WHERE (%s < 0 OR %s > $1)`,
		s.table, s.cols.ts, s.cols.ts), now).Scan(&n)
	if err != nil {
		return 0, s.fail("size", err)
	}
	return n, nil
}

// Clear implements persistence.Store.
func (s *Store) Clear(ctx context.Context) error {
	if err := s.writable(); err != nil {
		return err
	}
	if _, err := s.pool.Exec(ctx, fmt.Sprintf(`DELETE FROM %s`, s.table)); err != nil {
		return s.fail("clear", err)
	}
	return nil
}

// PurgeExpired implements persistence.Store.
func (s *Store) PurgeExpired(ctx context.Context, now int64, fn func(int, []byte)) error {
	if err := s.writable(); err != nil {
		return err
	}
	rows, err := s.pool.Query(ctx, fmt.Sprintf(`DELETE FROM %s WHERE %s >= 0 AND %s <= $1 RETURNING %s, %s`,
		s.table, s.cols.ts, s.cols.ts, s.cols.id, s.cols.seg), now)
	if err != nil {
		return s.fail("purge", err)
	}
	defer rows.Close()
	for rows.Next() {
		var id any
		var seg int32
		if err := rows.Scan(&id, &seg); err != nil {
			return s.fail("purge", err)
		}
		if key, err := s.keyOf(id); err == nil && fn != nil {
			fn(int(seg), key)
		}
	}
	if err := rows.Err(); err != nil {
		return s.fail("purge", err)
	}
	return nil
}

// Sync implements persistence.Store: every write is a committed
// transaction, durable as the server's synchronous_commit says.
func (s *Store) Sync(context.Context) error { return nil }

// Close implements persistence.Store, dropping the table if configured.
func (s *Store) Close() error {
	if s.pool == nil {
		return nil
	}
	var err error
	if s.dropOnExit && !s.readOnly {
		if _, e := s.pool.Exec(context.Background(), fmt.Sprintf(`DROP TABLE IF EXISTS %s`, s.table)); e != nil {
			err = s.fail("drop on exit", e)
		}
	}
	s.pool.Close()
	s.pool = nil
	return err
}
