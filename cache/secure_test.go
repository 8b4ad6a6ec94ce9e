package cache

import (
	"context"
	"errors"
	"testing"

	"github.com/hotgrid/hotgrid/config"
	"github.com/hotgrid/hotgrid/security/authz"
)

func securedManager(t testing.TB) *Manager {
	t.Helper()
	p, err := authz.NewPolicy(nil, "")
	if err != nil {
		t.Fatal(err)
	}
	ctr := &config.Container{Name: "default", Caches: []*config.Cache{
		config.NewCache("open", config.ModeLocal),
		func() *config.Cache {
			c := config.NewCache("admins", config.ModeLocal)
			c.Authorization.Roles = []string{"admin"}
			return c
		}(),
	}}
	m, err := NewManager(ManagerOptions{Container: ctr, Authorization: p})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(m.Close)
	return m
}

// TestSecuredLayer checks the permission each operation needs, per-cache
// role lists, and that a context without a subject is refused.
func TestSecuredLayer(t *testing.T) {
	m := securedManager(t)
	p := m.Policy()
	as := func(name string, groups ...string) context.Context {
		return authz.WithSubject(context.Background(), p.Subject(name, groups))
	}
	admin, observer, app := as("root", "admin"), as("o", "observer"), as("a", "application")
	c, _ := m.Cache("open")
	k := []byte("k")
	if _, _, err := c.Put(admin, k, []byte("v"), DefaultWrite); err != nil {
		t.Fatal(err)
	}
	if _, _, err := c.Get(observer, k); err != nil {
		t.Fatalf("observer get: %v", err)
	}
	if _, _, err := c.Put(observer, k, []byte("x"), DefaultWrite); !errors.Is(err, authz.ErrDenied) {
		t.Fatalf("observer put: %v", err)
	}
	if err := c.Clear(observer); !errors.Is(err, authz.ErrDenied) {
		t.Fatalf("observer clear: %v", err)
	}
	if n, err := c.Size(observer); err != nil || n != 1 {
		t.Fatalf("observer size: %d %v", n, err)
	}
	if _, _, err := c.Compute(observer, k, func(Entry, bool) ([]byte, Write, ComputeAction) { return nil, Write{}, ComputeKeep }); !errors.Is(err, authz.ErrDenied) {
		t.Fatalf("observer compute: %v", err)
	}
	if _, _, err := c.Get(context.Background(), k); !errors.Is(err, authz.ErrUnauthenticated) {
		t.Fatalf("no subject: %v", err)
	}
	if err := Authorize(observer, c, authz.Listen); !errors.Is(err, authz.ErrDenied) {
		t.Fatalf("observer listen: %v", err)
	}
	if err := Authorize(app, c, authz.Listen); err != nil {
		t.Fatalf("application listen: %v", err)
	}
	if err := m.Authorize(app, authz.Create); !errors.Is(err, authz.ErrDenied) {
		t.Fatalf("application create: %v", err)
	}
	// A cache restricted to admin refuses the application role although
	// it holds WRITE.
	r, _ := m.Cache("admins")
	if _, _, err := r.Put(app, k, []byte("v"), DefaultWrite); !errors.Is(err, authz.ErrDenied) {
		t.Fatalf("application on an admin-only cache: %v", err)
	}
	if _, _, err := r.Put(admin, k, []byte("v"), DefaultWrite); err != nil {
		t.Fatalf("admin on an admin-only cache: %v", err)
	}
	if v, _, _ := c.Get(admin, k); string(v.Value) != "v" {
		t.Fatalf("a denied write changed the value: %q", v.Value)
	}
}

// BenchmarkSecuredGet is BenchmarkGet through the authorization layer: the
// cost of a permission check per operation.
func BenchmarkSecuredGet(b *testing.B) {
	m := securedManager(b)
	c, _ := m.Cache("open")
	ctx := authz.WithSubject(context.Background(), m.Policy().Subject("a", []string{"application"}))
	key := []byte("0123456789abcdef")
	c.Put(ctx, key, make([]byte, 100), Write{})
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			c.Get(ctx, key)
		}
	})
}
