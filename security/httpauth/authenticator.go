package httpauth

import (
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/hotgrid/hotgrid/security/realm"
)

// Credentials is what the Authenticator needs from a realm; *realm.Realm
// implements it.
type Credentials interface {
	// Verify checks a clear password (BASIC).
	Verify(user, password string) (realm.Identity, bool)
	// Credential returns the stored form for a SASL mechanism name
	// ("DIGEST-MD5", "DIGEST-SHA-256").
	Credential(user, mechanism string) (realm.Credential, error)
	// Identity returns a user's groups without authenticating it.
	Identity(user string) (realm.Identity, bool)
	// Name is the realm name digests are bound to.
	Name() string
}

var _ Credentials = (*realm.Realm)(nil)

// Mechanism is an HTTP authentication mechanism, named as in Infinispan's
// REST connector configuration.
type Mechanism string

// Mechanisms.
const (
	Basic      Mechanism = "BASIC"
	Digest     Mechanism = "DIGEST"
	ClientCert Mechanism = "CLIENT_CERT"
)

// DefaultNonceLifetime is how long a Digest nonce stays fresh when
// Options.NonceLifetime is zero.
const DefaultNonceLifetime = 5 * time.Minute

// maxClockSkew is how far in the future a nonce's issue time may be (the
// clock stepping back) before the nonce is refused.
const maxClockSkew = time.Minute

// Options configure an Authenticator. The zero value offers DIGEST then
// BASIC.
type Options struct {
	// Mechanisms are offered in this order, which is the order of the
	// challenges. Nil means Digest, Basic.
	Mechanisms []Mechanism
	// DigestAlgorithms are the Digest algorithms offered, one challenge
	// each, in this order; only these are accepted. Nil means MD5, SHA256
	// (see the package documentation on why MD5 comes first).
	DigestAlgorithms []Algorithm
	// NonceLifetime is how long a nonce is fresh; an older nonce with an
	// otherwise valid digest is answered with stale=true. Zero means
	// DefaultNonceLifetime.
	NonceLifetime time.Duration
	// ReplayCacheSize bounds the nonces whose counts are remembered. Zero
	// means DefaultReplayCacheSize.
	ReplayCacheSize int
	// Now is the clock; nil means time.Now.
	Now func() time.Time
	// Rand is the random source for the nonce key and nonces; nil means
	// crypto/rand. It need not be safe for concurrent use.
	Rand io.Reader
}

// Result is the outcome of checking a request.
type Result int

// Results.
const (
	// NoCredentials: the request carries nothing for an offered mechanism.
	NoCredentials Result = iota
	// OK: authenticated.
	OK
	// Failed: credentials were given and are wrong, malformed, replayed or
	// for an unknown user.
	Failed
	// Stale: a Digest response was right but its nonce has expired; the
	// challenge says stale=true so the client retries with a new nonce.
	Stale
)

// String names the result, for logs.
func (r Result) String() string {
	switch r {
	case NoCredentials:
		return "no credentials"
	case OK:
		return "ok"
	case Failed:
		return "failed"
	case Stale:
		return "stale nonce"
	}
	return fmt.Sprintf("Result(%d)", int(r))
}

// Authenticator checks requests against a realm. It is safe for
// concurrent use.
type Authenticator struct {
	creds     Credentials
	mechs     []Mechanism
	algs      []Algorithm
	lifetime  time.Duration
	now       func() time.Time
	key       [32]byte
	seq       atomic.Uint32
	replay    *replayCache
	randMu    sync.Mutex
	randSrc   io.Reader // nil means crypto/rand
	hasBasic  bool
	hasDigest bool
	hasCert   bool
}

// New makes an Authenticator that checks requests against creds.
func New(creds Credentials, o Options) (*Authenticator, error) {
	if creds == nil {
		return nil, errors.New("httpauth: nil credentials")
	}
	a := &Authenticator{creds: creds, lifetime: o.NonceLifetime, now: o.Now, randSrc: o.Rand}
	a.mechs = slices.Clone(o.Mechanisms)
	if a.mechs == nil {
		a.mechs = []Mechanism{Digest, Basic}
	}
	for i, m := range a.mechs {
		if slices.Contains(a.mechs[:i], m) {
			return nil, fmt.Errorf("httpauth: mechanism %s given twice", m)
		}
		switch m {
		case Basic:
			a.hasBasic = true
		case Digest:
			a.hasDigest = true
		case ClientCert:
			a.hasCert = true
		default:
			return nil, fmt.Errorf("httpauth: unknown mechanism %q", m)
		}
	}
	a.algs = slices.Clone(o.DigestAlgorithms)
	if a.algs == nil {
		a.algs = []Algorithm{MD5, SHA256}
	}
	if a.hasDigest && len(a.algs) == 0 {
		return nil, errors.New("httpauth: DIGEST offered without algorithms")
	}
	for i, alg := range a.algs {
		if !alg.valid() {
			return nil, fmt.Errorf("httpauth: unknown digest algorithm %q", alg)
		}
		if slices.Contains(a.algs[:i], alg) {
			return nil, fmt.Errorf("httpauth: digest algorithm %s given twice", alg)
		}
	}
	switch {
	case a.lifetime < 0:
		return nil, fmt.Errorf("httpauth: negative nonce lifetime %v", a.lifetime)
	case a.lifetime == 0:
		a.lifetime = DefaultNonceLifetime
	}
	size := o.ReplayCacheSize
	switch {
	case size < 0:
		return nil, fmt.Errorf("httpauth: negative replay cache size %d", size)
	case size == 0:
		size = DefaultReplayCacheSize
	}
	a.replay = newReplayCache(size)
	if a.now == nil {
		a.now = time.Now
	}
	if err := a.readRandom(a.key[:]); err != nil {
		return nil, fmt.Errorf("httpauth: nonce key: %w", err)
	}
	return a, nil
}

