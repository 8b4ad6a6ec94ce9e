// Package securitytest builds security guards over throwaway realms for
// the protocol packages' tests and fuzz targets.
package securitytest

import (
	"testing"
	"time"

	"github.com/hotgrid/hotgrid/security"
	"github.com/hotgrid/hotgrid/security/authz"
	"github.com/hotgrid/hotgrid/security/realm"
	"github.com/hotgrid/hotgrid/security/realm/realmtest"
)

// Users of the realm Guard makes: each user's password is its name
// followed by "-pw", and its one group is the default role of the same
// name ("nobody" has none).
var Users = []string{"admin", "application", "observer", "nobody"}

// Guard returns a guard over a realm in a temporary directory holding
// Users with clear-text passwords (so every SASL mechanism is available),
// Infinispan's default roles, every SASL mechanism including PLAIN
// offered, and no delay after failures (fuzzing fails constantly).
func Guard(tb testing.TB) *security.Guard {
	tb.Helper()
	var users []realmtest.User
	for _, u := range Users {
		var g []string
		if u != "nobody" {
			g = []string{u}
		}
		users = append(users, realmtest.User{Name: u, Password: u + "-pw", Groups: g})
	}
	r := realmtest.Write(tb, tb.TempDir(), users, realm.PasswordOptions{Storage: realm.StorageClear})
	p, err := authz.NewPolicy(nil, "")
	if err != nil {
		tb.Fatal(err)
	}
	g, err := security.New(security.Options{
		Realm:          r,
		Policy:         p,
		SASLMechanisms: []string{"SCRAM-SHA-512", "SCRAM-SHA-256", "SCRAM-SHA-1", "DIGEST-MD5", "PLAIN"},
		FailureDelay:   time.Nanosecond, MaxFailureDelay: time.Nanosecond,
	})
	if err != nil {
		tb.Fatal(err)
	}
	return g
}
