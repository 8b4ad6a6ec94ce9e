// Package realmtest writes properties realms for tests, with the realm's
// own file editor (as `hotgrid user` writes them).
package realmtest

import (
	"path/filepath"
	"testing"

	"github.com/hotgrid/hotgrid/security/realm"
)

// User is one identity of a test realm.
type User struct {
	Name, Password string
	Groups         []string
}

// Write creates users.properties and groups.properties in dir holding
// users, stored as o says, and loads them.
func Write(tb testing.TB, dir string, users []User, o realm.PasswordOptions) *realm.Realm {
	tb.Helper()
	up, gp := filepath.Join(dir, "users.properties"), filepath.Join(dir, "groups.properties")
	f, err := realm.Open(up, gp)
	if err != nil {
		tb.Fatal(err)
	}
	for _, u := range users {
		if err := f.Create(u.Name, u.Password, u.Groups, o); err != nil {
			tb.Fatal(err)
		}
	}
	if err := f.Save(); err != nil {
		tb.Fatal(err)
	}
	r, err := realm.Load(up, gp)
	if err != nil {
		tb.Fatal(err)
	}
	return r
}
