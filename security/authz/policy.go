package authz

import (
	"context"
	"errors"
	"fmt"
	"math/bits"
	"slices"
	"strings"
)

// Role is a named set of permissions.
type Role struct {
	Name        string
	Permissions Permission
}

// DefaultRoles are the roles Infinispan defines when the configuration
// names none.
func DefaultRoles() []Role {
	return []Role{
		{"admin", All},
		{"deployer", AllRead | AllWrite | Listen | Exec | Monitor | Create},
		{"application", AllRead | AllWrite | Listen | Exec | Monitor},
		{"observer", AllRead | Monitor},
		{"monitor", Monitor},
	}
}

// Mapper names how principals become roles, as Infinispan's role mappers
// do.
type Mapper string

// Role mappers.
const (
	// MapperCluster (Infinispan's default) and MapperIdentity map a user
	// name or group name to the role of the same name.
	MapperCluster  Mapper = "cluster"
	MapperIdentity Mapper = "identity"
	// MapperCommonName maps a name in distinguished-name form
	// ("CN=app,O=…") to the role named by its CN.
	MapperCommonName Mapper = "common-name"
)

// maxRoles bounds the roles of one policy: role sets are 64-bit masks.
const maxRoles = 64

// Policy is a cache container's authorization: its roles and role mapper.
// A nil *Policy allows everything (a node without authentication). It is
// immutable and safe for concurrent use.
type Policy struct {
	roles  []Role
	byName map[string]int
	mapper Mapper
}

// NewPolicy builds a policy; no roles means DefaultRoles, an empty mapper
// MapperCluster.
func NewPolicy(roles []Role, mapper Mapper) (*Policy, error) {
	if len(roles) == 0 {
		roles = DefaultRoles()
	}
	if len(roles) > maxRoles {
		return nil, fmt.Errorf("authorization: %d roles defined, at most %d are supported", len(roles), maxRoles)
	}
	switch mapper {
	case "":
		mapper = MapperCluster
	case MapperCluster, MapperIdentity, MapperCommonName:
	default:
		return nil, fmt.Errorf("authorization: unknown role mapper %q", mapper)
	}
	p := &Policy{roles: slices.Clone(roles), byName: make(map[string]int, len(roles)), mapper: mapper}
	for i, r := range roles {
		if r.Name == "" {
			return nil, errors.New("authorization: a role has no name")
		}
		if _, dup := p.byName[r.Name]; dup {
			return nil, fmt.Errorf("authorization: role %q is defined twice", r.Name)
		}
		p.byName[r.Name] = i
	}
	return p, nil
}

// Roles returns the policy's roles.
func (p *Policy) Roles() []Role { return slices.Clone(p.roles) }

// Subject is an authenticated caller with the roles its principals map to.
type Subject struct {
	// Name is the user's name ("" for the anonymous subject).
	Name string
	// Groups are the groups the realm gives the user.
	Groups []string
	roles  uint64
	perms  Permission // union of the roles' permissions
	// internal subjects are not limited by caches' role lists.
	internal bool
}

// Roles names the subject's roles under p.
func (s *Subject) Roles(p *Policy) []string {
	var out []string
	for m := s.roles; m != 0; m &= m - 1 {
		out = append(out, p.roles[bits.TrailingZeros64(m)].Name)
	}
	return out
}

// Permissions is the union of the subject's roles' permissions.
func (s *Subject) Permissions() Permission { return s.perms }

// String describes the subject for error messages, as Infinispan does.
func (s *Subject) String() string {
	if s.Name == "" {
		return "anonymous"
	}
	return s.Name
}

// Subject maps an identity's principals (its name and groups) to roles.
func (p *Policy) Subject(name string, groups []string) *Subject {
	s := &Subject{Name: name, Groups: slices.Clone(groups)}
	if p == nil {
		s.roles, s.perms = ^uint64(0), All
		return s
	}
	add := func(principal string) {
		if p.mapper == MapperCommonName {
			principal = commonName(principal)
		}
		if i, ok := p.byName[principal]; ok {
			s.roles |= 1 << i
			s.perms |= p.roles[i].Permissions
		}
	}
	add(name)
	for _, g := range groups {
		add(g)
	}
	return s
}

