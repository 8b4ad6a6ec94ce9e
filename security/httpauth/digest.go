package httpauth

import (
	"crypto/subtle"
	"encoding/hex"
	"net/http"
	"strconv"
	"strings"

	"github.com/hotgrid/hotgrid/security/realm"
)

// digest checks RFC 7616 credentials (the auth-params after "Digest ").
// Every check that needs no secret comes first; the response is then
// compared in constant time, an unknown user being checked against a
// dummy hash so that it costs the same. Only a right response reaches the
// nonce age and the replay cache, so stale=true and the cache are only
// ever about requests that knew the password. With record=false the
// replay cache is only read.
func (a *Authenticator) digest(r *http.Request, params string, record bool) (realm.Identity, Result) {
	fail := func() (realm.Identity, Result) { return realm.Identity{}, Failed }
	p, err := parseDigest(params)
	if err != nil {
		return fail()
	}
	alg := MD5
	if p.seen&dAlgorithm != 0 {
		var ok bool
		if alg, ok = parseAlgorithm(p.algorithm); !ok {
			return fail()
		}
	}
	if !a.offersAlgorithm(alg) || !strings.EqualFold(p.qop, "auth") ||
		(p.seen&dUserhash != 0 && !strings.EqualFold(p.userhash, "false")) {
		return fail()
	}
	nc, ok := parseNC(p.nc)
	if !ok || p.cnonce == "" || p.username == "" {
		return fail()
	}
	realmName := a.creds.Name()
	if p.realm != realmName || !uriMatches(r, p.uri) {
		return fail()
	}
	issued, ok := a.openNonce(p.nonce)
	now := a.now()
	if !ok || issued.After(now.Add(maxClockSkew)) {
		return fail()
	}
	got := make([]byte, alg.hashSize())
	if n, err := hex.Decode(got, []byte(p.response)); err != nil || n != len(got) || len(p.response) != 2*len(got) {
		return fail()
	}
	userHash, known := a.userHash(alg, p.username, realmName)
	// The response is computed over the qop as the client sent it: RFC
	// 7616 puts the directive's value, not its case-folded form, into KD.
	want := digestResponse(alg, userHash, p.nonce, p.nc, p.cnonce, p.qop, r.Method, p.uri)
	if subtle.ConstantTimeCompare(want, got) != 1 || !known {
		return fail()
	}
	if now.Sub(issued) > a.lifetime {
		return realm.Identity{}, Stale
	}
	if !record {
		if a.replay.evicted(issued) {
			return realm.Identity{}, Stale
		}
		return realm.Identity{}, OK
	}
	fresh, stale := a.replay.use(p.nonce, issued, nc, now, a.lifetime)
	switch {
	case stale:
		return realm.Identity{}, Stale
	case !fresh:
		return fail()
	}
	id, ok := a.creds.Identity(p.username)
	if !ok {
		// Removed by a reload between the two look-ups.
		return fail()
	}
	return id, OK
}

// offersAlgorithm reports whether alg is among the offered algorithms.
func (a *Authenticator) offersAlgorithm(alg Algorithm) bool {
	for _, x := range a.algs {
		if x == alg {
			return true
		}
	}
	return false
}

// userHash returns H(user:realm:password) for alg from the realm: the
// stored digest if it is bound to this user and realm, or one computed
// from a clear password. known=false (with a dummy hash to compare
// against) when the user or a usable credential is missing.
func (a *Authenticator) userHash(alg Algorithm, user, realmName string) (h []byte, known bool) {
	c, err := a.creds.Credential(user, alg.realmMechanism())
	switch {
	case err != nil:
	case len(c.Digest) > 0:
		if len(c.Digest) == alg.hashSize() && c.DigestUser == user && c.DigestRealm == realmName {
			return c.Digest, true
		}
	case c.Password != "":
		return userRealmHash(alg, user, realmName, c.Password), true
	}
	return make([]byte, alg.hashSize()), false
}

// parseNC reads a nonce count: exactly 8 hex digits, not zero.
func parseNC(s string) (uint32, bool) {
	if len(s) != 8 {
		return 0, false
	}
	n, err := strconv.ParseUint(s, 16, 32)
	if err != nil || n == 0 {
		return 0, false
	}
	return uint32(n), true
}

// uriMatches reports whether the uri directive names the request target,
// as sent (RequestURI) or as net/http re-encodes it.
func uriMatches(r *http.Request, uri string) bool {
	if uri == "" {
		return false
	}
	if r.RequestURI != "" && uri == r.RequestURI {
		return true
	}
	return r.URL != nil && uri == r.URL.RequestURI()
}
