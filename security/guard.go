// Package security is what the protocol servers ask when a client
// authenticates: the node's realm, the SASL and HTTP mechanisms it offers,
// the role mapping that turns an identity into an authz.Subject, and the
// handling of failed attempts (logged without secrets, slowed down).
//
// A nil *Guard is an open node: nothing is required and every subject may
// do everything.
package security

import (
	"context"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/hotgrid/hotgrid/security/authz"
	"github.com/hotgrid/hotgrid/security/realm"
	"github.com/hotgrid/hotgrid/security/sasl"
)

// Options configure a Guard.
type Options struct {
	// Realm holds the identities; required.
	Realm *realm.Realm
	// Policy maps identities to roles; nil gives every authenticated user
	// every permission (authentication without authorization).
	Policy *authz.Policy
	// SASLMechanisms are the Hot Rod and memcached binary mechanisms as
	// configured; nil offers what the realm supports (PLAIN only over TLS,
	// as Infinispan does).
	SASLMechanisms []string
	// ServerName is the SASL server name (default "infinispan").
	ServerName string
	// ClientCertificates enables EXTERNAL (a truststore realm).
	ClientCertificates bool
	Logger             *slog.Logger
	// FailureDelay is the pause after a first failed attempt from an
	// address; it doubles with each further failure up to MaxFailureDelay.
	// Defaults 200 ms and 3 s.
	FailureDelay, MaxFailureDelay time.Duration
}

// Guard authenticates clients for every protocol of a node.
type Guard struct {
	opts Options
	log  *slog.Logger

	// nextReload is when the realm files may next be checked (Unix
	// nanoseconds); the check runs on the request that wins the swap.
	nextReload atomic.Int64

	failMu   sync.Mutex
	failures map[string]int // consecutive failures per remote host
	// failing is len(failures), so that a success (every authenticated
	// REST request is one) skips the lock when no host is failing.
	failing atomic.Int64

	// secret keys the fake SCRAM salts of unknown users, so that they
	// stay the same for the life of the node.
	secret []byte
}

// maxTracked bounds the failure table; when full it starts again.
const maxTracked = 4096

