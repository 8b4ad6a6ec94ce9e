// Package authz is hotgrid's role-based authorization, as Infinispan
// defines it: permissions, roles that group them, a mapping from an
// authenticated identity's name and groups to roles, and per-cache role
// lists. Protocols carry the caller's Subject in the context; the cache
// manager's secured caches and the protocols' administrative paths ask the
// Policy whether the subject holds a permission.
package authz

import (
	"fmt"
	"strings"
)

// Permission is a set of Infinispan authorization permissions.
type Permission uint32

// Permissions, with Infinispan's names (AuthorizationPermission).
const (
	Lifecycle Permission = 1 << iota
	Read
	Write
	Exec
	Listen
	BulkRead
	BulkWrite
	Admin
	Create
	Monitor
	// None is the empty set.
	None Permission = 0
	// AllRead and AllWrite are Infinispan's shorthands.
	AllRead  = Read | BulkRead
	AllWrite = Write | BulkWrite
	// All holds every permission.
	All = Lifecycle | Read | Write | Exec | Listen | BulkRead | BulkWrite | Admin | Create | Monitor
)

var permNames = []struct {
	name string
	p    Permission
}{
	{"LIFECYCLE", Lifecycle}, {"READ", Read}, {"WRITE", Write}, {"EXEC", Exec}, {"LISTEN", Listen},
	{"BULK_READ", BulkRead}, {"BULK_WRITE", BulkWrite}, {"ADMIN", Admin}, {"CREATE", Create}, {"MONITOR", Monitor},
}

// String names the permissions, Infinispan style ("READ WRITE"); All is "ALL".
func (p Permission) String() string {
	switch p {
	case None:
		return "NONE"
	case All:
		return "ALL"
	}
	var names []string
	for _, n := range permNames {
		if p&n.p != 0 {
			names = append(names, n.name)
		}
	}
	return strings.Join(names, " ")
}

// ParsePermissions reads a space- or comma-separated permission list, as
// the permissions attribute of Infinispan's role element holds it.
func ParsePermissions(s string) (Permission, error) {
	var p Permission
	for _, f := range strings.FieldsFunc(s, func(r rune) bool { return r == ' ' || r == ',' || r == '\t' || r == '\n' }) {
		q, err := parsePermission(f)
		if err != nil {
			return 0, err
		}
		p |= q
	}
	return p, nil
}

func parsePermission(name string) (Permission, error) {
	switch n := strings.ToUpper(name); n {
	case "ALL":
		return All, nil
	case "ALL_READ":
		return AllRead, nil
	case "ALL_WRITE":
		return AllWrite, nil
	case "NONE":
		return None, nil
	default:
		for _, pn := range permNames {
			if pn.name == n {
				return pn.p, nil
			}
		}
	}
	return 0, fmt.Errorf("unknown permission %q", name)
}
