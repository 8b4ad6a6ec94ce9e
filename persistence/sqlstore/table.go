package sqlstore

import (
	"context"
	"errors"
	"fmt"
	"hash/fnv"
	"regexp"
	"strings"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/hotgrid/hotgrid/config"
)

// The table's defaults: the names and types of Infinispan's
// string-keyed-table examples (Infinispan's own code requires every one of
// them to be configured), which is also what hotgrid's configuration
// reader fills in, except for the id column: BYTEA holds a key as it is,
// where a text column needs it encoded (see encodeID).
const (
	DefaultPrefix            = "ISPN_STRING_TABLE"
	DefaultIDColumn          = "ID_COLUMN"
	DefaultIDColumnType      = "BYTEA"
	DefaultDataColumn        = "DATA_COLUMN"
	DefaultDataColumnType    = "BYTEA"
	DefaultTimestampColumn   = "TIMESTAMP_COLUMN"
	DefaultTimestampColType  = "BIGINT"
	DefaultSegmentColumn     = "SEGMENT_COLUMN"
	DefaultSegmentColumnType = "INT"
)

// maxIdent is PostgreSQL's identifier length (NAMEDATALEN-1); longer names
// are silently truncated by the server, so that two caches could share a
// table. Open refuses them instead.
const maxIdent = 63

var (
	notAlnum   = regexp.MustCompile(`[^A-Za-z0-9]`)
	plainIdent = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)
	sqlType    = regexp.MustCompile(`^[A-Za-z][A-Za-z0-9_ ]*(\([0-9, ]*\))?( *\[\])?$`)
)

// TableName is the table Infinispan's string-keyed JDBC store uses for a
// cache: the prefix, an underscore and the cache name with every character
// other than an ASCII letter or digit replaced by an underscore. A dot in
// the prefix separates a schema ("grid.ISPN" puts the table in schema
// grid). An empty prefix means DefaultPrefix.
func TableName(prefix, cacheName string) string {
	if prefix == "" {
		prefix = DefaultPrefix
	}
	return prefix + "_" + notAlnum.ReplaceAllString(cacheName, "_")
}

// table is a cache's table and its columns, as SQL text.
type table struct {
	schema, name string // unquoted; schema "" means the search path's first
	sql          string // quoted and qualified
	// Column names as the catalog holds them and as SQL text. Infinispan
	// writes column names unquoted, so PostgreSQL folds them to lower
	// case; hotgrid quotes the folded name, which is the same column and
	// safe from reserved words.
	id, data, ts, seg         string
	idSQL, dataSQL, tsSQL     string
	segSQL                    string
	idType, dataType, tsType  string
	segType                   string
	timestampIndex, segmentIx string // unquoted index names
}

// quote quotes an SQL identifier.
func quote(s string) string { return `"` + strings.ReplaceAll(s, `"`, `""`) + `"` }

