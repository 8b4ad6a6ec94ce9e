package hotrod

import (
	"bytes"
	"context"
	"testing"
	"time"

	"github.com/hotgrid/hotgrid/hotrod/wire"
	"github.com/hotgrid/hotgrid/security/securitytest"
)

// guardedServer serves a secured manager (default roles) behind a guard.
func guardedServer(tb testing.TB) *Server {
	g := securitytest.Guard(tb)
	m, err := boundedManager(g.Policy())
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(m.Close)
	return NewServer(Options{Manager: m, MaxRequestSize: 1 << 16, Guard: g})
}

// request encodes a Hot Rod 4.0 request to the default cache with body.
func rawRequest(id byte, op byte, body []byte) []byte {
	b := []byte{wire.RequestMagic, id, wire.Version40, op, 0, 0, 1, 0, 0, 0, 0} // no media types, no other params
	return append(b, body...)
}

func authReq(id byte, mech, resp string) []byte {
	body := wire.AppendString(nil, mech)
	return rawRequest(id, wire.OpAuth, wire.AppendBytes(body, []byte(resp)))
}

// TestAuthBeforeOperations drives AUTH with PLAIN as an observer: before
// it a GET is refused with ISPN006017, after it the GET is served and a PUT
// is refused with ISPN000287.
func TestAuthBeforeOperations(t *testing.T) {
	s := guardedServer(t)
	get := rawRequest(2, wire.OpGet, wire.AppendBytes(nil, []byte("k")))
	put := rawRequest(5, wire.OpPut, append(append(wire.AppendBytes(nil, []byte("k")), 0x77), wire.AppendBytes(nil, []byte("v"))...))
	var in []byte
	in = append(in, rawRequest(1, wire.OpAuthMechList, nil)...)
	in = append(in, get...)
	in = append(in, authReq(3, "PLAIN", "\x00observer\x00observer-pw")...)
	in = append(in, rawRequest(4, wire.OpGet, wire.AppendBytes(nil, []byte("k")))...)
	in = append(in, put...)
	c := &recordConn{chunkConn: chunkConn{data: in, chunk: 1 << 20}}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := s.ServeConn(ctx, c, nil); err != nil {
		t.Logf("serve: %v", err)
	}
	out := c.buf.Bytes()
	for _, want := range []string{"PLAIN", "ISPN006017: Operation 'GET' requires authentication", "ISPN000287"} {
		if !bytes.Contains(out, []byte(want)) {
			t.Fatalf("response lacks %q:\n%q", want, out)
		}
	}
	if bytes.Count(out, []byte("ISPN0")) != 2 {
		t.Fatalf("want exactly the two errors (before AUTH, the PUT):\n%q", out)
	}
}

// recordConn keeps what the server writes.
type recordConn struct {
	chunkConn
	buf bytes.Buffer
}

func (c *recordConn) Write(p []byte) (int, error) { return c.buf.Write(p) }

// FuzzAuth feeds arbitrary bytes to a connection of a node that requires
// authentication, starting from AUTH exchanges of every mechanism.
func FuzzAuth(f *testing.F) {
	s := guardedServer(f)
	get := rawRequest(9, wire.OpGet, wire.AppendBytes(nil, []byte("k")))
	for _, seed := range [][]byte{
		append(authReq(1, "PLAIN", "\x00admin\x00admin-pw"), get...),
		append(authReq(1, "PLAIN", "admin\x00admin\x00wrong"), get...),
		authReq(1, "SCRAM-SHA-256", "n,,n=admin,r=fyko+d2lbbFgONRv9qkxdawL"),
		append(authReq(1, "SCRAM-SHA-1", "n,,n=admin,r=abc"), authReq(2, "", "c=biws,r=abc,p=AAAA")...),
		append(authReq(1, "DIGEST-MD5", ""), authReq(2, "DIGEST-MD5", `username="admin",realm="default",nonce="x",cnonce="y",nc=00000001,qop=auth,digest-uri="hotrod/infinispan",response=00`)...),
		authReq(1, "EXTERNAL", ""),
		authReq(1, "NOPE", "x"),
		rawRequest(1, wire.OpAuthMechList, nil),
	} {
		f.Add(seed, uint8(0))
		f.Add(seed, uint8(6))
	}
	f.Fuzz(func(t *testing.T, data []byte, chunk uint8) {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		s.ServeConn(ctx, &chunkConn{data: data, chunk: int(chunk) + 1}, nil)
	})
}
