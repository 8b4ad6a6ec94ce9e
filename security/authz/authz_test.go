package authz

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
)

func TestParsePermissions(t *testing.T) {
	for _, c := range []struct {
		in   string
		want Permission
		str  string // want.String()
	}{
		{"ALL", All, "ALL"},
		{"all", All, "ALL"},
		{"NONE", None, "NONE"},
		{"", None, "NONE"},
		{"ALL_READ", Read | BulkRead, "READ BULK_READ"},
		{"ALL_WRITE", Write | BulkWrite, "WRITE BULK_WRITE"},
		{"READ", Read, "READ"},
		{"LIFECYCLE", Lifecycle, "LIFECYCLE"},
		{"READ WRITE", Read | Write, "READ WRITE"},
		{"READ,WRITE", Read | Write, "READ WRITE"},
		{" READ ,\tWRITE\n, ", Read | Write, "READ WRITE"},
		{"WRITE READ", Read | Write, "READ WRITE"},
		{"ALL_READ ALL_WRITE LISTEN EXEC MONITOR CREATE", AllRead | AllWrite | Listen | Exec | Monitor | Create,
			"READ WRITE EXEC LISTEN BULK_READ BULK_WRITE CREATE MONITOR"},
		{"NONE READ", Read, "READ"},
		{"ALL NONE", All, "ALL"},
		{"LIFECYCLE READ WRITE EXEC LISTEN BULK_READ BULK_WRITE ADMIN CREATE MONITOR", All, "ALL"},
		{"monitor, admin", Monitor | Admin, "ADMIN MONITOR"},
	} {
		got, err := ParsePermissions(c.in)
		if err != nil || got != c.want {
			t.Errorf("ParsePermissions(%q) = %v (%d), %v; want %v (%d)", c.in, got, got, err, c.want, c.want)
			continue
		}
		if s := got.String(); s != c.str {
			t.Errorf("ParsePermissions(%q).String() = %q, want %q", c.in, s, c.str)
		}
	}
	for _, in := range []string{"READS", "ALL-READ", "READ WRIT", "READ;WRITE", "*"} {
		if p, err := ParsePermissions(in); err == nil {
			t.Errorf("ParsePermissions(%q) = %v, want an error", in, p)
		} else if !strings.Contains(err.Error(), "unknown permission") {
			t.Errorf("ParsePermissions(%q): %v, want it to name the unknown permission", in, err)
		}
	}
}

// Every set of permissions survives String and ParsePermissions.
func TestPermissionStringRoundTrip(t *testing.T) {
	for p := None; p <= All; p++ {
		got, err := ParsePermissions(p.String())
		if err != nil || got != p {
			t.Fatalf("ParsePermissions(%q) = %v, %v; want %d", p.String(), got, err, p)
		}
	}
}

// DefaultRoles are Infinispan's (ClusterRoleMapper's default roles in
// GlobalAuthorizationConfigurationBuilder).
func TestDefaultRoles(t *testing.T) {
	want := map[string]string{
		"admin":       "ALL",
		"deployer":    "ALL_READ ALL_WRITE LISTEN EXEC MONITOR CREATE",
		"application": "ALL_READ ALL_WRITE LISTEN EXEC MONITOR",
		"observer":    "ALL_READ MONITOR",
		"monitor":     "MONITOR",
	}
	roles := DefaultRoles()
	if len(roles) != len(want) {
		t.Fatalf("%d default roles, want %d: %v", len(roles), len(want), roles)
	}
	for _, r := range roles {
		w, ok := want[r.Name]
		if !ok {
			t.Errorf("unexpected default role %q", r.Name)
			continue
		}
		p, err := ParsePermissions(w)
		if err != nil {
			t.Fatal(err)
		}
		if r.Permissions != p {
			t.Errorf("role %s: %v, want %v", r.Name, r.Permissions, p)
		}
	}
	// A caller changing the returned slice does not change the defaults.
	roles[0].Permissions = None
	if DefaultRoles()[0].Permissions != All {
		t.Error("DefaultRoles shares its slice with callers")
	}
	p, err := NewPolicy(nil, "")
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(p.Roles(), DefaultRoles()) {
		t.Errorf("NewPolicy(nil) roles %v, want the defaults", p.Roles())
	}
}