// newTable works out a cache's table from its configuration, filling the
// defaults and refusing names PostgreSQL would truncate or that are not
// plain identifiers.
func newTable(tc config.Table, cacheName string) (*table, error) {
	if strings.TrimSpace(cacheName) == "" {
		return nil, errors.New("no cache name")
	}
	full := TableName(tc.Prefix, cacheName)
	t := &table{name: full}
	if schema, name, ok := strings.Cut(full, "."); ok {
		if schema == "" {
			return nil, fmt.Errorf("table prefix %q: empty schema before the dot", tc.Prefix)
		}
		t.schema, t.name = schema, name
	}
	for _, n := range []string{t.schema, t.name} {
		if len(n) > maxIdent {
			return nil, fmt.Errorf("table name %q is %d bytes; PostgreSQL keeps %d: use a shorter prefix or cache name", n, len(n), maxIdent)
		}
	}
	t.sql = quote(t.name)
	if t.schema != "" {
		t.sql = quote(t.schema) + "." + t.sql
	}
	cols := []struct {
		c                config.Column
		defName, defType string
		name, sql, typ   *string
	}{
		{tc.IDColumn, DefaultIDColumn, DefaultIDColumnType, &t.id, &t.idSQL, &t.idType},
		{tc.DataColumn, DefaultDataColumn, DefaultDataColumnType, &t.data, &t.dataSQL, &t.dataType},
		{tc.TimeColumn, DefaultTimestampColumn, DefaultTimestampColType, &t.ts, &t.tsSQL, &t.tsType},
		{tc.SegmentColumn, DefaultSegmentColumn, DefaultSegmentColumnType, &t.seg, &t.segSQL, &t.segType},
	}
	seen := map[string]bool{}
	for _, c := range cols {
		name, typ := c.c.Name, c.c.Type
		if name == "" {
			name = c.defName
		}
		if typ == "" {
			typ = c.defType
		}
		if !plainIdent.MatchString(name) || len(name) > maxIdent {
			return nil, fmt.Errorf("column name %q: want letters, digits and _ (at most %d)", name, maxIdent)
		}
		if !sqlType.MatchString(typ) {
			return nil, fmt.Errorf("column %s type %q: not an SQL type name", name, typ)
		}
		folded := strings.ToLower(name)
		if seen[folded] {
			return nil, fmt.Errorf("column name %q is used twice", name)
		}
		seen[folded] = true
		*c.name, *c.sql, *c.typ = folded, quote(folded), typ
	}
	// Infinispan's index names, shortened with a hash if PostgreSQL would
	// truncate them.
	t.timestampIndex = indexName(t.name, "_timestamp_index")
	t.segmentIx = indexName(t.name, "_segment_index")
	return t, nil
}

// indexName is table+suffix, or if that is too long a prefix of table, a
// hash of the whole name and the suffix.
func indexName(table, suffix string) string {
	if n := table + suffix; len(n) <= maxIdent {
		return n
	}
	h := fnv.New32a()
	h.Write([]byte(table))
	return fmt.Sprintf("%s_%08x%s", table[:maxIdent-len(suffix)-9], h.Sum32(), suffix)
}

// exists reports whether the table is there.
func (t *table) exists(ctx context.Context, pool *pgxpool.Pool) (bool, error) {
	var ok bool
	err := pool.QueryRow(ctx, `SELECT to_regclass($1) IS NOT NULL`, t.sql).Scan(&ok)
	return ok, err
}

