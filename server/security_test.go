package server

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/hotgrid/hotgrid/client"
	"github.com/hotgrid/hotgrid/security/httpauth"
	"github.com/hotgrid/hotgrid/security/realm"
	"github.com/hotgrid/hotgrid/security/realm/realmtest"
)

// secureRoot makes a server root whose realm holds one user per default
// role, one without any group, and extra.
func secureRoot(t *testing.T, extra ...realmtest.User) string {
	t.Helper()
	root := t.TempDir()
	users := extra
	for user, group := range roleUsers {
		var g []string
		if group != "" {
			g = []string{group}
		}
		users = append(users, realmtest.User{Name: user, Password: user + "-pw", Groups: g})
	}
	realmtest.Write(t, filepath.Join(root, "conf"), users, realm.PasswordOptions{})
	return root
}

// roleUsers maps each test user to its group, which the default cluster
// role mapper turns into the role of the same name.
var roleUsers = map[string]string{
	"admin": "admin", "deployer": "deployer", "application": "application",
	"observer": "observer", "monitor": "monitor", "nobody": "",
}

// permitted says which operation classes each role allows, from
// Infinispan's default role table.
var permitted = map[string]map[string]bool{
	"admin":       {"read": true, "write": true, "bulk-read": true, "bulk-write": true, "create": true, "monitor": true, "admin": true},
	"deployer":    {"read": true, "write": true, "bulk-read": true, "bulk-write": true, "create": true, "monitor": true},
	"application": {"read": true, "write": true, "bulk-read": true, "bulk-write": true, "monitor": true},
	"observer":    {"read": true, "bulk-read": true, "monitor": true},
	"monitor":     {"monitor": true},
	"nobody":      {},
}

// protocolClient performs one class of operation as one user; it returns
// nil when the server allowed it and the denial (in the protocol's own
// terms) otherwise.
type protocolClient interface {
	do(op string) error
	close()
}

// operation classes every protocol is asked for; a protocol that has no
// operation of a class returns errNoSuchOp for it.
var opClasses = []string{"read", "write", "bulk-read", "bulk-write", "create", "monitor", "admin"}

var errNoSuchOp = errors.New("no such operation in this protocol")

// TestSecurityMatrix runs, for every protocol × operation class × role,
// the operation and checks that it is allowed exactly when the role holds
// the permission, that each denial is the protocol's own error, and that a
// denied write or clear leaves the data as it was.
func TestSecurityMatrix(t *testing.T) {
	n := StartNode(t, Options{ServerRoot: secureRoot(t)})
	addr := n.Addr().String()

	// The data every denial must leave untouched, as the admin sees it:
	// respCache (Hot Rod, RESP and REST use it) and memcachedCache.
	admin := newRESPClient(t, addr, "admin")
	defer admin.close()
	adminMC := newMemcachedClient(t, addr, "admin").(*memcachedClient)
	defer adminMC.close()
	seed := func(t *testing.T) {
		admin.mustOK(t, "SET", "k", "v0")
		admin.mustOK(t, "SET", "k2", "v0")
		if got := roundTrip(t, adminMC.nc, "set k 0 0 2\r\nv0\r\n"); got != "STORED\r\n" {
			t.Fatalf("memcached seed: %q", got)
		}
	}
	check := func(t *testing.T, what string) {
		t.Helper()
		if got := admin.cmd("GET", "k"); got != "$2\r\nv0\r\n" {
			t.Fatalf("after %s: respCache k = %q, want v0", what, got)
		}
		if got := admin.cmd("DBSIZE"); got != ":2\r\n" {
			t.Fatalf("after %s: DBSIZE = %q, want 2", what, got)
		}
		if got := roundTrip(t, adminMC.nc, "get k\r\n"); got != "VALUE k 0 2\r\nv0\r\nEND\r\n" {
			t.Fatalf("after %s: memcachedCache k = %q, want v0", what, got)
		}
	}

	protocols := map[string]func(user string) protocolClient{
		"hotrod":    func(u string) protocolClient { return newHotRodClient(t, addr, u) },
		"resp":      func(u string) protocolClient { return newRESPClient(t, addr, u) },
		"memcached": func(u string) protocolClient { return newMemcachedClient(t, addr, u) },
		"rest":      func(u string) protocolClient { return newRESTClient(t, addr, u) },
	}
	for proto, dial := range protocols {
		for user := range roleUsers {
			t.Run(proto+"/"+user, func(t *testing.T) {
				c := dial(user)
				defer c.close()
				for _, op := range opClasses {
					seed(t)
					err := c.do(op)
					if errors.Is(err, errNoSuchOp) {
						continue
					}
					want := permitted[user][op]
					switch {
					case want && err != nil:
						t.Errorf("%s %s as %s: denied (%v), want allowed", proto, op, user, err)
					case !want && err == nil:
						t.Errorf("%s %s as %s: allowed, want denied", proto, op, user)
					case !want:
						check(t, fmt.Sprintf("denied %s %s as %s (%v)", proto, op, user, err))
					}
				}
			})
		}
	}
}

