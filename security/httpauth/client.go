package httpauth

import (
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
)

// Transport is the client side: an http.RoundTripper that answers Digest
// (qop=auth, MD5 or SHA-256, with or without -sess) and Basic challenges
// with User and Password. It keeps the last Digest challenge and sends
// later requests with it pre-emptively, counting nc up, so that requests
// whose bodies cannot be sent twice (uploads) go out once; only the first
// request of a Transport probes the server, with a bodiless HEAD. It is
// what hotgrid's CLI uses against a secured node.
type Transport struct {
	User, Password string
	// Base sends the requests; nil means http.DefaultTransport.
	Base http.RoundTripper

	mu sync.Mutex
	ch *clientChallenge
}

// clientChallenge is a server challenge as the client keeps it.
type clientChallenge struct {
	basic            bool
	realm, nonce     string
	opaque           string
	alg              Algorithm
	nc               uint32
	qopAuth          bool
	cachedUserHashes map[Algorithm][]byte
}

func (t *Transport) base() http.RoundTripper {
	if t.Base != nil {
		return t.Base
	}
	return http.DefaultTransport
}

// RoundTrip sends req with credentials, learning the challenge first if
// it has none.
func (t *Transport) RoundTrip(req *http.Request) (*http.Response, error) {
	replayable := req.Body == nil || req.Body == http.NoBody || req.GetBody != nil
	t.mu.Lock()
	have := t.ch != nil
	t.mu.Unlock()
	if !have && !replayable {
		probe, err := http.NewRequestWithContext(req.Context(), http.MethodHead, req.URL.String(), nil)
		if err != nil {
			return nil, err
		}
		resp, err := t.base().RoundTrip(probe)
		if err != nil {
			return nil, err
		}
		resp.Body.Close()
		t.learn(resp)
	}
	for attempt := 0; ; attempt++ {
		r := req.Clone(req.Context()) // RoundTrip must not modify req
		if attempt > 0 {
			if req.GetBody != nil {
				body, err := req.GetBody()
				if err != nil {
					return nil, err
				}
				r.Body = body
			}
		}
		if err := t.authorize(r); err != nil {
			return nil, err
		}
		resp, err := t.base().RoundTrip(r)
		if err != nil || resp.StatusCode != http.StatusUnauthorized || attempt > 0 || !replayable {
			return resp, err
		}
		if !t.learn(resp) {
			return resp, nil
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
	}
}

// learn keeps the challenge of a 401 answer; it reports whether there was
// one this Transport can answer.
func (t *Transport) learn(resp *http.Response) bool {
	var best *clientChallenge
	for _, v := range resp.Header.Values("WWW-Authenticate") {
		scheme, params, _ := strings.Cut(strings.TrimSpace(v), " ")
		switch {
		case strings.EqualFold(scheme, "Digest"):
			c := &clientChallenge{alg: MD5}
			err := forEachParam(params, func(name, value string) error {
				switch strings.ToLower(name) {
				case "realm":
					c.realm = value
				case "nonce":
					c.nonce = value
				case "opaque":
					c.opaque = value
				case "algorithm":
					if a, ok := parseAlgorithm(value); ok {
						c.alg = a
					} else {
						c.alg = ""
					}
				case "qop":
					for _, q := range strings.Split(value, ",") {
						if strings.TrimSpace(q) == "auth" {
							c.qopAuth = true
						}
					}
				}
				return nil
			})
			if err == nil && c.nonce != "" && c.alg != "" && c.qopAuth && (best == nil || best.basic) {
				best = c
			}
		case strings.EqualFold(scheme, "Basic") && best == nil:
			best = &clientChallenge{basic: true}
		}
	}
	if best == nil {
		return false
	}
	t.mu.Lock()
	t.ch = best
	t.mu.Unlock()
	return true
}

// authorize sets r's Authorization header from the kept challenge.
func (t *Transport) authorize(r *http.Request) error {
	t.mu.Lock()
	c := t.ch
	if c == nil {
		t.mu.Unlock()
		return nil
	}
	if c.basic {
		t.mu.Unlock()
		r.SetBasicAuth(t.User, t.Password)
		return nil
	}
	c.nc++
	nc := fmt.Sprintf("%08x", c.nc)
	if c.cachedUserHashes == nil {
		c.cachedUserHashes = map[Algorithm][]byte{}
	}
	base := c.alg
	if base.sess() {
		base = map[Algorithm]Algorithm{MD5Sess: MD5, SHA256Sess: SHA256}[base]
	}
	uh, ok := c.cachedUserHashes[base]
	if !ok {
		uh = userRealmHash(base, t.User, c.realm, t.Password)
		c.cachedUserHashes[base] = uh
	}
	realmName, nonce, opaque, alg := c.realm, c.nonce, c.opaque, c.alg
	t.mu.Unlock()
	var cn [12]byte
	if _, err := rand.Read(cn[:]); err != nil {
		return err
	}
	cnonce := base64.RawURLEncoding.EncodeToString(cn[:])
	uri := r.URL.RequestURI()
	resp := digestResponse(alg, uh, nonce, nc, cnonce, "auth", r.Method, uri)
	v := fmt.Sprintf("Digest username=%s, realm=%s, nonce=%s, uri=%s, algorithm=%s, qop=auth, nc=%s, cnonce=%s, response=%s",
		quote(t.User), quote(realmName), quote(nonce), quote(uri), alg, nc, quote(cnonce), quote(hex.EncodeToString(resp)))
	if opaque != "" {
		v += ", opaque=" + quote(opaque)
	}
	r.Header.Set("Authorization", v)
	return nil
}