// create makes the table and its indexes where they are missing, with the
// statements Infinispan uses (PRIMARY KEY on the id, NOT NULL columns, an
// index on the timestamp and one on the segment). The segment index also
// covers the id, so that publishing a segment pages through it in key
// order. Like Infinispan it looks before it creates, so that a table made
// and owned by someone else needs no privilege beyond reading and writing.
// An advisory lock serialises stores that start together on one database:
// concurrent CREATE … IF NOT EXISTS can fail in PostgreSQL.
func (t *table) create(ctx context.Context, pool *pgxpool.Pool) error {
	return pgx.BeginFunc(ctx, pool, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock(hashtext($1))`, "hotgrid sqlstore "+t.sql); err != nil {
			return err
		}
		for _, c := range []struct{ name, ddl string }{
			{t.sql, fmt.Sprintf(`CREATE TABLE %s (%s %s NOT NULL, %s %s NOT NULL, %s %s NOT NULL, %s %s NOT NULL, PRIMARY KEY (%s))`,
				t.sql, t.idSQL, t.idType, t.dataSQL, t.dataType, t.tsSQL, t.tsType, t.segSQL, t.segType, t.idSQL)},
			{t.qualify(t.timestampIndex), fmt.Sprintf(`CREATE INDEX %s ON %s (%s)`, quote(t.timestampIndex), t.sql, t.tsSQL)},
			{t.qualify(t.segmentIx), fmt.Sprintf(`CREATE INDEX %s ON %s (%s, %s)`, quote(t.segmentIx), t.sql, t.segSQL, t.idSQL)},
		} {
			var exists bool
			if err := tx.QueryRow(ctx, `SELECT to_regclass($1) IS NOT NULL`, c.name).Scan(&exists); err != nil {
				return err
			}
			if exists {
				continue
			}
			if _, err := tx.Exec(ctx, c.ddl); err != nil {
				return fmt.Errorf("%s: %w", strings.SplitN(c.ddl, " (", 2)[0], err)
			}
		}
		return nil
	})
}

// qualify is a relation of the table's schema as SQL text (an index lives
// in its table's schema).
func (t *table) qualify(name string) string {
	if t.schema != "" {
		return quote(t.schema) + "." + quote(name)
	}
	return quote(name)
}

// drop removes the table and its indexes.
func (t *table) drop(ctx context.Context, pool *pgxpool.Pool) error {
	_, err := pool.Exec(ctx, `DROP TABLE IF EXISTS `+t.sql)
	return err
}

// layout is what check found out about an existing table.
type layout struct {
	textKeys bool   // the id column is a text type: keys are encoded
	idType   string // as the catalog formats it, for logs
}

// check reads the table's columns from the catalog and verifies that the
// store can use them: the four columns exist with usable types and the id
// column has a unique index (INSERT … ON CONFLICT needs one). A table made
// by hand or by an older version thus fails at Open with a message that
// says what is wrong, not at the first write.
func (t *table) check(ctx context.Context, pool *pgxpool.Pool) (layout, error) {
	rows, err := pool.Query(ctx, `SELECT a.attname, format_type(a.atttypid, a.atttypmod), t.typname, t.typcategory::text
FROM pg_attribute a JOIN pg_type t ON t.oid = a.atttypid
WHERE a.attrelid = to_regclass($1) AND a.attnum > 0 AND NOT a.attisdropped`, t.sql)
	if err != nil {
		return layout{}, err
	}
	type col struct{ format, typname, category string }
	cols := map[string]col{}
	var names []string
	for rows.Next() {
		var name string
		var c col
		if err := rows.Scan(&name, &c.format, &c.typname, &c.category); err != nil {
			rows.Close()
			return layout{}, err
		}
		cols[name] = c
		names = append(names, name)
	}
	if err := rows.Err(); err != nil {
		return layout{}, err
	}
	var l layout
	for _, want := range []struct {
		name, role string
		ok         func(col) bool
		need       string
	}{
		{t.id, "id", func(c col) bool { return c.typname == "bytea" || c.category == "S" }, "BYTEA or a text type"},
		{t.data, "data", func(c col) bool { return c.typname == "bytea" }, "BYTEA"},
		{t.ts, "timestamp", func(c col) bool { return c.typname == "int8" || c.typname == "numeric" }, "BIGINT"},
		{t.seg, "segment", func(c col) bool { return c.typname == "int2" || c.typname == "int4" || c.typname == "int8" }, "INT"},
	} {
		c, ok := cols[want.name]
		if !ok {
			return l, fmt.Errorf("no %s column %s (the table has %s)", want.role, quote(want.name), strings.Join(names, ", "))
		}
		if !want.ok(c) {
			return l, fmt.Errorf("%s column %s is %s, want %s", want.role, quote(want.name), c.format, want.need)
		}
	}
	l.textKeys = cols[t.id].typname != "bytea"
	l.idType = cols[t.id].format
	var unique bool
	err = pool.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM pg_index i JOIN pg_attribute a
  ON a.attrelid = i.indrelid AND a.attnum = i.indkey[0]
WHERE i.indrelid = to_regclass($1) AND i.indisunique AND i.indnkeyatts = 1 AND i.indpred IS NULL AND a.attname = $2)`,
		t.sql, t.id).Scan(&unique)
	if err != nil {
		return l, err
	}
	if !unique {
		return l, fmt.Errorf("id column %s has no primary key or unique index", quote(t.id))
	}
	return l, nil
}