// TestUnauthenticatedIsRefused checks that every protocol refuses requests
// before authentication, and wrong passwords, with its own error, while
// health stays anonymous.
func TestUnauthenticatedIsRefused(t *testing.T) {
	n := StartNode(t, Options{ServerRoot: secureRoot(t)})
	addr := n.Addr().String()
	ctx := context.Background()

	hc, err := client.New(ctx, client.Options{Servers: []string{addr}, Intelligence: 1})
	if err != nil {
		t.Fatalf("PING must be allowed before authentication: %v", err)
	}
	_, _, err = hc.Cache("respCache").Get(ctx, []byte("k"))
	if err == nil || !strings.Contains(err.Error(), "ISPN006017") {
		t.Fatalf("hot rod get without authentication: %v", err)
	}
	hc.Close()
	if _, err := client.New(ctx, client.Options{Servers: []string{addr}, User: "admin", Password: "wrong"}); err == nil {
		t.Fatal("hot rod with a wrong password authenticated")
	}

	nc := dialRaw(t, addr)
	if got := roundTrip(t, nc, "*2\r\n$3\r\nGET\r\n$1\r\nk\r\n"); got != "-NOAUTH Authentication required.\r\n" {
		t.Fatalf("resp without auth: %q", got)
	}
	if got := roundTrip(t, nc, "*3\r\n$4\r\nAUTH\r\n$5\r\nadmin\r\n$5\r\nwrong\r\n"); !strings.HasPrefix(got, "-WRONGPASS") {
		t.Fatalf("resp wrong password: %q", got)
	}
	if got := roundTrip(t, nc, "*2\r\n$5\r\nHELLO\r\n$1\r\n3\r\n"); !strings.HasPrefix(got, "-NOAUTH HELLO") {
		t.Fatalf("resp HELLO without auth: %q", got)
	}
	nc.Close()

	mc := dialRaw(t, addr)
	if got := roundTrip(t, mc, "get k\r\n"); got != "CLIENT_ERROR unauthenticated\r\n" {
		t.Fatalf("memcached without auth: %q", got)
	}
	if got := roundTrip(t, mc, "set auth 0 0 11\r\nadmin wrong\r\n"); got != "CLIENT_ERROR authentication failed\r\n" {
		t.Fatalf("memcached wrong password: %q", got)
	}
	mc.Close()

	resp, err := http.Get("http://" + addr + "/rest/v2/caches")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 401 || !strings.HasPrefix(resp.Header.Get("WWW-Authenticate"), "Digest ") {
		t.Fatalf("rest without auth: %d %q", resp.StatusCode, resp.Header.Values("WWW-Authenticate"))
	}
	for _, p := range []string{"/rest/v2/container/health/status", "/rest/v2/cache-managers/default/health/status"} {
		resp, err := http.Get("http://" + addr + p)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 200 || string(body) != "HEALTHY" {
			t.Fatalf("%s: %d %q", p, resp.StatusCode, body)
		}
	}
}

// TestOpenNodeRefusesNetworkAddress checks secure-by-default: without users a
// node binds to loopback only unless told otherwise.
func TestOpenNodeRefusesNetworkAddress(t *testing.T) {
	n, err := New(Options{BindAddress: "0.0.0.0", Port: 0, PortSet: true, Logger: discardLogger()})
	if err != nil {
		t.Fatal(err)
	}
	err = n.Start(context.Background())
	if err == nil {
		n.Shutdown(context.Background())
		t.Fatal("an open node started on 0.0.0.0")
	}
	if !strings.Contains(err.Error(), "hotgrid user create") {
		t.Fatalf("the refusal does not say how to create a user: %v", err)
	}
	n, err = New(Options{BindAddress: "0.0.0.0", Port: 0, PortSet: true, AllowUnauthenticated: true, Logger: discardLogger()})
	if err != nil {
		t.Fatal(err)
	}
	if err := n.Start(context.Background()); err != nil {
		t.Fatalf("--allow-unauthenticated: %v", err)
	}
	n.Shutdown(context.Background())
	// With users, the same address is fine.
	n, err = New(Options{BindAddress: "0.0.0.0", Port: 0, PortSet: true, ServerRoot: secureRoot(t), Logger: discardLogger()})
	if err != nil {
		t.Fatal(err)
	}
	if err := n.Start(context.Background()); err != nil {
		t.Fatalf("a node with users: %v", err)
	}
	n.Shutdown(context.Background())
}

