package sasl

import (
	"crypto/md5"
	"crypto/subtle"
	"encoding/hex"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/hotgrid/hotgrid/security/realm"
)

// digestServer is DIGEST-MD5 (RFC 2831) with qop=auth only: the server
// sends a digest-challenge, the client answers with a digest-response
// proving it knows H(user:realm:password), and the server proves the same
// with rspauth.
type digestServer struct {
	creds Credentials
	opts  Options
	nonce string // empty until the challenge is sent
	realm string
}

// digestResponse is the parsed client digest-response.
type digestResponse struct {
	username, realm, nonce, cnonce, nc, qop, digestURI, response, authzid, charset string
	hasAuthzid                                                                     bool
}

func (s *digestServer) step(msg []byte) ([]byte, *realm.Identity, error) {
	if s.nonce == "" {
		// RFC 2831 has no initial response (its "subsequent
		// authentication" is not supported); clients send an empty one.
		if len(msg) != 0 {
			return nil, nil, fmt.Errorf("unexpected initial response: %w", ErrMalformed)
		}
		nonce, err := newNonce(s.opts.Rand)
		if err != nil {
			return nil, nil, err
		}
		s.nonce, s.realm = nonce, s.creds.Name()
		challenge := "realm=" + quote(s.realm) + ",nonce=" + quote(s.nonce) +
			`,qop="auth",charset=utf-8,algorithm=md5-sess`
		return []byte(challenge), nil, nil
	}
	r, err := parseDigestResponse(msg)
	if err != nil {
		return nil, nil, err
	}
	if err := s.check(r); err != nil {
		return nil, nil, err
	}
	urp, ok := s.userRealmPassword(r)
	expected := digestHash(urp, r.nonce, r.cnonce, r.nc, r.qop, r.digestURI, r.authzid, r.hasAuthzid, "AUTHENTICATE")
	got := strings.ToLower(r.response)
	if subtle.ConstantTimeCompare([]byte(expected), []byte(got)) != 1 || !ok {
		return nil, nil, errInvalidCredentials
	}
	rspauth := digestHash(urp, r.nonce, r.cnonce, r.nc, r.qop, r.digestURI, r.authzid, r.hasAuthzid, "")
	return []byte("rspauth=" + rspauth), identity(s.creds, r.username), nil
}

// check validates the parts of a response that do not involve the secret.
func (s *digestServer) check(r *digestResponse) error {
	if r.nonce != s.nonce {
		return fmt.Errorf("nonce differs from the one sent: %w", ErrMalformed)
	}
	if r.qop != "auth" {
		return fmt.Errorf("qop %q not offered: %w", r.qop, ErrMalformed)
	}
	if nc, err := strconv.ParseUint(r.nc, 16, 32); err != nil || nc != 1 || len(r.nc) != 8 {
		return fmt.Errorf("nonce count %q is not 00000001: %w", r.nc, ErrMalformed)
	}
	serv, host, ok := strings.Cut(r.digestURI, "/")
	if !ok || serv == "" || host == "" || strings.HasPrefix(host, "/") {
		return fmt.Errorf("digest-uri %q is not serv-type/host: %w", r.digestURI, ErrMalformed)
	}
	if s.opts.Protocol != "" && !strings.EqualFold(serv, s.opts.Protocol) {
		return fmt.Errorf("digest-uri %q is not for service %q: %w", r.digestURI, s.opts.Protocol, ErrAuthFailed)
	}
	if r.hasAuthzid && r.authzid != "" && r.authzid != r.username {
		return fmt.Errorf("authorization identity differs from authentication identity: %w", ErrAuthFailed)
	}
	return nil
}

