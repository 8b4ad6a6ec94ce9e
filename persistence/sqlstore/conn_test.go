package sqlstore

import (
	"bytes"
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/hotgrid/hotgrid/config"
)

// These tests need no database.

func TestFromJDBC(t *testing.T) {
	for _, tc := range []struct {
		in, want string
		ignored  string
	}{
		{"postgres://h/db", "postgres://h/db", ""},
		{"jdbc:postgresql://db:5432/app", "postgres://db:5432/app", ""},
		{"jdbc:postgresql://h1:5432,h2:5433/app?targetServerType=primary", "postgres://h1:5432,h2:5433/app?target_session_attrs=primary", ""},
		{"jdbc:postgresql:app", "postgres://localhost/app", ""},
		{"jdbc:postgresql:/", "postgres://localhost/", ""},
		{"jdbc:postgresql://h/db?ssl=true", "postgres://h/db?sslmode=verify-full", ""},
		{"jdbc:postgresql://h/db?ssl=true&sslmode=require", "postgres://h/db?sslmode=require", ""},
		{"jdbc:postgresql://h/db?connectTimeout=3&ApplicationName=grid&currentSchema=s", "postgres://h/db?application_name=grid&connect_timeout=3&search_path=s", ""},
		{"jdbc:postgresql://h/db?loginTimeout=5&reWriteBatchedInserts=true&pool_max_conns=3", "postgres://h/db?pool_max_conns=3", "loginTimeout reWriteBatchedInserts"},
		{"jdbc:postgresql://h/db?user=a&password=p%26q", "postgres://h/db?password=p%26q&user=a", ""},
	} {
		got, ignored, err := fromJDBC(tc.in)
		if err != nil || got != tc.want || strings.Join(ignored, " ") != tc.ignored {
			t.Errorf("fromJDBC(%q) = %q %v %v, want %q %q", tc.in, got, ignored, err, tc.want, tc.ignored)
		}
	}
	if _, _, err := fromJDBC("jdbc:mysql://db/app"); err == nil || !strings.Contains(err.Error(), "only PostgreSQL") {
		t.Errorf("a MySQL URL: %v", err)
	}
}

func TestParseConnection(t *testing.T) {
	c, err := parseConnection("jdbc:postgresql://db.example:6543/grid?user=urluser&password=urlsecret&sslmode=disable", "", "")
	if err != nil {
		t.Fatal(err)
	}
	cc := c.config.ConnConfig
	if cc.User != "urluser" || cc.Password != "urlsecret" || cc.Host != "db.example" || cc.Port != 6543 || cc.Database != "grid" {
		t.Errorf("parsed %s@%s:%d/%s", cc.User, cc.Host, cc.Port, cc.Database)
	}
	if c.where != "postgresql://urluser@db.example:6543/grid" {
		t.Errorf("where = %q", c.where)
	}
	if cc.ConnectTimeout != defaultConnectTimeout || cc.RuntimeParams["application_name"] != "hotgrid" {
		t.Errorf("defaults: %v %q", cc.ConnectTimeout, cc.RuntimeParams["application_name"])
	}
	// Options win over the URL.
	c, err = parseConnection("postgres://urluser:urlsecret@h:1/d?connect_timeout=2", "optuser", "optsecret")
	if err != nil {
		t.Fatal(err)
	}
	if cc := c.config.ConnConfig; cc.User != "optuser" || cc.Password != "optsecret" || cc.ConnectTimeout != 2*time.Second {
		t.Errorf("options: %s %s %v", cc.User, cc.Password, cc.ConnectTimeout)
	}
	if strings.Contains(c.where, "secret") {
		t.Errorf("where shows a password: %q", c.where)
	}
	// A parse error does not quote the password.
	_, err = parseConnection("postgres://u:hunter2@h:notaport/d", "", "")
	if err == nil || strings.Contains(err.Error(), "hunter2") {
		t.Errorf("bad URL: %v", err)
	}
	if _, err := parseConnection("", "", ""); err == nil {
		t.Error("an empty URL was accepted")
	}
}

func TestTableName(t *testing.T) {
	for _, tc := range []struct{ prefix, cache, want string }{
		{"ISPN_STRING_TABLE", "default", "ISPN_STRING_TABLE_default"},
		{"", "c", "ISPN_STRING_TABLE_c"},
		{"P", "my-cache.v1/x", "P_my_cache_v1_x"},
		{"P", "café☃", "P_caf__"},
		{"s.P", "c", "s.P_c"},
	} {
		if got := TableName(tc.prefix, tc.cache); got != tc.want {
			t.Errorf("TableName(%q, %q) = %q, want %q", tc.prefix, tc.cache, got, tc.want)
		}
	}
}