func dialRaw(t *testing.T, addr string) net.Conn {
	t.Helper()
	nc, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	return nc
}

// roundTrip writes req and reads one reply (what arrives within a short
// wait after the first bytes).
func roundTrip(t *testing.T, nc net.Conn, req string) string {
	t.Helper()
	if _, err := nc.Write([]byte(req)); err != nil {
		t.Fatal(err)
	}
	nc.SetReadDeadline(time.Now().Add(10 * time.Second))
	buf := make([]byte, 64<<10)
	k, err := nc.Read(buf)
	if err != nil {
		t.Fatal(err)
	}
	nc.SetReadDeadline(time.Now().Add(20 * time.Millisecond))
	for {
		m, err := nc.Read(buf[k:])
		k += m
		if err != nil || m == 0 {
			break
		}
	}
	return string(buf[:k])
}

// --- Hot Rod, through hotgrid's Go client with SCRAM-SHA-256.

type hotRodClient struct {
	t *testing.T
	c *client.Client
}

func newHotRodClient(t *testing.T, addr, user string) protocolClient {
	c, err := client.New(context.Background(), client.Options{Servers: []string{addr}, Intelligence: 1,
		User: user, Password: user + "-pw", Mechanism: "SCRAM-SHA-256"})
	if err != nil {
		t.Fatalf("hot rod as %s: %v", user, err)
	}
	return &hotRodClient{t: t, c: c}
}

func (h *hotRodClient) close() { h.c.Close() }

func (h *hotRodClient) do(op string) error {
	ctx := context.Background()
	k := h.c.Cache("respCache")
	var err error
	switch op {
	case "read":
		_, _, err = k.Get(ctx, []byte("k"))
	case "write":
		err = k.Set(ctx, []byte("k"), []byte("x"))
	case "bulk-read":
		_, err = k.Size(ctx)
	case "bulk-write":
		err = k.Clear(ctx)
	case "create":
		err = h.c.CreateCache(ctx, "hr-"+fmt.Sprint(time.Now().UnixNano()), "org.infinispan.LOCAL")
	case "monitor":
		_, err = k.Stats(ctx)
	default:
		return errNoSuchOp
	}
	if err != nil && !strings.Contains(err.Error(), "ISPN000287: Unauthorized access") {
		h.t.Errorf("hot rod %s: the error is not Infinispan's authorization error: %v", op, err)
	}
	return err
}

// --- RESP over a raw connection.

type respClient struct {
	t    *testing.T
	nc   net.Conn
	user string
}

// respDB gives each user a database of its own, whose cache SELECT creates
// only for a subject that may create caches.
var respDB = map[string]string{"admin": "10", "deployer": "11", "application": "12", "observer": "13", "monitor": "14", "nobody": "15"}

func newRESPClient(t *testing.T, addr, user string) *respClient {
	c := &respClient{t: t, nc: dialRaw(t, addr), user: user}
	if got := c.cmd("HELLO", "3", "AUTH", user, user+"-pw"); !strings.HasPrefix(got, "%7") {
		t.Fatalf("HELLO 3 AUTH %s: %q", user, got)
	}
	return c
}

func (c *respClient) cmd(args ...string) string {
	var b strings.Builder
	fmt.Fprintf(&b, "*%d\r\n", len(args))
	for _, a := range args {
		fmt.Fprintf(&b, "$%d\r\n%s\r\n", len(a), a)
	}
	return roundTrip(c.t, c.nc, b.String())
}

func (c *respClient) mustOK(t *testing.T, args ...string) {
	t.Helper()
	if got := c.cmd(args...); got != "+OK\r\n" {
		t.Fatalf("%v: %q", args, got)
	}
}

func (c *respClient) close() { c.nc.Close() }

func (c *respClient) do(op string) error {
	var got string
	switch op {
	case "read":
		got = c.cmd("GET", "k")
	case "write":
		got = c.cmd("SET", "k", "x")
	case "bulk-read":
		got = c.cmd("KEYS", "*")
	case "bulk-write":
		got = c.cmd("FLUSHDB")
	case "create":
		if got = c.cmd("SELECT", respDB[c.user]); got == "+OK\r\n" {
			c.cmd("SELECT", "0")
		}
	default:
		return errNoSuchOp
	}
	switch {
	case strings.HasPrefix(got, "-NOPERM "):
		return errors.New(got)
	case strings.HasPrefix(got, "-"):
		c.t.Errorf("resp %s: an error that is not NOPERM: %q", op, got)
		return errors.New(got)
	}
	return nil
}

// --- memcached text, authenticated with the "set" convention.

type memcachedClient struct {
	t  *testing.T
	nc net.Conn
}

