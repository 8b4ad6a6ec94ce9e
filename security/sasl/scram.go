package sasl

import (
	"crypto/hmac"
	"crypto/pbkdf2"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/sha512"
	"fmt"
	"hash"

	"github.com/xdg-go/scram"
	"golang.org/x/text/unicode/norm"

	"github.com/hotgrid/hotgrid/security/realm"
)

// SCRAM parameters for credentials this package makes up.
const (
	// scramSaltSize and fakeIterations match the credentials Elytron's
	// (and hotgrid's) user tool stores and the realm derives from clear
	// passwords, so that an unknown user's made-up server-first looks like
	// a real one.
	scramSaltSize  = 12
	fakeIterations = 20000
	// clearIterations is used when a Credentials hands out a clear password
	// for SCRAM instead of a salted one (*realm.Realm never does); it is
	// RFC 7677's minimum, because nothing caches the result.
	clearIterations = 4096
)

// scramServer is SCRAM-SHA-* (RFC 5802, RFC 7677) without channel binding,
// on top of github.com/xdg-go/scram. The gs2 flag may be "n" or "y"; "p"
// is refused since no -PLUS mechanism is offered.
type scramServer struct {
	mech  string
	hash  scram.HashGeneratorFcn
	creds Credentials
	opts  Options
	conv  *scram.ServerConversation
	// waited records an empty initial response answered with an empty
	// challenge.
	waited bool
	// known reports that the user has a credential; when false the
	// conversation runs on a made-up one and must fail at the end.
	known bool
}

func newScramServer(mech string, creds Credentials, o Options) *scramServer {
	var h func() hash.Hash
	switch mech {
	case ScramSHA1:
		h = sha1.New
	case ScramSHA256:
		h = sha256.New
	case ScramSHA384:
		h = sha512.New384
	default:
		h = sha512.New
	}
	return &scramServer{mech: mech, hash: scram.HashGeneratorFcn(h), creds: creds, opts: o}
}

func (s *scramServer) step(msg []byte) ([]byte, *realm.Identity, error) {
	if len(msg) > maxMessage {
		return nil, nil, fmt.Errorf("message of %d bytes: %w", len(msg), ErrMalformed)
	}
	if s.conv == nil {
		return s.first(msg)
	}
	out, err := s.conv.Step(string(msg))
	if err != nil {
		if out == scram.ErrInvalidProof {
			return nil, nil, errInvalidCredentials
		}
		// xdg-go/scram's errors may quote the message, proof included.
		return nil, nil, fmt.Errorf("client-final rejected: %w", ErrMalformed)
	}
	if !s.conv.Valid() || !s.known {
		return nil, nil, errInvalidCredentials
	}
	return []byte(out), identity(s.creds, s.conv.Username()), nil
}

// first handles the client-first message and returns server-first.
func (s *scramServer) first(msg []byte) ([]byte, *realm.Identity, error) {
	if len(msg) == 0 {
		if s.waited {
			return nil, nil, fmt.Errorf("empty client-first: %w", ErrMalformed)
		}
		s.waited = true
		return []byte{}, nil, nil
	}
	if msg[0] == 'p' {
		return nil, nil, fmt.Errorf("channel binding is not supported: %w", ErrAuthFailed)
	}
	nonce, err := newNonce(s.opts.Rand)
	if err != nil {
		return nil, nil, err
	}
	srv, err := s.hash.NewServer(s.lookup)
	if err != nil {
		return nil, nil, fmt.Errorf("%w: %w", ErrAuthFailed, err)
	}
	s.conv = srv.WithNonceGenerator(func() string { return nonce }).NewConversation()
	out, err := s.conv.Step(string(msg))
	if err != nil {
		return nil, nil, fmt.Errorf("client-first: %v: %w", err, ErrMalformed)
	}
	if a := s.conv.AuthzID(); a != "" && a != s.conv.Username() {
		return nil, nil, fmt.Errorf("authorization identity differs from authentication identity: %w", ErrAuthFailed)
	}
	return []byte(out), nil, nil
}

// lookup is the scram.CredentialLookup: it never fails, so that an unknown
// user gets a server-first message like a known user's, with a salt that is
// stable for the name; known records which it was.
func (s *scramServer) lookup(user string) (scram.StoredCredentials, error) {
	size := s.hash().Size()
	salted, salt, iters := s.saltedPassword(user)
	s.known = salted != nil
	if !s.known {
		salted = keyed(s.opts.Secret, "scram-fake-key", s.mech, user)
		salt = keyed(s.opts.Secret, "scram-fake-salt", s.mech, user)[:scramSaltSize]
		iters = fakeIterations
	}
	clientKey := s.hmac(salted, "Client Key")
	h := s.hash()
	h.Write(clientKey)
	stored := h.Sum(nil)
	if !s.known {
		// A stored key no client key hashes to: any proof fails.
		stored = make([]byte, size)
	}
	return scram.StoredCredentials{
		KeyFactors: scram.KeyFactors{Salt: string(salt), Iters: iters},
		StoredKey:  stored,
		ServerKey:  s.hmac(salted, "Server Key"),
	}, nil
}

// saltedPassword returns the user's SaltedPassword, salt and iteration
// count, or a nil SaltedPassword when the user has no SCRAM credential.
func (s *scramServer) saltedPassword(user string) ([]byte, []byte, int) {
	c, err := s.creds.Credential(user, s.mech)
	size := s.hash().Size()
	switch {
	case err != nil:
	case len(c.SaltedPassword) == size && c.Iterations > 0:
		return c.SaltedPassword, c.Salt, c.Iterations
	case c.Password != "":
		salt := keyed(s.opts.Secret, "scram-salt", s.mech, user)[:scramSaltSize]
		// Normalised as Elytron (and the realm) do before hashing.
		sp, err := pbkdf2.Key(s.hash, norm.NFKC.String(c.Password), salt, clearIterations, size)
		if err == nil {
			return sp, salt, clearIterations
		}
	}
	return nil, nil, 0
}

// hmac is HMAC with the mechanism's hash.
func (s *scramServer) hmac(key []byte, msg string) []byte {
	m := hmac.New(s.hash, key)
	m.Write([]byte(msg))
	return m.Sum(nil)
}
