package security

import (
	"bytes"
	"context"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hotgrid/hotgrid/security/authz"
	"github.com/hotgrid/hotgrid/security/realm"
	"github.com/hotgrid/hotgrid/security/realm/realmtest"
)

func testRealm(t *testing.T) *realm.Realm {
	t.Helper()
	return realmtest.Write(t, t.TempDir(), []realmtest.User{{Name: "alice", Password: "correct horse", Groups: []string{"observer"}}}, realm.PasswordOptions{})
}

// syncBuffer is a log sink safe for the guard's concurrent writes.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// TestFailedLoginsAreSlowedAndLoggedWithoutSecrets checks the delay after
// failed attempts doubles per consecutive failure from a host, resets on
// success, is per host, and that the log names the user but never the
// password tried.
func TestFailedLoginsAreSlowedAndLoggedWithoutSecrets(t *testing.T) {
	var logs syncBuffer
	policy, err := authz.NewPolicy(nil, "")
	if err != nil {
		t.Fatal(err)
	}
	g, err := New(Options{Realm: testRealm(t), Policy: policy, FailureDelay: 20 * time.Millisecond, MaxFailureDelay: 70 * time.Millisecond,
		Logger: slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	attempt := func(remote, password string) (time.Duration, error) {
		start := time.Now()
		_, err := g.Login(ctx, remote, "resp", "alice", password)
		return time.Since(start), err
	}
	var took []time.Duration
	for i := 0; i < 4; i++ {
		d, err := attempt("10.0.0.1:4000", "guess-"+string(rune('a'+i)))
		if err == nil {
			t.Fatal("a wrong password logged in")
		}
		took = append(took, d)
	}
	// 20, 40, 70 (capped), 70 ms.
	for i, min := range []time.Duration{20, 40, 70, 70} {
		if took[i] < min*time.Millisecond {
			t.Errorf("failure %d returned after %v, want at least %v ms", i+1, took[i], min)
		}
	}
	// Another host is not slowed by the first one's failures.
	if d, _ := attempt("10.0.0.2:4000", "nope"); d > 60*time.Millisecond {
		t.Errorf("a first failure from another host waited %v", d)
	}
	s, err := g.Login(ctx, "10.0.0.1:4001", "resp", "alice", "correct horse")
	if err != nil {
		t.Fatalf("the right password: %v", err)
	}
	if got := s.Roles(policy); len(got) != 1 || got[0] != "observer" {
		t.Fatalf("roles %v, want [observer]", got)
	}
	if d, _ := attempt("10.0.0.1:4002", "again"); d > 60*time.Millisecond {
		t.Errorf("a success did not reset the delay: %v", d)
	}
	// A cancelled context ends the wait at once.
	cctx, cancel := context.WithCancel(ctx)
	cancel()
	start := time.Now()
	g.Failed(cctx, "10.0.0.1:1", "hotrod", "PLAIN", "alice")
	if time.Since(start) > 20*time.Millisecond {
		t.Error("Failed waited despite a cancelled context")
	}

	out := logs.String()
	if !strings.Contains(out, "authentication failed") || !strings.Contains(out, "user=alice") {
		t.Fatalf("failures are not logged: %s", out)
	}
	for _, secret := range []string{"guess-", "nope", "again", "correct horse"} {
		if strings.Contains(out, secret) {
			t.Fatalf("the log holds the password %q:\n%s", secret, out)
		}
	}
}

// TestMechanisms checks PLAIN is offered only over TLS unless configured,
// and EXTERNAL only with a verified client certificate.
func TestMechanisms(t *testing.T) {
	g, err := New(Options{Realm: testRealm(t)})
	if err != nil {
		t.Fatal(err)
	}
	if m := g.Mechanisms(nil); strings.Contains(strings.Join(m, " "), "PLAIN") || len(m) == 0 {
		t.Fatalf("plain TCP offers %v", m)
	}
	g, err = New(Options{Realm: testRealm(t), SASLMechanisms: []string{"plain", "external", "scram-sha-256"}, ClientCertificates: true})
	if err != nil {
		t.Fatal(err)
	}
	if m := strings.Join(g.Mechanisms(nil), " "); m != "PLAIN SCRAM-SHA-256" {
		t.Fatalf("configured mechanisms without a certificate: %q", m)
	}
}