// New returns a guard over o.Realm.
func New(o Options) (*Guard, error) {
	if o.Realm == nil {
		return nil, errors.New("security: a realm is required")
	}
	if o.ServerName == "" {
		o.ServerName = "infinispan"
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	if o.FailureDelay == 0 {
		o.FailureDelay = 200 * time.Millisecond
	}
	if o.MaxFailureDelay == 0 {
		o.MaxFailureDelay = 3 * time.Second
	}
	for i, m := range o.SASLMechanisms {
		o.SASLMechanisms[i] = strings.ToUpper(m)
	}
	secret := make([]byte, 32)
	if _, err := rand.Read(secret); err != nil {
		return nil, fmt.Errorf("security: %w", err)
	}
	return &Guard{opts: o, log: o.Logger, failures: map[string]int{}, secret: secret}, nil
}

// Policy returns the guard's authorization policy (nil: none).
func (g *Guard) Policy() *authz.Policy { return g.opts.Policy }

// ClientCertificates reports whether certificate authentication (SASL
// EXTERNAL, REST CLIENT_CERT) is enabled.
func (g *Guard) ClientCertificates() bool { return g.opts.ClientCertificates }

// reload picks up edits to the realm files (hotgrid user create on a
// running node), checking at most once a second. Requests in between pay
// one atomic load.
func (g *Guard) reload() {
	now := time.Now().UnixNano()
	next := g.nextReload.Load()
	if now < next || !g.nextReload.CompareAndSwap(next, now+int64(time.Second)) {
		return
	}
	if changed, err := g.opts.Realm.Reload(); err != nil {
		g.log.Warn("security realm reload failed; keeping the identities loaded before", "err", err)
	} else if changed {
		g.log.Info("security realm reloaded", "users", len(g.opts.Realm.Users()))
	}
}

// Subject maps an identity to its roles.
func (g *Guard) Subject(id realm.Identity) *authz.Subject {
	return g.opts.Policy.Subject(id.Name, id.Groups)
}

// Login checks a user name and password (RESP AUTH, memcached text
// authentication, HTTP Basic). On failure it logs the attempt and waits
// before returning, so that guessing is slow; ctx ends the wait early.
func (g *Guard) Login(ctx context.Context, remote, protocol, user, password string) (*authz.Subject, error) {
	g.reload()
	id, ok := g.opts.Realm.Verify(user, password)
	if !ok {
		g.Failed(ctx, remote, protocol, "PLAIN", user)
		return nil, ErrAuthFailed
	}
	g.succeeded(remote)
	return g.Subject(id), nil
}

// ErrAuthFailed is the one answer to a failed authentication: it does not
// say whether the user exists.
var ErrAuthFailed = errors.New("authentication failed")

// Mechanisms lists the SASL mechanisms offered on a connection; cs is its
// TLS state, nil for plain TCP.
func (g *Guard) Mechanisms(cs *tls.ConnectionState) []string {
	external := g.opts.ClientCertificates && cs != nil && len(cs.PeerCertificates) > 0
	if g.opts.SASLMechanisms != nil {
		out := make([]string, 0, len(g.opts.SASLMechanisms))
		for _, m := range g.opts.SASLMechanisms {
			if m == "EXTERNAL" && !external {
				continue
			}
			out = append(out, m)
		}
		return out
	}
	all := sasl.Mechanisms(g.opts.Realm.Storage(), external)
	if cs != nil {
		return all
	}
	return slices.DeleteFunc(all, func(m string) bool { return m == "PLAIN" })
}

// StartSASL begins a SASL exchange with mech on a connection.
func (g *Guard) StartSASL(mech, protocol, remote string, cs *tls.ConnectionState) (*Exchange, error) {
	g.reload()
	if !slices.Contains(g.Mechanisms(cs), strings.ToUpper(mech)) {
		return nil, fmt.Errorf("%w: %q", sasl.ErrUnsupportedMechanism, mech)
	}
	var peers []*x509.Certificate
	if cs != nil && len(cs.VerifiedChains) > 0 {
		peers = cs.PeerCertificates
	}
	srv, err := sasl.NewServer(mech, g.opts.Realm, sasl.Options{Protocol: protocol, ServerName: g.opts.ServerName, PeerCertificates: peers, Secret: g.secret})
	if err != nil {
		return nil, err
	}
	return &Exchange{g: g, srv: srv, protocol: protocol, remote: remote}, nil
}

// Exchange is one SASL conversation.
type Exchange struct {
	g        *Guard
	srv      sasl.Server
	protocol string
	remote   string
}

// Mechanism is the exchange's SASL mechanism.
func (x *Exchange) Mechanism() string { return x.srv.Mechanism() }

// Step feeds the client's response. When done, subject is the
// authenticated caller and challenge, if not nil, is the server's final
// message. A failure is logged and delayed as Login's is.
func (x *Exchange) Step(ctx context.Context, response []byte) (challenge []byte, done bool, subject *authz.Subject, err error) {
	challenge, done, err = x.srv.Step(response)
	if err != nil {
		x.g.Failed(ctx, x.remote, x.protocol, x.srv.Mechanism(), "")
		return nil, false, nil, ErrAuthFailed
	}
	if !done {
		return challenge, false, nil, nil
	}
	x.g.succeeded(x.remote)
	return challenge, true, x.g.Subject(x.srv.Identity()), nil
}

// Failed records a failed authentication from remote: it is logged at info
// level with the protocol, mechanism and user name (never a password or
// hash), and the caller waits FailureDelay doubled for each consecutive
// failure from the same host, up to MaxFailureDelay.
func (g *Guard) Failed(ctx context.Context, remote, protocol, mech, user string) {
	host := hostOf(remote)
	g.failMu.Lock()
	if len(g.failures) >= maxTracked {
		clear(g.failures)
	}
	g.failures[host]++
	n := g.failures[host]
	g.failing.Store(int64(len(g.failures)))
	g.failMu.Unlock()
	attrs := []any{"protocol", protocol, "mechanism", mech, "remote", remote, "consecutive", n}
	if user != "" {
		attrs = append(attrs, "user", user)
	}
	g.log.Info("authentication failed", attrs...)
	d := g.opts.FailureDelay << min(n-1, 16)
	d = min(d, g.opts.MaxFailureDelay)
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
	case <-ctx.Done():
	}
}

func (g *Guard) succeeded(remote string) {
	if g.failing.Load() == 0 {
		return
	}
	host := hostOf(remote)
	g.failMu.Lock()
	delete(g.failures, host)
	g.failing.Store(int64(len(g.failures)))
	g.failMu.Unlock()
}

func hostOf(addr string) string {
	if i := strings.LastIndexByte(addr, ':'); i > 0 {
		return strings.Trim(addr[:i], "[]")
	}
	return addr
}
