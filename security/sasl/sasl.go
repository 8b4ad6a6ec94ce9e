package sasl

import (
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/hotgrid/hotgrid/security/realm"
)

// Mechanism names as clients ask for them.
const (
	Plain       = "PLAIN"
	DigestMD5   = "DIGEST-MD5"
	ScramSHA1   = "SCRAM-SHA-1"
	ScramSHA256 = "SCRAM-SHA-256"
	ScramSHA384 = "SCRAM-SHA-384"
	ScramSHA512 = "SCRAM-SHA-512"
	External    = "EXTERNAL"
)

// Sentinel errors.
var (
	// ErrUnsupportedMechanism means NewServer does not know the mechanism.
	ErrUnsupportedMechanism = errors.New("sasl: unsupported mechanism")
	// ErrAuthFailed is wrapped by every error a conversation returns.
	ErrAuthFailed = errors.New("sasl: authentication failed")
	// ErrMalformed means a client message does not parse or breaks the
	// mechanism's rules; it wraps ErrAuthFailed.
	ErrMalformed = fmt.Errorf("%w: malformed message", ErrAuthFailed)
)

// errInvalidCredentials is the one error for an unknown user, a wrong
// password or a missing credential, so that none can be told apart.
var errInvalidCredentials = fmt.Errorf("%w: invalid credentials", ErrAuthFailed)

// Credentials is what mechanisms need from a realm; *realm.Realm implements
// it.
type Credentials interface {
	// Verify checks a clear password (PLAIN).
	Verify(user, password string) (realm.Identity, bool)
	// Credential returns the stored form mechanism (a SASL name such as
	// "SCRAM-SHA-256" or "DIGEST-MD5") needs for user.
	Credential(user, mechanism string) (realm.Credential, error)
	// Identity returns a user's identity without authenticating it.
	Identity(user string) (realm.Identity, bool)
	// Name is the realm name, which DIGEST-MD5 offers as its realm.
	Name() string
}

// Options are the per-connection parameters of a conversation.
type Options struct {
	// Protocol is the SASL service name, "hotrod" or "memcached"; a
	// DIGEST-MD5 digest-uri must start with it. Empty accepts any.
	Protocol string
	// ServerName is the server name clients are configured with
	// ("infinispan" for Hot Rod). DIGEST-MD5 accepts any host part in the
	// digest-uri, since clients may use the host they dialled.
	ServerName string
	// PeerCertificates are the verified TLS client certificates, leaf
	// first, for EXTERNAL.
	PeerCertificates []*x509.Certificate
	// Rand is the source of nonces; nil means crypto/rand.
	Rand io.Reader
	// Secret keys the fake SCRAM salts given to unknown users. A server
	// should generate 32 random bytes once and pass them to every
	// conversation, so that an unknown user sees the same salt each time,
	// as a known user does. Nil uses a key generated once per process.
	Secret []byte
}

// Server is the server side of one authentication attempt. It is not safe
// for concurrent use; a connection drives it one message at a time.
type Server interface {
	// Step consumes the client's next response (the initial response
	// first; it may be empty or nil) and returns the next challenge. done
	// reports that authentication succeeded; the challenge may then still
	// be non-nil (SCRAM's server-final "v=…", DIGEST-MD5's "rspauth=…")
	// and must reach the client as additional data with success. Any
	// failure returns an error wrapping ErrAuthFailed (ErrMalformed too for
	// a message that does not parse). After an error the conversation is
	// over and Step keeps failing; after success an empty Step returns
	// (nil, true, nil) and any other fails.
	Step(response []byte) (challenge []byte, done bool, err error)
	// Identity is the authenticated identity once Step reported done, and
	// the zero Identity before or after a failure.
	Identity() realm.Identity
	// Mechanism is the mechanism's canonical (upper-case) name.
	Mechanism() string
}

// NewServer starts a server conversation for mech (case-insensitive). It
// returns ErrUnsupportedMechanism for a mechanism it does not implement.
func NewServer(mech string, creds Credentials, o Options) (Server, error) {
	name := strings.ToUpper(mech)
	var m mechanism
	switch name {
	case Plain:
		m = &plainServer{creds: creds}
	case DigestMD5:
		m = &digestServer{creds: creds, opts: o}
	case ScramSHA1, ScramSHA256, ScramSHA384, ScramSHA512:
		m = newScramServer(name, creds, o)
	case External:
		m = &externalServer{creds: creds, certs: o.PeerCertificates}
	default:
		return nil, fmt.Errorf("%w %q", ErrUnsupportedMechanism, mech)
	}
	return &conversation{name: name, mech: m}, nil
}

// Mechanisms lists, strongest first, the mechanisms a realm whose users
// file uses storage s can serve, with EXTERNAL first when external is set
// (the caller sets it when client certificates are configured). Clear
// passwords serve every mechanism; encrypted files serve SCRAM and
// DIGEST-MD5 from their stored credentials and PLAIN through Verify; digest
// files hold only H(user:realm:password), which serves DIGEST-MD5 and PLAIN.
func Mechanisms(s realm.Storage, external bool) []string {
	var ms []string
	if external {
		ms = append(ms, External)
	}
	switch s {
	case realm.StorageDigest:
		return append(ms, DigestMD5, Plain)
	default: // StorageClear, StorageEncrypted, and StorageDefault (read as clear)
		return append(ms, ScramSHA512, ScramSHA384, ScramSHA256, ScramSHA1, DigestMD5, Plain)
	}
}
