package sqlstore

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"slices"
	"sort"
	"strings"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/hotgrid/hotgrid/cache"
	"github.com/hotgrid/hotgrid/persistence"
)

// pageRows is how many rows one Publish query returns: enough to amortise
// the round trip, few enough that a page of large values stays small.
const pageRows = 256

// purgeRows is how many expired rows one PurgeExpired statement deletes,
// so that a purge of a large table is many short transactions rather than
// one long one holding every row lock.
const purgeRows = 1000

// statements are the store's SQL, built once at Open. pgx prepares each on
// first use on every connection and reuses it.
type statements struct {
	load, upsert, delete, size, clear, purge string
	// Publish pages: all segments or one, the first page or the page
	// after the id $3 (or $4).
	pageAll, pageAllAfter, pageSeg, pageSegAfter string
}

func newStatements(t *table) statements {
	live := fmt.Sprintf("(%s < 0 OR %s > $1)", t.tsSQL, t.tsSQL) // not expired at $1
	sel := fmt.Sprintf("SELECT %s, %s, %s FROM %s", t.idSQL, t.dataSQL, t.segSQL, t.sql)
	order := fmt.Sprintf(" ORDER BY %s LIMIT $2", t.idSQL)
	return statements{
		load: fmt.Sprintf("SELECT %s FROM %s WHERE %s = $1 AND (%s < 0 OR %s > $2)",
			t.dataSQL, t.sql, t.idSQL, t.tsSQL, t.tsSQL),
		upsert: fmt.Sprintf("INSERT INTO %s (%s, %s, %s, %s) VALUES ($1, $2, $3, $4) "+
			"ON CONFLICT (%s) DO UPDATE SET %s = EXCLUDED.%s, %s = EXCLUDED.%s, %s = EXCLUDED.%s",
			t.sql, t.idSQL, t.dataSQL, t.tsSQL, t.segSQL,
			t.idSQL, t.dataSQL, t.dataSQL, t.tsSQL, t.tsSQL, t.segSQL, t.segSQL),
		delete: fmt.Sprintf("DELETE FROM %s WHERE %s = $1", t.sql, t.idSQL),
		size:   fmt.Sprintf("SELECT count(*) FROM %s WHERE %s", t.sql, live),
		clear:  fmt.Sprintf("DELETE FROM %s", t.sql),
		// SKIP LOCKED: two nodes sharing the table purge different rows
		// instead of waiting for each other; the outer condition is
		// checked again on the locked row.
		purge: fmt.Sprintf("DELETE FROM %[1]s WHERE %[2]s IN (SELECT %[2]s FROM %[1]s WHERE %[3]s >= 0 AND %[3]s <= $1 "+
			"LIMIT $2 FOR UPDATE SKIP LOCKED) AND %[3]s >= 0 AND %[3]s <= $1 RETURNING %[2]s, %[4]s",
			t.sql, t.idSQL, t.tsSQL, t.segSQL),
		pageAll:      sel + " WHERE " + live + order,
		pageAllAfter: sel + " WHERE " + live + " AND " + t.idSQL + " > $3" + order,
		pageSeg:      sel + " WHERE " + t.segSQL + " = $3 AND " + live + order,
		pageSegAfter: sel + " WHERE " + t.segSQL + " = $3 AND " + live + " AND " + t.idSQL + " > $4" + order,
	}
}

// id is key as the id column holds it.
func (s *Store) id(key []byte) any {
	if s.textKeys {
		return encodeTextID(key)
	}
	return key
}

// key is the key an id column value (scanned as bytes) holds.
func (s *Store) key(id []byte) ([]byte, error) {
	if s.textKeys {
		return decodeTextID(string(id))
	}
	return id, nil
}

func (s *Store) writable(op string) error {
	if s.readOnly {
		return s.fail(op, persistence.ErrReadOnly)
	}
	return nil
}

// do runs one round trip under the store's timeout. It runs it a second
// time when the first attempt certainly did not take effect (the request
// never reached the server, or the server rolled it back for a deadlock or
// serialization failure) or, for an idempotent operation, when the
// connection broke. A broken connection usually means that every pooled
// connection is broken (a server restart, a failover, a network cut), so
// the pool is emptied first: the retry dials afresh, and a restart costs
// one retry rather than one error per pooled connection.
func (s *Store) do(ctx context.Context, op string, idempotent bool, fn func(context.Context) error) error {
	for attempt := 1; ; attempt++ {
		c, cancel := ctx, context.CancelFunc(func() {})
		if s.timeout > 0 {
			c, cancel = context.WithTimeout(ctx, s.timeout)
		}
		err := fn(c)
		cancel()
		if err == nil {
			return nil
		}
		again, broken := retryable(err, idempotent)
		if broken {
			s.pool.Reset()
		}
		if attempt == 2 || ctx.Err() != nil || !again {
			return s.fail(op, err)
		}
		s.log.Debug("sql store retrying", "op", op, "error", err)
	}
}