// readRandom fills b from the random source.
func (a *Authenticator) readRandom(b []byte) error {
	if a.randSrc == nil {
		_, err := rand.Read(b)
		return err
	}
	a.randMu.Lock()
	defer a.randMu.Unlock()
	_, err := io.ReadFull(a.randSrc, b)
	return err
}

// random fills b, leaving zeros if the source fails (see newNonce).
func (a *Authenticator) random(b []byte) {
	if a.readRandom(b) != nil {
		clear(b)
	}
}

// Mechanisms returns the offered mechanisms, in order.
func (a *Authenticator) Mechanisms() []Mechanism { return slices.Clone(a.mechs) }

// Authenticate checks r's Authorization header or, for CLIENT_CERT, its
// verified TLS client certificate. ok=false means unauthenticated: the
// caller answers 401 with the headers Challenge sets.
func (a *Authenticator) Authenticate(r *http.Request) (id realm.Identity, ok bool) {
	id, res := a.Check(r)
	return id, res == OK
}

// Check is Authenticate with the reason for a failure, for logging and for
// ChallengeFor. An Authorization header for an offered scheme decides
// alone; otherwise, if CLIENT_CERT is offered, the leaf certificate of
// r.TLS.VerifiedChains authenticates its subject CN, with the groups the
// realm gives that user if it knows it.
func (a *Authenticator) Check(r *http.Request) (realm.Identity, Result) {
	return a.check(r, true)
}

// check is Check; record=false leaves the replay cache alone, for
// Challenge to learn whether a failure was a stale nonce.
func (a *Authenticator) check(r *http.Request, record bool) (realm.Identity, Result) {
	if vals := r.Header.Values("Authorization"); len(vals) > 0 {
		if len(vals) > 1 {
			return realm.Identity{}, Failed
		}
		scheme, params, _ := strings.Cut(strings.TrimLeft(vals[0], " \t"), " ")
		switch {
		case a.hasBasic && strings.EqualFold(scheme, "Basic"):
			return a.basic(params)
		case a.hasDigest && strings.EqualFold(scheme, "Digest"):
			return a.digest(r, params, record)
		}
	}
	if a.hasCert {
		return a.clientCert(r)
	}
	return realm.Identity{}, NoCredentials
}

// Challenge adds the WWW-Authenticate headers for a 401 answer to r: one
// per offered mechanism (none for CLIENT_CERT, which has no HTTP scheme)
// and for DIGEST one per algorithm, sharing one fresh nonce, with
// stale=true when r's Digest response was right but its nonce stale. r
// may be nil.
func (a *Authenticator) Challenge(h http.Header, r *http.Request) {
	res := NoCredentials
	if r != nil && a.hasDigest {
		if v := r.Header.Get("Authorization"); len(v) > 7 && strings.EqualFold(v[:7], "Digest ") {
			_, res = a.check(r, false)
		}
	}
	a.ChallengeFor(h, res)
}

// ChallengeFor is Challenge given the Result of Check, which it does not
// recompute.
func (a *Authenticator) ChallengeFor(h http.Header, res Result) {
	name := quote(a.creds.Name())
	for _, m := range a.mechs {
		switch m {
		case Basic:
			h.Add("WWW-Authenticate", `Basic realm=`+name+`, charset="UTF-8"`)
		case Digest:
			nonce := a.newNonce(a.now())
			for _, alg := range a.algs {
				v := `Digest realm=` + name + `, qop="auth", nonce="` + nonce + `", algorithm=` + string(alg)
				if res == Stale {
					v += ", stale=true"
				}
				h.Add("WWW-Authenticate", v)
			}
		}
	}
}

// quote renders s as a quoted-string.
func quote(s string) string {
	var b strings.Builder
	b.Grow(len(s) + 2)
	b.WriteByte('"')
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '"' || c == '\\':
			b.WriteByte('\\')
			b.WriteByte(c)
		case c < 0x20 && c != '\t' || c == 0x7f:
			b.WriteByte('_') // a control character cannot travel in a header
		default:
			b.WriteByte(c)
		}
	}
	b.WriteByte('"')
	return b.String()
}