// commonName returns the CN of a distinguished name that starts with one
// ("CN=app,O=example" gives "app"), as Infinispan's common-name role mapper
// reads it, or "".
func commonName(dn string) string {
	if len(dn) < 3 || !strings.EqualFold(dn[:3], "CN=") {
		return ""
	}
	cn, _, _ := strings.Cut(dn[3:], ",")
	return cn
}

// Internal is a subject holding every permission, for work the node does
// on its own behalf (restoring backups, preloading stores).
func Internal() *Subject {
	return &Subject{Name: "hotgrid-internal", roles: ^uint64(0), perms: All, internal: true}
}

// RoleSet is the set of roles a cache admits, as a mask over a policy's
// roles.
type RoleSet uint64

// AllRoles admits every role of the policy: a cache whose authorization
// names no roles.
const AllRoles RoleSet = ^RoleSet(0)

// RoleSet resolves a cache's role names; no names means AllRoles.
func (p *Policy) RoleSet(names []string) (RoleSet, error) {
	if len(names) == 0 || p == nil {
		return AllRoles, nil
	}
	var m RoleSet
	for _, n := range names {
		i, ok := p.byName[n]
		if !ok {
			return 0, fmt.Errorf("authorization: role %q is not defined in the cache container", n)
		}
		m |= 1 << i
	}
	return m, nil
}

// permissions is what s may do on a cache admitting roles.
func (p *Policy) permissions(s *Subject, roles RoleSet) Permission {
	if roles == AllRoles || s.internal {
		return s.perms
	}
	var out Permission
	for m := s.roles & uint64(roles); m != 0; m &= m - 1 {
		out |= p.roles[bits.TrailingZeros64(m)].Permissions
	}
	return out
}

// ErrDenied is wrapped by every DeniedError; ErrUnauthenticated marks a
// request that carries no subject at all.
var (
	ErrDenied          = errors.New("permission denied")
	ErrUnauthenticated = errors.New("authentication required")
)

// DeniedError reports a subject lacking a permission.
type DeniedError struct {
	Subject    string
	Permission Permission
	// Cache is the cache the check was for; "" for the container.
	Cache string
}

// Error words the denial as Infinispan's ISPN000287 does.
func (e *DeniedError) Error() string {
	return fmt.Sprintf("ISPN000287: Unauthorized access: subject '%s' lacks '%s' permission", e.Subject, e.Permission)
}

// Unwrap makes errors.Is(err, ErrDenied) hold.
func (e *DeniedError) Unwrap() error { return ErrDenied }

// subjectKey is the context key of the subject. It is pointer-shaped so
// that the lookup every cache operation makes compares two words rather
// than calling a type's equality function.
type subjectKey *struct{}

// WithSubject returns ctx carrying s.
func WithSubject(ctx context.Context, s *Subject) context.Context {
	return context.WithValue(ctx, subjectKey(nil), s)
}

// SubjectFrom returns the subject ctx carries.
func SubjectFrom(ctx context.Context) (*Subject, bool) {
	s, ok := ctx.Value(subjectKey(nil)).(*Subject)
	return s, ok && s != nil
}

// Allowed reports, without building an error, whether ctx's subject holds
// perm on a cache admitting roles; it is the fast path of Check.
func (p *Policy) Allowed(ctx context.Context, roles RoleSet, perm Permission) bool {
	if p == nil {
		return true
	}
	s, ok := SubjectFrom(ctx)
	return ok && p.permissions(s, roles)&perm == perm
}

// Check reports whether ctx's subject holds perm on a cache admitting
// roles (AllRoles for container-level checks); cacheName only labels the
// error. A nil policy allows everything; a context without a subject is
// denied with ErrUnauthenticated.
func (p *Policy) Check(ctx context.Context, cacheName string, roles RoleSet, perm Permission) error {
	if p == nil {
		return nil
	}
	s, ok := SubjectFrom(ctx)
	if !ok {
		return ErrUnauthenticated
	}
	if p.permissions(s, roles)&perm == perm {
		return nil
	}
	return &DeniedError{Subject: s.String(), Permission: perm, Cache: cacheName}
}