func TestNewPolicyErrors(t *testing.T) {
	many := func(n int) []Role {
		var rs []Role
		for i := range n {
			rs = append(rs, Role{Name: fmt.Sprintf("r%d", i), Permissions: Read})
		}
		return rs
	}
	for _, c := range []struct {
		name   string
		roles  []Role
		mapper Mapper
		want   string // in the error
	}{
		{"duplicate role", []Role{{"a", Read}, {"b", Write}, {"a", All}}, "", `role "a" is defined twice`},
		{"65 roles", many(65), MapperCluster, "65 roles"},
		{"unknown mapper", []Role{{"a", Read}}, "ldap", `unknown role mapper "ldap"`},
		{"unnamed role", []Role{{"a", Read}, {"", Write}}, "", "no name"},
	} {
		t.Run(c.name, func(t *testing.T) {
			p, err := NewPolicy(c.roles, c.mapper)
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("NewPolicy: %v, %v; want an error containing %q", p, err, c.want)
			}
		})
	}
	if _, err := NewPolicy(many(64), MapperIdentity); err != nil {
		t.Errorf("64 roles: %v", err)
	}
	for _, m := range []Mapper{"", MapperCluster, MapperIdentity, MapperCommonName} {
		if _, err := NewPolicy(nil, m); err != nil {
			t.Errorf("mapper %q: %v", m, err)
		}
	}
}

// The policy keeps its own copy of the roles it was given.
func TestPolicyCopiesRoles(t *testing.T) {
	roles := []Role{{"reader", Read}}
	p, err := NewPolicy(roles, "")
	if err != nil {
		t.Fatal(err)
	}
	roles[0].Permissions = All
	p.Roles()[0].Permissions = All
	if s := p.Subject("u", []string{"reader"}); s.Permissions() != Read {
		t.Fatalf("reader holds %v after callers changed their slices, want READ", s.Permissions())
	}
}

func TestSubjectMapping(t *testing.T) {
	roles := append(DefaultRoles(), Role{"alice", Exec})
	for _, c := range []struct {
		mapper      Mapper
		name        string
		groups      []string
		wantRoles   []string // in policy order
		wantPermits Permission
	}{
		{MapperCluster, "bob", []string{"observer"}, []string{"observer"}, AllRead | Monitor},
		{MapperCluster, "bob", []string{"observer", "monitor", "unknown"}, []string{"observer", "monitor"}, AllRead | Monitor},
		{MapperCluster, "bob", []string{"monitor", "deployer"}, []string{"deployer", "monitor"}, AllRead | AllWrite | Listen | Exec | Monitor | Create},
		{MapperCluster, "admin", nil, []string{"admin"}, All}, // the user name maps too
		{MapperCluster, "alice", []string{"monitor"}, []string{"monitor", "alice"}, Exec | Monitor},
		{MapperCluster, "nobody", nil, nil, None},
		{MapperCluster, "bob", []string{"Admin"}, nil, None}, // names are case-sensitive
		{MapperIdentity, "bob", []string{"application"}, []string{"application"}, AllRead | AllWrite | Listen | Exec | Monitor},
		{MapperIdentity, "monitor", nil, []string{"monitor"}, Monitor},
		{MapperCommonName, "CN=admin,O=x", nil, []string{"admin"}, All},
		{MapperCommonName, "cn=observer,ou=people,dc=example,dc=com", nil, []string{"observer"}, AllRead | Monitor},
		{MapperCommonName, "CN=nobody,O=x", []string{"CN=monitor,OU=ops"}, []string{"monitor"}, Monitor},
		{MapperCommonName, "admin", []string{"observer"}, nil, None}, // not distinguished names
		{MapperCommonName, "O=x,CN=admin", nil, nil, None},           // Infinispan reads only a leading CN
	} {
		t.Run(fmt.Sprintf("%s/%s/%v", c.mapper, c.name, c.groups), func(t *testing.T) {
			p, err := NewPolicy(roles, c.mapper)
			if err != nil {
				t.Fatal(err)
			}
			s := p.Subject(c.name, c.groups)
			if got := s.Roles(p); !slices.Equal(got, c.wantRoles) {
				t.Errorf("roles %q, want %q", got, c.wantRoles)
			}
			if s.Permissions() != c.wantPermits {
				t.Errorf("permissions %v, want %v", s.Permissions(), c.wantPermits)
			}
			if s.Name != c.name || !slices.Equal(s.Groups, c.groups) {
				t.Errorf("subject %q %q, want %q %q", s.Name, s.Groups, c.name, c.groups)
			}
		})
	}
	groups := []string{"observer"}
	var p *Policy
	s := p.Subject("x", groups)
	if s.Permissions() != All {
		t.Errorf("a nil policy's subject holds %v, want ALL", s.Permissions())
	}
	groups[0] = "changed"
	if s.Groups[0] != "observer" {
		t.Error("Subject keeps the caller's groups slice")
	}
	if got := (&Subject{}).String(); got != "anonymous" {
		t.Errorf("unnamed subject is %q, want anonymous", got)
	}
}