// userRealmPassword returns H(username:realm:password) for the response's
// user and realm, and false (with a dummy value, so that the caller's work
// and timing do not depend on it) when there is no usable credential.
func (s *digestServer) userRealmPassword(r *digestResponse) ([]byte, bool) {
	c, err := s.creds.Credential(r.username, DigestMD5)
	switch {
	case err != nil:
	case len(c.Digest) == md5.Size:
		if c.DigestRealm == r.realm && c.DigestUser == r.username {
			return c.Digest, true
		}
	case c.Password != "":
		if r.realm == s.realm {
			d := md5.Sum([]byte(r.username + ":" + r.realm + ":" + c.Password))
			return d[:], true
		}
	}
	return keyed(s.opts.Secret, "digest-md5", r.username)[:md5.Size], false
}

// digestHash computes RFC 2831 section 2.1.2.1's response-value for
// algorithm md5-sess: the client's response when a2prefix is
// "AUTHENTICATE", rspauth when it is empty. urp is the raw
// H(username:realm:password).
func digestHash(urp []byte, nonce, cnonce, nc, qop, digestURI, authzid string, hasAuthzid bool, a2prefix string) string {
	a1 := md5.New()
	a1.Write(urp)
	a1.Write([]byte(":" + nonce + ":" + cnonce))
	if hasAuthzid {
		a1.Write([]byte(":" + authzid))
	}
	ha1 := hex.EncodeToString(a1.Sum(nil))
	a2 := md5.Sum([]byte(a2prefix + ":" + digestURI))
	kd := md5.Sum([]byte(ha1 + ":" + nonce + ":" + nc + ":" + cnonce + ":" + qop + ":" + hex.EncodeToString(a2[:])))
	return hex.EncodeToString(kd[:])
}

// errMissing names a required directive the response lacks.
var errMissing = errors.New("missing directive")

// parseDigestResponse parses and checks the syntax of a digest-response.
// Unknown directives are ignored, as RFC 2831 requires; a repeated one is an
// error.
func parseDigestResponse(msg []byte) (*digestResponse, error) {
	if len(msg) > maxMessage {
		return nil, fmt.Errorf("response of %d bytes: %w", len(msg), ErrMalformed)
	}
	ds, err := parseDirectives(msg)
	if err != nil {
		return nil, err
	}
	r := &digestResponse{qop: "auth"}
	seen := make(map[string]bool, len(ds))
	for _, d := range ds {
		var dst *string
		switch d.key {
		case "username":
			dst = &r.username
		case "realm":
			dst = &r.realm
		case "nonce":
			dst = &r.nonce
		case "cnonce":
			dst = &r.cnonce
		case "nc":
			dst = &r.nc
		case "qop":
			dst = &r.qop
		case "digest-uri":
			dst = &r.digestURI
		case "response":
			dst = &r.response
		case "authzid":
			dst, r.hasAuthzid = &r.authzid, true
		case "charset":
			dst = &r.charset
		default:
			continue
		}
		if seen[d.key] {
			return nil, fmt.Errorf("directive %q repeated: %w", d.key, ErrMalformed)
		}
		seen[d.key] = true
		*dst = d.value
	}
	for _, k := range []string{"username", "nonce", "cnonce", "nc", "digest-uri", "response"} {
		if !seen[k] {
			return nil, fmt.Errorf("%w %q: %w", errMissing, k, ErrMalformed)
		}
	}
	// Without charset=utf-8 the strings would be ISO 8859-1 (RFC 2831
	// section 2.1.2), but the challenge offers UTF-8 and the realm binds
	// UTF-8 names into its digests, so only ASCII names work then.
	if r.charset != "" && !strings.EqualFold(r.charset, "utf-8") {
		return nil, fmt.Errorf("charset %q: %w", r.charset, ErrMalformed)
	}
	if !utf8.ValidString(r.username) || !utf8.ValidString(r.realm) || !utf8.ValidString(r.authzid) {
		return nil, fmt.Errorf("name not UTF-8: %w", ErrMalformed)
	}
	if len(r.response) != 2*md5.Size {
		return nil, fmt.Errorf("response is not %d hex digits: %w", 2*md5.Size, ErrMalformed)
	}
	return r, nil
}
