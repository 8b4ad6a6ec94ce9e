package sasl

import (
	"crypto/x509"
	"crypto/x509/pkix"
	"slices"
	"testing"

	"github.com/hotgrid/hotgrid/security/realm"
)

func TestExternal(t *testing.T) {
	r := newRealm(t, realm.StorageClear)
	cert := func(cn string) []*x509.Certificate {
		return []*x509.Certificate{{Subject: pkix.Name{CommonName: cn, Organization: []string{"hotgrid"}}}}
	}
	for _, tc := range []struct {
		name    string
		certs   []*x509.Certificate
		authzid string
		want    realm.Identity
		err     error
	}{
		{"realm user", cert("alice"), "", realm.Identity{Name: "alice", Groups: []string{"admin", "ops"}}, nil},
		{"authzid same", cert("alice"), "alice", realm.Identity{Name: "alice", Groups: []string{"admin", "ops"}}, nil},
		{"not in realm", cert("carol"), "", realm.Identity{Name: "carol"}, nil},
		{"authzid other", cert("alice"), "bob", realm.Identity{}, ErrAuthFailed},
		{"no certificate", nil, "", realm.Identity{}, ErrAuthFailed},
		{"no common name", cert(""), "", realm.Identity{}, ErrAuthFailed},
		{"authzid not utf-8", cert("alice"), "\xff", realm.Identity{}, ErrMalformed},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := mustServer(t, External, r, Options{PeerCertificates: tc.certs})
			ch, done, err := s.Step([]byte(tc.authzid))
			checkErr(t, err, tc.err)
			if tc.err != nil {
				return
			}
			if !done || ch != nil {
				t.Fatalf("done %v challenge %q", done, ch)
			}
			if id := s.Identity(); id.Name != tc.want.Name || !slices.Equal(id.Groups, tc.want.Groups) {
				t.Fatalf("identity %+v, want %+v", id, tc.want)
			}
		})
	}
}