func TestRoleSet(t *testing.T) {
	p, err := NewPolicy(nil, "")
	if err != nil {
		t.Fatal(err)
	}
	if rs, err := p.RoleSet(nil); err != nil || rs != AllRoles {
		t.Errorf("RoleSet(nil) = %x, %v; want AllRoles", rs, err)
	}
	if rs, err := p.RoleSet([]string{"admin", "observer"}); err != nil || rs == AllRoles || rs == 0 {
		t.Errorf("RoleSet(admin, observer) = %x, %v", rs, err)
	}
	_, err = p.RoleSet([]string{"admin", "writer"})
	if err == nil || !strings.Contains(err.Error(), `"writer"`) {
		t.Errorf("RoleSet with an undefined role: %v, want an error naming it", err)
	}
	var nilPolicy *Policy
	if rs, err := nilPolicy.RoleSet([]string{"anything"}); err != nil || rs != AllRoles {
		t.Errorf("nil policy RoleSet = %x, %v; want AllRoles", rs, err)
	}
}

func TestCheck(t *testing.T) {
	p, err := NewPolicy(nil, MapperCluster)
	if err != nil {
		t.Fatal(err)
	}
	as := func(name string, groups ...string) context.Context {
		return WithSubject(context.Background(), p.Subject(name, groups))
	}
	observerOnly, err := p.RoleSet([]string{"observer"})
	if err != nil {
		t.Fatal(err)
	}
	adminOnly, err := p.RoleSet([]string{"admin"})
	if err != nil {
		t.Fatal(err)
	}

	t.Run("nil policy", func(t *testing.T) {
		var none *Policy
		if err := none.Check(context.Background(), "c", observerOnly, All); err != nil {
			t.Fatalf("nil policy, no subject: %v", err)
		}
	})

	t.Run("no subject", func(t *testing.T) {
		for _, ctx := range []context.Context{context.Background(), WithSubject(context.Background(), nil)} {
			if err := p.Check(ctx, "c", AllRoles, Read); !errors.Is(err, ErrUnauthenticated) {
				t.Fatalf("Check without a subject: %v, want ErrUnauthenticated", err)
			}
		}
		if _, ok := SubjectFrom(WithSubject(context.Background(), nil)); ok {
			t.Fatal("SubjectFrom reports a nil subject")
		}
	})

	for _, c := range []struct {
		name  string
		ctx   context.Context
		roles RoleSet
		perm  Permission
		allow bool
	}{
		{"admin everything", as("u", "admin"), AllRoles, All, true},
		{"observer reads", as("u", "observer"), AllRoles, Read, true},
		{"observer bulk-reads and monitors", as("u", "observer"), AllRoles, BulkRead | Monitor, true},
		{"observer writes", as("u", "observer"), AllRoles, Write, false},
		{"observer read and write", as("u", "observer"), AllRoles, Read | Write, false},
		{"monitor reads", as("u", "monitor"), AllRoles, Read, false},
		{"no roles", as("u"), AllRoles, Monitor, false},
		{"no permission needed", as("u"), AllRoles, None, true},
		{"deployer creates", as("u", "deployer"), AllRoles, Create, true},
		{"application creates", as("u", "application"), AllRoles, Create, false},
		{"deployer is not admin", as("u", "deployer"), AllRoles, Admin, false},
		// A cache that admits only some roles: the subject's other roles
		// do not count there, whatever their permissions.
		{"admin on observer cache", as("u", "admin"), observerOnly, Read, false},
		{"admin+observer on observer cache reads", as("u", "admin", "observer"), observerOnly, Read, true},
		{"admin+observer on observer cache writes", as("u", "admin", "observer"), observerOnly, Write, false},
		{"observer on admin cache", as("u", "observer"), adminOnly, Read, false},
		{"admin on admin cache", as("u", "admin"), adminOnly, Admin | Write, true},
		{"internal", WithSubject(context.Background(), Internal()), AllRoles, All, true},
	} {
		t.Run(c.name, func(t *testing.T) {
			err := p.Check(c.ctx, "c", c.roles, c.perm)
			if c.allow {
				if err != nil {
					t.Fatalf("Check(%v): %v, want allowed", c.perm, err)
				}
				return
			}
			if !errors.Is(err, ErrDenied) || errors.Is(err, ErrUnauthenticated) {
				t.Fatalf("Check(%v): %v, want ErrDenied", c.perm, err)
			}
			var de *DeniedError
			if !errors.As(err, &de) || de.Cache != "c" || de.Permission != c.perm || de.Subject != "u" {
				t.Fatalf("Check(%v): %#v", c.perm, err)
			}
			want := fmt.Sprintf("ISPN000287: Unauthorized access: subject 'u' lacks '%s' permission", c.perm)
			if err.Error() != want {
				t.Fatalf("message %q, want %q", err.Error(), want)
			}
		})
	}

	t.Run("anonymous subject", func(t *testing.T) {
		err := p.Check(as(""), "", AllRoles, Write)
		if !errors.Is(err, ErrDenied) || !strings.HasPrefix(err.Error(), "ISPN000287: Unauthorized access: subject 'anonymous' lacks 'WRITE'") {
			t.Fatalf("anonymous write: %v", err)
		}
	})
}

