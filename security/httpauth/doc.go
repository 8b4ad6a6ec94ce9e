// Package httpauth authenticates requests to hotgrid's REST endpoint the way
// Infinispan's REST server does: BASIC (RFC 7617), DIGEST (RFC 7616) and
// CLIENT_CERT (a verified TLS client certificate whose subject CN names the
// user). Credentials come from a security/realm properties realm.
//
// # Use from a handler
//
//	id, res := a.Check(r)
//	if res != httpauth.OK {
//		// res == httpauth.Failed: log it, maybe slow the client down.
//		a.ChallengeFor(w.Header(), res)
//		w.WriteHeader(http.StatusUnauthorized)
//		return
//	}
//
// Authenticate and Challenge are the two-call form of the same thing.
//
// # Digest challenges
//
// A challenge carries one WWW-Authenticate header per offered mechanism, in
// Options.Mechanisms order, and for DIGEST one header per algorithm in
// Options.DigestAlgorithms order (MD5 then SHA-256 by default). Clients do
// not agree on which one they take: curl answers the first Digest header,
// Python requests merges all headers into one dictionary, so it uses the
// last Digest header's algorithm and nonce. With the default order curl
// answers with MD5 and requests with SHA-256, so users need both a
// digest-md5 and a digest-sha-256 credential (a clear-text realm, or an
// encrypted one written with Infinispan 15's default algorithms, has both).
// A realm holding only one of them should offer only that algorithm.
//
// # Nonces
//
// Nonces are stateless: base64url of an 8-byte issue time, 12 random bytes
// and the first 16 bytes of HMAC-SHA-256 over both under a key drawn when
// the Authenticator is made, so they survive no restart. A nonce older than
// Options.NonceLifetime is stale: if the digest is otherwise right, the
// client is challenged again with stale=true and retries without asking the
// user. Once a nonce has authenticated a request, its nonce counts are
// remembered (see replay.go) so that a replayed nc is rejected.
//
// The package never sleeps and never logs: failures are returned, and the
// caller decides how to slow down and what to log. Nothing it returns
// contains a password or a hash.
package httpauth
