package httpauth

import (
	"crypto/md5"
	"crypto/sha256"
	"encoding/hex"
	"hash"
	"strings"
)

// Algorithm is a Digest algorithm as RFC 7616 section 3.3 names it.
type Algorithm string

// Digest algorithms. The -sess forms hash the client nonce into A1.
const (
	MD5        Algorithm = "MD5"
	MD5Sess    Algorithm = "MD5-sess"
	SHA256     Algorithm = "SHA-256"
	SHA256Sess Algorithm = "SHA-256-sess"
)

// parseAlgorithm reads an algorithm directive, case-insensitively.
func parseAlgorithm(s string) (Algorithm, bool) {
	for _, a := range [...]Algorithm{MD5, MD5Sess, SHA256, SHA256Sess} {
		if strings.EqualFold(s, string(a)) {
			return a, true
		}
	}
	return "", false
}

// valid reports whether a is one of the supported algorithms.
func (a Algorithm) valid() bool {
	c, ok := parseAlgorithm(string(a))
	return ok && c == a
}

// sess reports whether a is a session variant.
func (a Algorithm) sess() bool { return a == MD5Sess || a == SHA256Sess }

// newHash returns the hash function behind a.
func (a Algorithm) newHash() hash.Hash {
	if a == SHA256 || a == SHA256Sess {
		return sha256.New()
	}
	return md5.New()
}

// realmMechanism is the mechanism name under which a realm stores
// H(user:realm:password) for a.
func (a Algorithm) realmMechanism() string {
	if a == SHA256 || a == SHA256Sess {
		return "DIGEST-SHA-256"
	}
	return "DIGEST-MD5"
}

// hashSize is the digest length of a, in bytes.
func (a Algorithm) hashSize() int { return a.newHash().Size() }

// userRealmHash is H(user ":" realm ":" password), the stored form a realm
// keeps for Digest.
func userRealmHash(a Algorithm, user, realmName, password string) []byte {
	h := a.newHash()
	h.Write([]byte(user))
	h.Write([]byte{':'})
	h.Write([]byte(realmName))
	h.Write([]byte{':'})
	h.Write([]byte(password))
	return h.Sum(nil)
}

// digestResponse is the request-digest of RFC 7616 section 3.4.1 for
// qop=auth, given userHash = H(user:realm:password):
//
//	A1       = H(user:realm:password) [":" nonce ":" cnonce for -sess]
//	A2       = method ":" uri
//	response = KD(H(A1), nonce ":" nc ":" cnonce ":" qop ":" H(A2))
//
// where KD(s, d) = H(s ":" d) and every H is in lower-case hex.
func digestResponse(a Algorithm, userHash []byte, nonce, nc, cnonce, qop, method, uri string) []byte {
	h := a.newHash()
	buf := make([]byte, 0, 2*h.Size())
	ha1 := hex.AppendEncode(buf, userHash)
	if a.sess() {
		h.Write(ha1)
		h.Write([]byte{':'})
		h.Write([]byte(nonce))
		h.Write([]byte{':'})
		h.Write([]byte(cnonce))
		ha1 = hex.AppendEncode(ha1[:0], h.Sum(nil))
		h.Reset()
	}
	h.Write([]byte(method))
	h.Write([]byte{':'})
	h.Write([]byte(uri))
	ha2 := hex.AppendEncode(nil, h.Sum(nil))
	h.Reset()
	h.Write(ha1)
	for _, s := range [...]string{nonce, nc, cnonce, qop} {
		h.Write([]byte{':'})
		h.Write([]byte(s))
	}
	h.Write([]byte{':'})
	h.Write(ha2)
	return h.Sum(nil)
}