func newMemcachedClient(t *testing.T, addr, user string) protocolClient {
	c := &memcachedClient{t: t, nc: dialRaw(t, addr)}
	cred := user + " " + user + "-pw"
	if got := roundTrip(t, c.nc, fmt.Sprintf("set auth 0 0 %d\r\n%s\r\n", len(cred), cred)); got != "STORED\r\n" {
		t.Fatalf("memcached auth as %s: %q", user, got)
	}
	return c
}

func (c *memcachedClient) close() { c.nc.Close() }

func (c *memcachedClient) do(op string) error {
	var got string
	switch op {
	case "read":
		got = roundTrip(c.t, c.nc, "get k\r\n")
	case "write":
		got = roundTrip(c.t, c.nc, "set k 0 0 1\r\nx\r\n")
	case "bulk-write":
		got = roundTrip(c.t, c.nc, "flush_all\r\n")
	case "monitor":
		got = roundTrip(c.t, c.nc, "stats\r\n")
		for !strings.HasSuffix(got, "END\r\n") && !strings.Contains(got, "ERROR") {
			got += roundTrip(c.t, c.nc, "")
		}
	default:
		return errNoSuchOp
	}
	switch {
	case strings.HasPrefix(got, "CLIENT_ERROR ISPN000287"):
		return errors.New(got)
	case strings.Contains(got, "ERROR"):
		c.t.Errorf("memcached %s: an error that is not an authorization error: %q", op, got)
		return errors.New(got)
	}
	return nil
}

// --- REST with HTTP Digest.

type restClient struct {
	t          *testing.T
	addr, user string
	hc         *http.Client
}

func newRESTClient(t *testing.T, addr, user string) protocolClient {
	return &restClient{t: t, addr: addr, user: user, hc: &http.Client{}}
}

func (c *restClient) close() {}

func (c *restClient) do(op string) error {
	var method, path, body string
	switch op {
	case "read":
		method, path = "GET", "/rest/v2/caches/respCache/k"
	case "write":
		method, path, body = "PUT", "/rest/v2/caches/respCache/k", "x"
	case "bulk-read":
		method, path = "GET", "/rest/v2/caches/respCache?action=keys"
	case "bulk-write":
		method, path = "POST", "/rest/v2/caches/respCache?action=clear"
	case "create":
		method, path = "POST", "/rest/v2/caches/rest-"+fmt.Sprint(time.Now().UnixNano())+"?template=org.infinispan.LOCAL"
	case "monitor":
		method, path = "GET", "/rest/v2/caches/respCache?action=stats"
	case "admin":
		method, path = "POST", "/rest/v2/container/backups/b"+fmt.Sprint(time.Now().UnixNano())
	}
	status := c.digest(method, path, body)
	switch {
	case status == 403:
		return fmt.Errorf("403")
	case status >= 400:
		c.t.Errorf("rest %s %s: status %d, want 2xx or 403", method, path, status)
		return fmt.Errorf("%d", status)
	}
	return nil
}

// digest sends a request without credentials, which must get 401, and
// then with HTTP Digest credentials through httpauth's client Transport.
func (c *restClient) digest(method, path, body string) int {
	do := func(hc *http.Client) int {
		req, _ := http.NewRequest(method, "http://"+c.addr+path, strings.NewReader(body))
		if method == "PUT" {
			req.Header.Set("Content-Type", "text/plain")
		}
		resp, err := hc.Do(req)
		if err != nil {
			c.t.Fatal(err)
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		return resp.StatusCode
	}
	if status := do(c.hc); status != 401 {
		c.t.Fatalf("%s %s without credentials: %d, want 401", method, path, status)
	}
	return do(&http.Client{Transport: &httpauth.Transport{User: c.user, Password: c.user + "-pw"}})
}

func discardLogger() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

// TestUserCreatedOnARunningNode checks that a user added to the realm files
// while the node runs (hotgrid user create) can log in without a restart.
func TestUserCreatedOnARunningNode(t *testing.T) {
	root := secureRoot(t)
	n := StartNode(t, Options{ServerRoot: root})
	users, groups := realm.Paths(root, "", "")
	f, err := realm.Open(users, groups)
	if err != nil {
		t.Fatal(err)
	}
	if err := f.Create("late", "late-pw", []string{"observer"}, realm.PasswordOptions{}); err != nil {
		t.Fatal(err)
	}
	if err := f.Save(); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		nc := dialRaw(t, n.Addr().String())
		got := roundTrip(t, nc, "*3\r\n$4\r\nAUTH\r\n$4\r\nlate\r\n$7\r\nlate-pw\r\n")
		nc.Close()
		if got == "+OK\r\n" {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("a user created on the running node cannot log in: %q", got)
		}
		time.Sleep(300 * time.Millisecond)
	}
}