// Internal is the node acting on its own behalf (creating respCache,
// restoring a backup, preloading a store): its documentation says it holds
// every permission, so no cache role restriction may stop it.
func TestInternalIsAllowedEverywhere(t *testing.T) {
	p, err := NewPolicy(nil, "")
	if err != nil {
		t.Fatal(err)
	}
	ctx := WithSubject(context.Background(), Internal())
	perms := []Permission{Read, Write, BulkWrite, Lifecycle, Admin, Create, All}
	for _, perm := range perms {
		if err := p.Check(ctx, "", AllRoles, perm); err != nil {
			t.Errorf("Internal() on the container, %v: %v", perm, err)
		}
	}
	// Caches admitting only some roles do not limit Internal() (an early
	// version intersected its all-ones role mask with the cache's).
	var denied []string
	for _, names := range [][]string{{"admin"}, {"observer"}, {"monitor"}, {"observer", "monitor"}} {
		rs, err := p.RoleSet(names)
		if err != nil {
			t.Fatal(err)
		}
		for _, perm := range perms {
			if err := p.Check(ctx, "c", rs, perm); err != nil {
				denied = append(denied, fmt.Sprintf("%v on a cache admitting %q", perm, names))
			}
		}
	}
	if len(denied) > 0 {
		t.Fatalf("Internal() is denied %d checks on role-restricted caches, e.g. %s", len(denied), denied[0])
	}
}

// BenchmarkCheck measures the allowed path every cache operation takes; it
// must not allocate.
func BenchmarkCheck(b *testing.B) {
	p, err := NewPolicy(nil, "")
	if err != nil {
		b.Fatal(err)
	}
	restricted, err := p.RoleSet([]string{"application", "observer"})
	if err != nil {
		b.Fatal(err)
	}
	ctx := WithSubject(context.Background(), p.Subject("u", []string{"application"}))
	for _, c := range []struct {
		name  string
		roles RoleSet
	}{{"AllRoles", AllRoles}, {"cache-roles", restricted}} {
		b.Run(c.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if err := p.Check(ctx, "c", c.roles, Write); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
