// Package securitytest builds security guards over throwaway realms for
// the protocol packages' tests and fuzz targets.
package securitytest

import (
	"path/filepath"
	"testing"
	"time"

	"github.com/hotgrid/hotgrid/security"
	"github.com/hotgrid/hotgrid/security/authz"
	"github.com/hotgrid/hotgrid/security/realm"
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
	dir := tb.TempDir()
	users, groups := filepath.Join(dir, "users.properties"), filepath.Join(dir, "groups.properties")
	f, err := realm.Open(users, groups)
	if err != nil {
		tb.Fatal(err)
	}
	for _, u := range Users {
		var g []string
		if u != "nobody" {
			g = []string{u}
		}
		if err := f.Create(u, u+"-pw", g, realm.PasswordOptions{Storage: realm.StorageClear}); err != nil {
			tb.Fatal(err)
		}
	}
	if err := f.Save(); err != nil {
		tb.Fatal(err)
	}
	r, err := realm.Load(users, groups)
	if err != nil {
		tb.Fatal(err)
	}
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
