package security

import (
	"net/http"
	"strings"

	"github.com/hotgrid/hotgrid/security/authz"
	"github.com/hotgrid/hotgrid/security/httpauth"
)

// HTTPMechanisms turns configured REST mechanism names (BASIC, DIGEST,
// CLIENT_CERT) into httpauth mechanisms; none gives Infinispan's defaults
// for a properties realm: DIGEST, plus BASIC and CLIENT_CERT when the
// endpoint has TLS.
func HTTPMechanisms(configured []string, tls, clientCerts bool) []httpauth.Mechanism {
	var out []httpauth.Mechanism
	for _, m := range configured {
		out = append(out, httpauth.Mechanism(strings.ToUpper(m)))
	}
	if out != nil {
		return out
	}
	out = []httpauth.Mechanism{httpauth.Digest}
	if tls {
		out = append(out, httpauth.Basic)
	}
	if clientCerts {
		out = append(out, httpauth.ClientCert)
	}
	return out
}

// HTTPHandler requires authentication for every request to next except
// those anonymous reports (health status, as Infinispan leaves open).
// Authenticated requests carry their subject in the request context; the
// others get 401 with a challenge per offered mechanism, after the delay
// Failed imposes when they carried wrong credentials.
func (g *Guard) HTTPHandler(next http.Handler, mechs []httpauth.Mechanism, anonymous func(*http.Request) bool) (http.Handler, error) {
	a, err := httpauth.New(g.opts.Realm, httpauth.Options{Mechanisms: mechs})
	if err != nil {
		return nil, err
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if anonymous(r) {
			next.ServeHTTP(w, r)
			return
		}
		g.reload()
		id, res := a.Check(r)
		if res == httpauth.OK {
			g.succeeded(r.RemoteAddr)
			ctx := authz.WithSubject(r.Context(), g.Subject(id))
			next.ServeHTTP(w, r.WithContext(ctx))
			return
		}
		if res == httpauth.Failed {
			scheme, _, _ := strings.Cut(r.Header.Get("Authorization"), " ")
			g.Failed(r.Context(), r.RemoteAddr, "rest", strings.ToUpper(scheme), "")
		}
		a.ChallengeFor(w.Header(), res)
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		w.WriteHeader(http.StatusUnauthorized)
		w.Write([]byte("ISPN012014: Authentication required\n"))
	}), nil
}
