package httpauth

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"time"
)

// Nonce layout before base64url: issue time (Unix nanoseconds), a sequence
// number that keeps nonces from one Authenticator unique even if the random
// source fails, random bytes, and a truncated HMAC-SHA-256 of all three.
const (
	nonceTimeSize = 8
	nonceSeqSize  = 4
	nonceRandSize = 8
	nonceMACSize  = 16 // 128 bits of HMAC-SHA-256 resist forgery; the rest is length
	nonceBodySize = nonceTimeSize + nonceSeqSize + nonceRandSize
	nonceSize     = nonceBodySize + nonceMACSize
)

// nonceEncodedLen is the length of an encoded nonce (48: nonceSize is a
// multiple of 3, so base64 has no padding).
var nonceEncodedLen = base64.RawURLEncoding.EncodedLen(nonceSize)

// newNonce issues a nonce stamped now.
func (a *Authenticator) newNonce(now time.Time) string {
	var b [nonceSize]byte
	binary.BigEndian.PutUint64(b[:], uint64(now.UnixNano()))
	binary.BigEndian.PutUint32(b[nonceTimeSize:], a.seq.Add(1))
	// A failing random source leaves zeros: the sequence number still makes
	// the nonce unique and the MAC still makes it unforgeable.
	a.random(b[nonceTimeSize+nonceSeqSize : nonceBodySize])
	copy(b[nonceBodySize:], a.nonceMAC(b[:nonceBodySize]))
	return base64.RawURLEncoding.EncodeToString(b[:])
}

// openNonce checks a nonce's MAC and returns its issue time.
func (a *Authenticator) openNonce(nonce string) (issued time.Time, ok bool) {
	if len(nonce) != nonceEncodedLen {
		return time.Time{}, false
	}
	var b [nonceSize]byte
	if n, err := base64.RawURLEncoding.Decode(b[:], []byte(nonce)); err != nil || n != nonceSize {
		return time.Time{}, false
	}
	if !hmac.Equal(b[nonceBodySize:], a.nonceMAC(b[:nonceBodySize])) {
		return time.Time{}, false
	}
	return time.Unix(0, int64(binary.BigEndian.Uint64(b[:]))), true
}

func (a *Authenticator) nonceMAC(body []byte) []byte {
	m := hmac.New(sha256.New, a.key[:])
	m.Write(body)
	return m.Sum(nil)[:nonceMACSize]
}
