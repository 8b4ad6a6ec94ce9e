package memcached

import (
	"context"
	"encoding/binary"
	"strings"
	"testing"
	"time"

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
	return NewServer(Options{Manager: m, MaxItemSize: 4096, Guard: g})
}

func serveAll(t *testing.T, s *Server, input []byte, chunk int) string {
	c := &chunkConn{data: input, chunk: chunk}
	done := make(chan struct{})
	go func() {
		defer close(done)
		s.ServeConn(context.Background(), c, nil)
	}()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		t.Fatalf("connection did not finish on %q", input)
	}
	return c.out.String()
}

// sasl encodes a binary request of op with key and value only.
func sasl(op byte, key, value string) []byte {
	return binReqBytes(op, []byte(key), nil, []byte(value), 0)
}

// TestTextAndBinaryAuthentication checks both memcached authentications
// and the replies before and after them.
func TestTextAndBinaryAuthentication(t *testing.T) {
	s := guardedServer(t)
	for _, tc := range []struct{ in, want string }{
		{"get k\r\n", "CLIENT_ERROR unauthenticated\r\n"},
		{"set a 0 0 11\r\nadmin wrong\r\nget k\r\n", "CLIENT_ERROR authentication failed\r\nCLIENT_ERROR unauthenticated\r\n"},
		{"set a 0 0 20\r\nobserver observer-pw\r\nget k\r\nset k 0 0 1\r\nv\r\n", "STORED\r\nEND\r\nCLIENT_ERROR ISPN000287"},
		{"set a 0 0 26\r\napplication application-pw\r\nset k 0 0 1\r\nv\r\nget k\r\n", "STORED\r\nSTORED\r\nVALUE k 0 1\r\nv\r\nEND\r\n"},
	} {
		if got := serveAll(t, s, []byte(tc.in), 3); !strings.Contains(got, tc.want) {
			t.Errorf("%q:\n got %q\nwant %q in it", tc.in, got, tc.want)
		}
	}
	// Binary: a GET before SASL is refused (0x20), SASL PLAIN as observer
	// succeeds, a GET is served and a SET refused with 0x20.
	in := sasl(opcGet, "k", "")
	in = append(in, sasl(opcSASLList, "", "")...)
	in = append(in, sasl(opcSASLAuth, "PLAIN", "\x00observer\x00observer-pw")...)
	in = append(in, sasl(opcGet, "k", "")...)
	in = append(in, binReqBytes(opcSet, []byte("k"), make([]byte, 8), []byte("x"), 0)...)
	out := []byte(serveAll(t, s, in, 5))
	var statuses []uint16
	for len(out) >= 24 {
		statuses = append(statuses, binary.BigEndian.Uint16(out[6:]))
		out = out[24+int(binary.BigEndian.Uint32(out[8:])):]
	}
	want := []uint16{stAuthError, stOK, stOK, stOK, stAuthError}
	if len(statuses) != len(want) {
		t.Fatalf("statuses %x, want %x", statuses, want)
	}
	for i := range want {
		if statuses[i] != want[i] {
			t.Fatalf("statuses %x, want %x", statuses, want)
		}
	}
}

// FuzzAuth feeds arbitrary input, text and binary, to a connection of a
// node that requires authentication.
func FuzzAuth(f *testing.F) {
	s := guardedServer(f)
	for _, seed := range [][]byte{
		[]byte("set a 0 0 14\r\nadmin admin-pw\r\nset k 0 0 1\r\nx\r\nget k\r\n"),
		[]byte("set a 0 0 5\r\nadmin\r\nflush_all\r\n"),
		[]byte("set a 0 0 99999999\r\n"),
		append(sasl(opcSASLAuth, "PLAIN", "\x00admin\x00admin-pw"), sasl(opcGet, "k", "")...),
		append(sasl(opcSASLAuth, "SCRAM-SHA-256", "n,,n=admin,r=abc"), sasl(opcSASLStep, "SCRAM-SHA-256", "c=biws,r=abc,p=AA")...),
		sasl(opcSASLList, "", ""),
	} {
		f.Add(seed, uint8(1))
		f.Add(seed, uint8(7))
	}
	f.Fuzz(func(t *testing.T, data []byte, chunk uint8) {
		serveAll(t, s, data, int(chunk)%64+1)
	})
}