// retryable reports whether an operation that failed with err may run
// again (see do), and whether err says the connection broke.
func retryable(err error, idempotent bool) (again, broken bool) {
	if errors.Is(err, context.DeadlineExceeded) || errors.Is(err, context.Canceled) {
		return false, false
	}
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) {
		switch {
		case pgErr.Code == "40001" || pgErr.Code == "40P01": // serialization failure, deadlock: rolled back
			return true, false
		case strings.HasPrefix(pgErr.Code, "08") || strings.HasPrefix(pgErr.Code, "57P"): // connection lost, shutdown
			return idempotent, true
		}
		return false, false
	}
	var netErr net.Error
	broken = errors.As(err, &netErr) || errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF)
	return pgconn.SafeToRetry(err) || (idempotent && broken), broken
}

// Load implements persistence.Store.
func (s *Store) Load(ctx context.Context, _ int, key []byte, now int64) (cache.Entry, bool, error) {
	var data []byte
	found := false
	err := s.do(ctx, "load", true, func(c context.Context) error {
		err := s.pool.QueryRow(c, s.q.load, s.id(key), now).Scan(&data)
		if errors.Is(err, pgx.ErrNoRows) {
			return nil
		}
		found = err == nil
		return err
	})
	if err != nil || !found {
		return cache.Entry{}, false, err
	}
	m, v, err := persistence.DecodeEntry(data)
	if err != nil {
		return cache.Entry{}, false, s.fail("load", err)
	}
	if m.Expired(now) { // the timestamp column said live; the entry decides
		return cache.Entry{}, false, nil
	}
	return cache.Entry{Key: bytes.Clone(key), Value: v, Meta: m}, true, nil
}

// Write implements persistence.Store with an upsert.
func (s *Store) Write(ctx context.Context, seg int, e cache.Entry) error {
	if err := s.writable("write"); err != nil {
		return err
	}
	id, data, ts := s.id(e.Key), persistence.EncodeEntry(nil, e.Meta, e.Value), e.Meta.ExpiresAt()
	return s.do(ctx, "write", true, func(c context.Context) error {
		_, err := s.pool.Exec(c, s.q.upsert, id, data, ts, seg)
		return err
	})
}

// WriteBatch implements persistence.Store: one transaction, sent as one
// pipelined batch. Rows are touched in key order, so two batches sharing
// keys cannot deadlock; a key both written and deleted ends deleted.
func (s *Store) WriteBatch(ctx context.Context, writes []persistence.SegmentEntry, deletes []persistence.SegmentKey) error {
	if err := s.writable("batch"); err != nil {
		return err
	}
	if len(writes)+len(deletes) == 0 {
		return nil
	}
	type op struct {
		key  []byte
		args []any
	}
	ops := make([]op, 0, len(writes)+len(deletes))
	for _, w := range writes {
		ops = append(ops, op{w.Entry.Key, []any{s.id(w.Entry.Key), persistence.EncodeEntry(nil, w.Entry.Meta, w.Entry.Value),
			w.Entry.Meta.ExpiresAt(), w.Segment}})
	}
	for _, d := range deletes {
		ops = append(ops, op{d.Key, []any{s.id(d.Key)}})
	}
	sort.SliceStable(ops, func(i, j int) bool { return bytes.Compare(ops[i].key, ops[j].key) < 0 })
	return s.do(ctx, "batch", true, func(c context.Context) error {
		b := &pgx.Batch{}
		for _, o := range ops {
			if len(o.args) == 1 {
				b.Queue(s.q.delete, o.args...)
			} else {
				b.Queue(s.q.upsert, o.args...)
			}
		}
		return pgx.BeginFunc(c, s.pool, func(tx pgx.Tx) error {
			return tx.SendBatch(c, b).Close()
		})
	})
}

// Delete implements persistence.Store. It is not retried on a broken
// connection: the first attempt may have deleted the row, and the answer
// would then be wrong.
func (s *Store) Delete(ctx context.Context, _ int, key []byte) (bool, error) {
	if err := s.writable("delete"); err != nil {
		return false, err
	}
	var n int64
	err := s.do(ctx, "delete", false, func(c context.Context) error {
		tag, err := s.pool.Exec(c, s.q.delete, s.id(key))
		n = tag.RowsAffected()
		return err
	})
	return n > 0, err
}

