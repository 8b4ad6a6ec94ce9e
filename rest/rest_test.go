package rest

import (
	"encoding/base64"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/hotgrid/hotgrid/cache"
	"github.com/hotgrid/hotgrid/config"
	"github.com/hotgrid/hotgrid/hotrod"
)

func newServer(t *testing.T) (*httptest.Server, *cache.Manager) {
	t.Helper()
	text := config.NewCache("text", config.ModeDistributed)
	text.KeyMediaType, text.ValueMediaType = "text/plain", "text/plain"
	m, err := cache.NewManager(cache.ManagerOptions{Container: &config.Container{
		Name: "default", DefaultCache: "text", Caches: []*config.Cache{text},
	}})
	if err != nil {
		t.Fatal(err)
	}
	h := NewHandler(Options{Manager: m, Logger: slog.New(slog.NewTextHandler(io.Discard, nil)), ServerVersion: "test",
		CacheConfigFor: func(name, tmpl, doc string) (*config.Cache, error) {
			return hotrod.CacheConfigFor(m, name, tmpl, doc)
		}})
	s := httptest.NewServer(h)
	t.Cleanup(func() { s.Close(); m.Close() })
	return s, m
}

type call struct {
	method, path, body string
	headers            map[string]string
}

func do(t *testing.T, s *httptest.Server, c call) (*http.Response, string) {
	t.Helper()
	req, _ := http.NewRequest(c.method, s.URL+c.path, strings.NewReader(c.body))
	for k, v := range c.headers {
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	return resp, string(b)
}

func expect(t *testing.T, s *httptest.Server, c call, status int) string {
	t.Helper()
	resp, body := do(t, s, c)
	if resp.StatusCode != status {
		t.Fatalf("%s %s: status %d (want %d), body %q", c.method, c.path, resp.StatusCode, status, body)
	}
	return body
}

func TestContainerAndHealth(t *testing.T) {
	s, _ := newServer(t)
	if b := expect(t, s, call{method: "GET", path: "/rest/v2/container/health/status"}, 200); b != "HEALTHY" {
		t.Fatalf("%q", b)
	}
	if b := expect(t, s, call{method: "GET", path: "/rest/v2/cache-managers/default/health/status"}, 200); b != "HEALTHY" {
		t.Fatalf("%q", b)
	}
	var info map[string]any
	json.Unmarshal([]byte(expect(t, s, call{method: "GET", path: "/rest/v2/cache-managers/default"}, 200)), &info)
	if v, _ := info["version"].(string); !strings.HasPrefix(v, "15.") {
		t.Fatalf("version %v", info["version"])
	}
	expect(t, s, call{method: "GET", path: "/rest/v2/container/health"}, 200)
	expect(t, s, call{method: "GET", path: "/rest/v2/server"}, 200)
	expect(t, s, call{method: "GET", path: "/rest/v2/nothing"}, 404)
}

func TestCacheLifecycle(t *testing.T) {
	s, _ := newServer(t)
	expect(t, s, call{method: "HEAD", path: "/rest/v2/caches/c1"}, 404)
	expect(t, s, call{method: "POST", path: "/rest/v2/caches/c1?template=org.infinispan.DIST_SYNC"}, 200)
	expect(t, s, call{method: "HEAD", path: "/rest/v2/caches/c1"}, 204)
	expect(t, s, call{method: "POST", path: "/rest/v2/caches/c1?template=org.infinispan.DIST_SYNC"}, 400)
	expect(t, s, call{method: "POST", path: "/rest/v2/caches/c2", body: `{"local-cache":{"encoding":{"media-type":"text/plain"}}}`,
		headers: map[string]string{"Content-Type": "application/json"}}, 200)
	expect(t, s, call{method: "POST", path: "/rest/v2/caches/c3", body: `<replicated-cache mode="SYNC"/>`,
		headers: map[string]string{"Content-Type": "application/xml"}}, 200)
	expect(t, s, call{method: "POST", path: "/rest/v2/caches/c4", body: `{"local-cache":{"colour":"red"}}`}, 400)
	expect(t, s, call{method: "POST", path: "/rest/v2/caches/c5", body: `x`, headers: map[string]string{"Content-Type": "image/png"}}, 415)
	var names []string
	json.Unmarshal([]byte(expect(t, s, call{method: "GET", path: "/rest/v2/caches"}, 200)), &names)
	if strings.Join(names, ",") != "c1,c2,c3,text" {
		t.Fatalf("names %v", names)
	}
	cfg := expect(t, s, call{method: "GET", path: "/rest/v2/caches/c2?action=config"}, 200)
	if !strings.Contains(cfg, `"local-cache"`) || !strings.Contains(cfg, "text/plain") {
		t.Fatalf("config %s", cfg)
	}
	if x := expect(t, s, call{method: "GET", path: "/rest/v2/caches/c3?action=config", headers: map[string]string{"Accept": "application/xml"}}, 200); !strings.HasPrefix(x, "<replicated-cache") {
		t.Fatalf("xml config %s", x)
	}
	expect(t, s, call{method: "GET", path: "/rest/v2/caches/c1"}, 200)
	expect(t, s, call{method: "DELETE", path: "/rest/v2/caches/c1"}, 200)
	expect(t, s, call{method: "DELETE", path: "/rest/v2/caches/c1"}, 404)
	expect(t, s, call{method: "GET", path: "/rest/v2/caches/c1/k"}, 404)
}

func TestEntries(t *testing.T) {
	s, m := newServer(t)
	p := "/rest/v2/caches/text/"
	expect(t, s, call{method: "PUT", path: p + "k1", body: "v1", headers: map[string]string{"Content-Type": "text/plain"}}, 204)
	resp, body := do(t, s, call{method: "GET", path: p + "k1"})
	if resp.StatusCode != 200 || body != "v1" || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/plain") {
		t.Fatalf("get: %d %q %v", resp.StatusCode, body, resp.Header)
	}
	tag := resp.Header.Get("ETag")
	expect(t, s, call{method: "GET", path: p + "k1", headers: map[string]string{"If-None-Match": tag}}, 304)
	expect(t, s, call{method: "GET", path: p + "k1", headers: map[string]string{"If-Match": `"1"`}}, 412)
	expect(t, s, call{method: "GET", path: p + "k1", headers: map[string]string{"If-Modified-Since": time.Now().Add(time.Hour).UTC().Format(http.TimeFormat)}}, 304)
	expect(t, s, call{method: "GET", path: p + "k1", headers: map[string]string{"If-Unmodified-Since": time.Now().Add(-time.Hour).UTC().Format(http.TimeFormat)}}, 412)
	expect(t, s, call{method: "PUT", path: p + "k1", body: "v2", headers: map[string]string{"If-Match": `"1"`}}, 412)
	expect(t, s, call{method: "POST", path: p + "k1", body: "x"}, 409)
	expect(t, s, call{method: "POST", path: p + "k2", body: "x"}, 204)
	if j := expect(t, s, call{method: "GET", path: p + "k2", headers: map[string]string{"Accept": "application/json"}}, 200); j != `"x"` {
		t.Fatalf("json %q", j)
	}
	resp, _ = do(t, s, call{method: "HEAD", path: p + "k1"})
	if resp.StatusCode != 200 || resp.Header.Get("ETag") != tag {
		t.Fatalf("head %d %v", resp.StatusCode, resp.Header)
	}
	// Keys in hex and base64, and a key with a slash.
	expect(t, s, call{method: "PUT", path: p + "6869", body: "hex", headers: map[string]string{"Key-Content-Type": "application/octet-stream; encoding=hex"}}, 204)
	if b := expect(t, s, call{method: "GET", path: p + "hi"}, 200); b != "hex" {
		t.Fatalf("hex key: %q", b)
	}
	k64 := base64.URLEncoding.EncodeToString([]byte("a/b?c"))
	expect(t, s, call{method: "PUT", path: p + k64, body: "b64", headers: map[string]string{"Key-Content-Type": "application/octet-stream;encoding=base64"}}, 204)
	expect(t, s, call{method: "PUT", path: p + "dir%2Ffile", body: "slash"}, 204)
	c, _ := m.Cache("text")
	for k, v := range map[string]string{"a/b?c": "b64", "dir/file": "slash"} {
		if e, ok, _ := c.Get(t.Context(), []byte(k)); !ok || string(e.Value) != v {
			t.Fatalf("cache key %q: %q %v", k, e.Value, ok)
		}
	}
	// Expiration headers.
	expect(t, s, call{method: "PUT", path: p + "ttl", body: "x", headers: map[string]string{"timeToLiveSeconds": "1", "maxIdleTimeSeconds": "-1"}}, 204)
	resp, _ = do(t, s, call{method: "GET", path: p + "ttl"})
	if resp.Header.Get("timeToLiveSeconds") != "1" || resp.Header.Get("Expires") == "" {
		t.Fatalf("ttl headers %v", resp.Header)
	}
	expect(t, s, call{method: "PUT", path: p + "bad", body: "x", headers: map[string]string{"timeToLiveSeconds": "soon"}}, 400)
	time.Sleep(1100 * time.Millisecond)
	expect(t, s, call{method: "GET", path: p + "ttl"}, 404)
	// Listing, size, stats, clear.
	var keys []string
	json.Unmarshal([]byte(expect(t, s, call{method: "GET", path: "/rest/v2/caches/text?action=keys"}, 200)), &keys)
	if len(keys) != 5 {
		t.Fatalf("keys %v", keys)
	}
	json.Unmarshal([]byte(expect(t, s, call{method: "GET", path: "/rest/v2/caches/text?action=keys&limit=2"}, 200)), &keys)
	if len(keys) != 2 {
		t.Fatalf("limited keys %v", keys)
	}
	var entries []map[string]any
	if err := json.Unmarshal([]byte(expect(t, s, call{method: "GET", path: "/rest/v2/caches/text?action=entries&metadata=true"}, 200)), &entries); err != nil || len(entries) != 5 {
		t.Fatalf("entries %v %v", entries, err)
	}
	if _, ok := entries[0]["version"]; !ok {
		t.Fatalf("entry without metadata: %v", entries[0])
	}
	if n := expect(t, s, call{method: "GET", path: "/rest/v2/caches/text?action=size"}, 200); strings.TrimSpace(n) != "5" {
		t.Fatalf("size %q", n)
	}
	expect(t, s, call{method: "GET", path: "/rest/v2/caches/text?action=stats"}, 200)
	expect(t, s, call{method: "DELETE", path: p + "k1"}, 204)
	expect(t, s, call{method: "DELETE", path: p + "k1"}, 404)
	expect(t, s, call{method: "POST", path: "/rest/v2/caches/text?action=clear"}, 204)
	if n := expect(t, s, call{method: "GET", path: "/rest/v2/caches/text?action=size"}, 200); strings.TrimSpace(n) != "0" {
		t.Fatalf("size after clear %q", n)
	}
}

func FuzzDecodeKey(f *testing.F) {
	f.Add("aGk=", "application/octet-stream; encoding=base64", "text/plain")
	f.Add("6869", "application/octet-stream;encoding=hex", "application/x-protostream")
	f.Add("k", "", "")
	f.Fuzz(func(t *testing.T, raw, kct, storage string) {
		decodeKey(raw, kct, storage)
		valueIn([]byte(raw), kct, storage)
		renderValue([]byte(raw), storage, kct)
	})
}
