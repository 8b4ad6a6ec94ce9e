package sasl

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"io"
	"sync"

	"github.com/hotgrid/hotgrid/security/realm"
)

// mechanism is one mechanism's message handling; conversation keeps the
// state common to all of them.
type mechanism interface {
	// step handles one client message and returns the next challenge, and
	// the identity once authentication succeeded.
	step(response []byte) (challenge []byte, id *realm.Identity, err error)
}

// Conversation states.
const (
	running = iota
	succeeded
	failed
)

// conversation implements Server on top of a mechanism.
type conversation struct {
	name  string
	mech  mechanism
	state int
	id    realm.Identity
}

func (c *conversation) Mechanism() string { return c.name }

func (c *conversation) Identity() realm.Identity { return c.id }

func (c *conversation) Step(response []byte) ([]byte, bool, error) {
	switch c.state {
	case succeeded:
		if len(response) == 0 {
			return nil, true, nil
		}
		c.state, c.id = failed, realm.Identity{}
		return nil, false, fmt.Errorf("%s: message after success: %w", c.name, ErrMalformed)
	case failed:
		return nil, false, fmt.Errorf("%s: conversation already failed: %w", c.name, ErrAuthFailed)
	}
	challenge, id, err := c.mech.step(response)
	if err != nil {
		c.state = failed
		return nil, false, fmt.Errorf("%s: %w", c.name, err)
	}
	if id != nil {
		c.state, c.id = succeeded, *id
		return challenge, true, nil
	}
	return challenge, false, nil
}

// maxMessage bounds a client message. RFC 2831 caps a digest-response at
// 4096 bytes; SCRAM and PLAIN messages are far shorter in practice.
const maxMessage = 4096

// nonceSize is the number of random bytes in a server nonce.
const nonceSize = 24

// newNonce returns nonceSize random bytes from r (crypto/rand when nil) in
// URL-safe base64, which is printable, has no ',' (SCRAM) and needs no
// escaping in a quoted string (DIGEST-MD5).
func newNonce(r io.Reader) (string, error) {
	if r == nil {
		r = rand.Reader
	}
	b := make([]byte, nonceSize)
	if _, err := io.ReadFull(r, b); err != nil {
		return "", fmt.Errorf("%w: read nonce: %w", ErrAuthFailed, err)
	}
	return base64.RawURLEncoding.EncodeToString(b), nil
}

// processSecret is the fallback for Options.Secret: random, made once, never
// changed afterwards.
var processSecret = sync.OnceValue(func() []byte {
	b := make([]byte, 32)
	rand.Read(b)
	return b
})

// keyed derives a value that is stable for a given secret and parts but
// unpredictable without the secret: HMAC-SHA-256(secret, parts joined by
// NUL).
func keyed(secret []byte, parts ...string) []byte {
	if len(secret) == 0 {
		secret = processSecret()
	}
	m := hmac.New(sha256.New, secret)
	for i, p := range parts {
		if i > 0 {
			m.Write([]byte{0})
		}
		m.Write([]byte(p))
	}
	return m.Sum(nil)
}

// identity returns user's identity from the realm, or one with no groups
// when the realm does not know the name (EXTERNAL, or a Credentials that
// authenticates users it cannot list).
func identity(creds Credentials, user string) *realm.Identity {
	if id, ok := creds.Identity(user); ok {
		return &id
	}
	return &realm.Identity{Name: user}
}
