package httpauth

import (
	"net/http"

	"github.com/hotgrid/hotgrid/security/realm"
)

// clientCert authenticates the subject CN of a verified TLS client
// certificate. The TLS layer did the verifying (its ClientCAs and
// ClientAuth decide who may present a certificate); the realm only adds
// groups, so a CN the realm does not know still authenticates, without
// groups, as in Infinispan.
func (a *Authenticator) clientCert(r *http.Request) (realm.Identity, Result) {
	if r.TLS == nil || len(r.TLS.VerifiedChains) == 0 || len(r.TLS.VerifiedChains[0]) == 0 {
		return realm.Identity{}, NoCredentials
	}
	cn := r.TLS.VerifiedChains[0][0].Subject.CommonName
	if cn == "" {
		return realm.Identity{}, Failed
	}
	if id, ok := a.creds.Identity(cn); ok {
		return id, OK
	}
	return realm.Identity{Name: cn}, OK
}