func TestNewTable(t *testing.T) {
	tb, err := newTable(config.Table{Prefix: "grid.P"}, "c")
	if err != nil {
		t.Fatal(err)
	}
	if tb.sql != `"grid"."P_c"` || tb.idSQL != `"id_column"` || tb.idType != "BYTEA" || tb.segSQL != `"segment_column"` ||
		tb.timestampIndex != "P_c_timestamp_index" || tb.segmentIx != "P_c_segment_index" {
		t.Errorf("table %+v", tb)
	}
	// Index names PostgreSQL would truncate get a hash instead, so that
	// two long table names sharing a prefix keep distinct indexes.
	a, err := newTable(config.Table{Prefix: "P"}, strings.Repeat("x", 50)+"a")
	if err != nil {
		t.Fatal(err)
	}
	b, err := newTable(config.Table{Prefix: "P"}, strings.Repeat("x", 50)+"b")
	if err != nil {
		t.Fatal(err)
	}
	for _, n := range []string{a.timestampIndex, a.segmentIx, b.timestampIndex} {
		if len(n) > maxIdent {
			t.Errorf("index name %q is %d bytes", n, len(n))
		}
	}
	if a.timestampIndex == b.timestampIndex || !strings.HasSuffix(a.timestampIndex, "_timestamp_index") {
		t.Errorf("long index names %q %q", a.timestampIndex, b.timestampIndex)
	}
	for _, bad := range []struct {
		tc    config.Table
		cache string
		want  string
	}{
		{config.Table{}, "", "no cache name"},
		{config.Table{}, strings.Repeat("c", 50), "PostgreSQL keeps 63"},
		{config.Table{Prefix: ".P"}, "c", "empty schema"},
		{config.Table{IDColumn: config.Column{Name: `id"; DROP TABLE x; --`}}, "c", "column name"},
		{config.Table{DataColumn: config.Column{Type: "BYTEA); DROP TABLE x; --"}}, "c", "not an SQL type"},
		{config.Table{IDColumn: config.Column{Name: "K"}, DataColumn: config.Column{Name: "k"}}, "c", "used twice"},
	} {
		if _, err := newTable(bad.tc, bad.cache); err == nil || !strings.Contains(err.Error(), bad.want) {
			t.Errorf("newTable(%+v, %q): %v, want %q", bad.tc, bad.cache, err, bad.want)
		}
	}
}

func TestTextIDs(t *testing.T) {
	for _, k := range [][]byte{nil, {0}, []byte("key"), bytes.Repeat([]byte{0xff}, 100)} {
		id := encodeTextID(k)
		if !strings.HasPrefix(id, "\uFEFF8") {
			t.Errorf("id %q", id)
		}
		if back, err := decodeTextID(id); err != nil || !bytes.Equal(back, k) {
			t.Errorf("decode(encode(%x)) = %x %v", k, back, err)
		}
	}
	if k, err := decodeTextID("\uFEFF9AAE="); err != nil || !bytes.Equal(k, []byte{0, 1}) {
		t.Errorf("native byte[] id: %x %v", k, err)
	}
	if _, err := decodeTextID("plain"); err == nil {
		t.Error("a string id was taken for a key")
	}
	if _, err := decodeTextID("\uFEFF8!!"); err == nil {
		t.Error("bad base64 accepted")
	}
}

// An unreachable server gives, within the deadline, an error naming the
// server and the cause but not the password.
func TestOpenUnreachable(t *testing.T) {
	ctx, cancel := context.WithTimeout(t.Context(), 5*time.Second)
	defer cancel()
	start := time.Now()
	_, err := Open(ctx, Options{ConnectionURL: "jdbc:postgresql://127.0.0.1:1/hotgrid", Username: "u", Password: "s3cret", CacheName: "x"})
	if err == nil {
		t.Fatal("opened")
	}
	msg := err.Error()
	for _, w := range []string{"postgresql://u@127.0.0.1:1/hotgrid", `"ISPN_STRING_TABLE_x"`, "connect", "refused"} {
		if !strings.Contains(msg, w) {
			t.Errorf("error %q does not say %q", msg, w)
		}
	}
	if strings.Contains(msg, "s3cret") {
		t.Errorf("error shows the password: %q", msg)
	}
	if time.Since(start) > 4*time.Second {
		t.Errorf("took %v", time.Since(start))
	}
	// A context that ends first ends Open, and errors.Is sees it.
	ctx, cancel = context.WithCancel(t.Context())
	cancel()
	if _, err := Open(ctx, Options{ConnectionURL: "postgres://10.255.255.1/x", CacheName: "x"}); !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled open: %v", err)
	}
}