// row is one row of a Publish page.
type row struct {
	id, data []byte
	seg      int32
}

// Publish implements persistence.Store. It pages through the table in id
// order, one query per page of pageRows rows and one series of pages per
// requested segment (served by the (segment, id) index), and calls fn
// between queries: no connection is held while fn runs, so fn may use the
// store, and memory holds one page.
func (s *Store) Publish(ctx context.Context, segments []int, now int64, fn func(int, cache.Entry) error) error {
	if segments == nil {
		return s.publish(ctx, -1, now, fn)
	}
	segs := slices.Clone(segments)
	slices.Sort(segs)
	for _, seg := range slices.Compact(segs) {
		if err := s.publish(ctx, seg, now, fn); err != nil {
			return err
		}
	}
	return nil
}

// publish publishes one segment, or all if seg < 0.
func (s *Store) publish(ctx context.Context, seg int, now int64, fn func(int, cache.Entry) error) error {
	page := make([]row, 0, pageRows)
	var after any // the last id of the previous page
	for {
		err := s.do(ctx, "publish", true, func(c context.Context) error {
			page = page[:0]
			var rows pgx.Rows
			var err error
			switch {
			case seg < 0 && after == nil:
				rows, err = s.pool.Query(c, s.q.pageAll, now, pageRows)
			case seg < 0:
				rows, err = s.pool.Query(c, s.q.pageAllAfter, now, pageRows, after)
			case after == nil:
				rows, err = s.pool.Query(c, s.q.pageSeg, now, pageRows, seg)
			default:
				rows, err = s.pool.Query(c, s.q.pageSegAfter, now, pageRows, seg, after)
			}
			if err != nil {
				return err
			}
			defer rows.Close()
			for rows.Next() {
				var r row
				if err := rows.Scan(&r.id, &r.data, &r.seg); err != nil {
					return err
				}
				page = append(page, r)
			}
			return rows.Err()
		})
		if err != nil {
			return err
		}
		for _, r := range page {
			key, err := s.key(r.id)
			if err != nil {
				return s.fail("publish", fmt.Errorf("id %q: %w", r.id, err))
			}
			m, v, err := persistence.DecodeEntry(r.data)
			if err != nil {
				return s.fail("publish", fmt.Errorf("key %q: %w", key, err))
			}
			if m.Expired(now) {
				continue
			}
			if err := fn(int(r.seg), cache.Entry{Key: key, Value: v, Meta: m}); err != nil {
				return err
			}
		}
		if len(page) < pageRows {
			return nil
		}
		if last := page[len(page)-1].id; s.textKeys {
			after = string(last)
		} else {
			after = last
		}
	}
}

// Size implements persistence.Store.
func (s *Store) Size(ctx context.Context, now int64) (int64, error) {
	var n int64
	err := s.do(ctx, "size", true, func(c context.Context) error {
		return s.pool.QueryRow(c, s.q.size, now).Scan(&n)
	})
	return n, err
}

// Clear implements persistence.Store.
func (s *Store) Clear(ctx context.Context) error {
	if err := s.writable("clear"); err != nil {
		return err
	}
	return s.do(ctx, "clear", true, func(c context.Context) error {
		_, err := s.pool.Exec(c, s.q.clear)
		return err
	})
}

// PurgeExpired implements persistence.Store: it deletes the rows whose
// timestamp column is at or before now, purgeRows at a time, and calls fn
// after each statement with the keys it deleted.
func (s *Store) PurgeExpired(ctx context.Context, now int64, fn func(int, []byte)) error {
	if err := s.writable("purge"); err != nil {
		return err
	}
	var deleted []row
	for {
		err := s.do(ctx, "purge", true, func(c context.Context) error {
			deleted = deleted[:0]
			rows, err := s.pool.Query(c, s.q.purge, now, purgeRows)
			if err != nil {
				return err
			}
			defer rows.Close()
			for rows.Next() {
				var r row
				if err := rows.Scan(&r.id, &r.seg); err != nil {
					return err
				}
				deleted = append(deleted, r)
			}
			return rows.Err()
		})
		if err != nil {
			return err
		}
		if fn != nil {
			for _, r := range deleted {
				if key, err := s.key(r.id); err == nil {
					fn(int(r.seg), key)
				}
			}
		}
		if len(deleted) < purgeRows {
			return nil
		}
	}
}
