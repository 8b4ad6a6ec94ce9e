package resp

import (
	"context"
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
	return NewServer(Options{Manager: m, MaxRequestSize: 1 << 16, Guard: g})
}

// serveAll runs one connection over input, read in chunks of chunk bytes,
// and returns what it answered.
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

// TestAuthCommands walks the replies Redis clients see on a node that
// requires authentication.
func TestAuthCommands(t *testing.T) {
	s := guardedServer(t)
	for _, tc := range []struct{ in, want string }{
		{"GET k\r\n", "-NOAUTH Authentication required.\r\n"},
		{"HELLO 3\r\n", "-NOAUTH HELLO must be called with the client already authenticated"},
		{"AUTH wrong\r\nGET k\r\n", "-WRONGPASS invalid username-password pair or user is disabled.\r\n-NOAUTH"},
		{"AUTH observer observer-pw\r\nGET k\r\nSET k v\r\n", "+OK\r\n$-1\r\n-NOPERM User observer has no permissions to run the 'set' command"},
		{"HELLO 3 AUTH application application-pw\r\nSET k v\r\nGET k\r\n", "+OK\r\n$1\r\nv\r\n"},
		{"HELLO 2 AUTH nobody nobody-pw\r\nGET k\r\n", "-NOPERM User nobody has no permissions to run the 'get' command"},
		{"AUTH admin admin-pw\r\nSELECT 3\r\nCLIENT INFO\r\n", "user=admin"},
	} {
		if got := serveAll(t, s, []byte(tc.in), 1<<20); !strings.Contains(got, tc.want) {
			t.Errorf("%q:\n got %q\nwant %q in it", tc.in, got, tc.want)
		}
	}
}

// FuzzAuth feeds arbitrary input to a connection of a node that requires
// authentication.
func FuzzAuth(f *testing.F) {
	s := guardedServer(f)
	for _, seed := range []string{
		"AUTH admin admin-pw\r\nSET a 1\r\nGET a\r\n",
		"AUTH observer-pw\r\nGET a\r\n",
		"HELLO 3 AUTH observer observer-pw SETNAME x\r\nSET a 1\r\nKEYS *\r\n",
		"*4\r\n$5\r\nHELLO\r\n$1\r\n3\r\n$4\r\nAUTH\r\n$5\r\nadmin\r\n",
		"*3\r\n$4\r\nAUTH\r\n$5\r\nadmin\r\n$8\r\nadmin-pw\r\nFLUSHALL\r\nSELECT 9\r\n",
		"MULTI\r\nAUTH admin admin-pw\r\nEXEC\r\n",
	} {
		f.Add([]byte(seed), uint8(1))
		f.Add([]byte(seed), uint8(9))
	}
	f.Fuzz(func(t *testing.T, data []byte, chunk uint8) {
		serveAll(t, s, data, int(chunk)%64+1)
	})
}
