package tlsconf

import (
	"context"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hotgrid/hotgrid/security/tlsconf/tlstest"
)

// reloadForms runs fn against a PEM-pair identity and a PKCS#12 identity.
func reloadForms(t *testing.T, fn func(t *testing.T, f *tlstest.Files, id Identity)) {
	t.Run("pem", func(t *testing.T) {
		f := generate(t, tlstest.Options{})
		fn(t, f, Identity{CertFile: f.ServerCert, KeyFile: f.ServerKey})
	})
	t.Run("pkcs12", func(t *testing.T) {
		f := generate(t, tlstest.Options{})
		fn(t, f, Identity{KeystorePath: f.ServerP12, Password: f.Password})
	})
}

func TestReload(t *testing.T) {
	reloadForms(t, func(t *testing.T, f *tlstest.Files, id Identity) {
		c := newConfig(t, Options{Identities: []Identity{id}, ReloadInterval: -1})
		addr := serve(t, c.TLSConfig())
		old, err := roundTrip(addr, clientConfig(t, f, "localhost"))
		if err != nil {
			t.Fatal(err)
		}
		defer old.Close()
		oldSerial := peer(old).SerialNumber

		if changed, err := c.Reload(); err != nil || changed {
			t.Fatalf("Reload of unchanged files = %v, %v", changed, err)
		}
		if err := f.ReissueServer(); err != nil {
			t.Fatal(err)
		}
		if changed, err := c.Reload(); err != nil || !changed {
			t.Fatalf("Reload = %v, %v; want changed", changed, err)
		}
		conn, err := roundTrip(addr, clientConfig(t, f, "localhost"))
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close()
		if peer(conn).SerialNumber.Cmp(oldSerial) == 0 {
			t.Error("new handshake still sees the old certificate")
		}
		if err := echo(old); err != nil {
			t.Errorf("existing connection broken by reload: %v", err)
		}
	})
}

func TestReloadBrokenReplacementKeepsOld(t *testing.T) {
	reloadForms(t, func(t *testing.T, f *tlstest.Files, id Identity) {
		c := newConfig(t, Options{Identities: []Identity{id}, ReloadInterval: -1})
		before := c.Certificate("").Leaf.SerialNumber
		broken := id.KeystorePath
		if broken == "" {
			broken = id.KeyFile
		}
		if err := os.WriteFile(broken, []byte("garbage"), 0o600); err != nil {
			t.Fatal(err)
		}
		changed, err := c.Reload()
		if err == nil || changed {
			t.Fatalf("Reload of a broken file = %v, %v; want an error", changed, err)
		}
		if !strings.Contains(err.Error(), broken) {
			t.Errorf("error %q does not name %s", err, broken)
		}
		if got := c.Certificate("").Leaf.SerialNumber; got.Cmp(before) != 0 {
			t.Error("failed reload replaced the certificate")
		}
		addr := serve(t, c.TLSConfig())
		conn, err := roundTrip(addr, clientConfig(t, f, "localhost"))
		if err != nil {
			t.Fatalf("handshake after failed reload: %v", err)
		}
		conn.Close()
	})
}

func TestWatch(t *testing.T) {
	reloadForms(t, func(t *testing.T, f *tlstest.Files, id Identity) {
		log, buf := testLogger()
		c := newConfig(t, Options{Identities: []Identity{id}, ReloadInterval: 20 * time.Millisecond, Logger: log})
		addr := serve(t, c.TLSConfig())
		old, err := roundTrip(addr, clientConfig(t, f, "localhost"))
		if err != nil {
			t.Fatal(err)
		}
		defer old.Close()
		oldSerial := peer(old).SerialNumber

		ctx, cancel := context.WithCancel(context.Background())
		var wg sync.WaitGroup
		wg.Add(1)
		go func() { defer wg.Done(); c.Watch(ctx) }()
		defer func() { cancel(); wg.Wait() }()

		// A broken file is reported and the old certificate stays.
		target := id.KeystorePath
		if target == "" {
			target = id.CertFile
		}
		good, err := os.ReadFile(target)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(target, []byte("not a certificate"), 0o600); err != nil {
			t.Fatal(err)
		}
		waitFor(t, func() bool { return strings.Contains(buf.String(), "reload failed") }, buf)
		if got := c.Certificate("").Leaf.SerialNumber; got.Cmp(oldSerial) != 0 {
			t.Fatal("broken file replaced the certificate")
		}
		if err := os.WriteFile(target, good, 0o600); err != nil {
			t.Fatal(err)
		}

		if err := f.ReissueServer(); err != nil {
			t.Fatal(err)
		}
		waitFor(t, func() bool { return c.Certificate("").Leaf.SerialNumber.Cmp(oldSerial) != 0 }, buf)
		conn, err := roundTrip(addr, clientConfig(t, f, "localhost"))
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close()
		if peer(conn).SerialNumber.Cmp(oldSerial) == 0 {
			t.Error("new handshake still sees the old certificate")
		}
		if err := echo(old); err != nil {
			t.Errorf("existing connection broken by reload: %v", err)
		}
		if !strings.Contains(buf.String(), "tls certificates reloaded") {
			t.Errorf("no reload log line:\n%s", buf)
		}
		if strings.Contains(buf.String(), f.Password) {
			t.Errorf("log leaks the password:\n%s", buf)
		}
	})
}

func TestWatchDisabled(t *testing.T) {
	f := generate(t, tlstest.Options{})
	c := newConfig(t, Options{Identities: []Identity{{KeystorePath: f.ServerP12, Password: f.Password}}, ReloadInterval: -1})
	done := make(chan struct{})
	go func() { c.Watch(context.Background()); close(done) }()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		t.Fatal("Watch with a negative interval did not return")
	}
}

// waitFor polls cond for up to ten seconds.
func waitFor(t *testing.T, cond func() bool, log *logBuffer) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("condition not met in 10s; log:\n%s", log)
		}
		time.Sleep(10 * time.Millisecond)
	}
}
