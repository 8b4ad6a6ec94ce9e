package cli

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/hotgrid/hotgrid/server"
)

func TestCommands(t *testing.T) {
	n, err := server.New(server.Options{BindAddress: "127.0.0.1", PortSet: true,
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	if err := n.Start(ctx); err != nil {
		t.Fatal(err)
	}
	defer func() {
		sctx, cancel := context.WithTimeout(ctx, 5*time.Second)
		defer cancel()
		n.Shutdown(sctx)
	}()
	addr := n.Addr().String()
	cfg := filepath.Join(t.TempDir(), "c.json")
	os.WriteFile(cfg, []byte(`{"local-cache":{"encoding":{"media-type":"text/plain"}}}`), 0o644)
	run := func(want int, args ...string) string {
		t.Helper()
		var out, errb bytes.Buffer
		code := Run(ctx, append([]string{"--server", addr}, args...), &out, &errb)
		if code != want {
			t.Fatalf("%v: exit %d (want %d), stderr %s", args, code, want, errb.String())
		}
		return strings.TrimSpace(out.String() + errb.String())
	}
	run(0, "put", "greeting", "hello", "--lifespan", "1h")
	if got := run(0, "get", "greeting"); got != "hello" {
		t.Fatalf("get: %q", got)
	}
	if got := run(0, "size"); got != "1" {
		t.Fatalf("size: %q", got)
	}
	run(0, "create", "cache", "orders", "--template", "org.infinispan.DIST_SYNC")
	run(0, "create", "cache", "text", "--file", cfg)
	run(0, "--cache", "text", "put", "k", "v")
	if got := run(0, "--cache", "text", "keys"); got != "k" {
		t.Fatalf("keys: %q", got)
	}
	if got := run(0, "ls", "caches"); !strings.Contains(got, "orders") || !strings.Contains(got, "text") {
		t.Fatalf("ls caches: %q", got)
	}
	run(0, "remove", "cache", "orders")
	if got := run(1, "--cache", "orders", "get", "x"); !strings.Contains(got, "cache 'orders' not found") {
		t.Fatalf("missing cache: %q", got)
	}
	run(0, "remove", "greeting")
	if got := run(1, "get", "greeting"); !strings.Contains(got, "not found") {
		t.Fatalf("missing key: %q", got)
	}
	run(2, "frobnicate")
	run(2, "get")
}
