package resp

import (
	"bytes"
	"context"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/hotgrid/hotgrid/netloop/looptest"
)

// TestLoopServesPlainTCP checks that plain TCP connections go to the loops,
// that a blocking command moves its connection to a goroutine without
// losing the commands pipelined after it, and that closed connections leave
// the loops.
func TestLoopServesPlainTCP(t *testing.T) {
	looptest.Require(t)
	s, _ := newTestServer(t)
	addr := startServer(t, s)
	a, b := dial(t, addr), dial(t, addr)
	a.do("PING")
	b.do("PING")
	looptest.WaitConns(t, s.loops, 2)

	// BLPOP on an empty list must wait: its connection leaves the loop.
	// The PING pipelined behind it is answered after the pop.
	b.nc.Write(append(encodeCmd("BLPOP", "q", "5"), encodeCmd("PING")...))
	looptest.WaitConns(t, s.loops, 1)
	if got := a.do("RPUSH", "q", "v"); got != ":1\r\n" {
		t.Fatalf("RPUSH: %q", got)
	}
	if got := b.read(); got != "*2\r\n$1\r\nq\r\n$1\r\nv\r\n" {
		t.Fatalf("BLPOP: %q", got)
	}
	if got := b.read(); got != "+PONG\r\n" {
		t.Fatalf("PING after BLPOP: %q", got)
	}
	a.nc.Close()
	looptest.WaitConns(t, s.loops, 0)
}

// TestLoopSlowReader has a client pipeline far more output than a socket
// buffer holds before it reads anything: the loop cannot write it all, hands
// the connection to a goroutine, and every reply arrives whole and in order.
func TestLoopSlowReader(t *testing.T) {
	looptest.Require(t)
	s, _ := newTestServer(t)
	addr := startServer(t, s)
	c := dial(t, addr)
	val := strings.Repeat("x", 256<<10)
	if got := c.do("SET", "big", val); got != "+OK\r\n" {
		t.Fatal(got)
	}
	const n = 64 // 16 MiB of replies
	var req []byte
	for i := range n {
		req = append(req, encodeCmd("GET", "big")...)
		req = append(req, encodeCmd("ECHO", strconv.Itoa(i))...)
	}
	go c.nc.Write(req)
	time.Sleep(200 * time.Millisecond) // let the server fill the socket
	want := "$" + strconv.Itoa(len(val)) + "\r\n" + val + "\r\n"
	for i := range n {
		if got := c.read(); got != want {
			t.Fatalf("reply %d: %d bytes, want %d", i, len(got), len(want))
		}
		if got := c.read(); got != "$"+strconv.Itoa(len(strconv.Itoa(i)))+"\r\n"+strconv.Itoa(i)+"\r\n" {
			t.Fatalf("echo %d: %q", i, got)
		}
	}
}

// TestLoopAuthReturnsToLoop checks that AUTH on a secured node, which runs
// on the connection's goroutine because failures are delayed, gives the
// connection back to the loop afterwards.
func TestLoopAuthReturnsToLoop(t *testing.T) {
	looptest.Require(t)
	s := guardedServer(t)
	addr := startServer(t, s)
	c := dial(t, addr)
	if got := c.do("GET", "k"); !strings.HasPrefix(got, "-NOAUTH") {
		t.Fatalf("GET before AUTH: %q", got)
	}
	looptest.WaitConns(t, s.loops, 1)
	if got := c.do("AUTH", "application", "application-pw"); got != "+OK\r\n" {
		t.Fatalf("AUTH: %q", got)
	}
	looptest.WaitConns(t, s.loops, 1)
	if got := c.do("SET", "k", "v"); got != "+OK\r\n" {
		t.Fatalf("SET after AUTH: %q", got)
	}
	if got := c.do("CLIENT", "INFO"); !strings.Contains(got, "user=application") {
		t.Fatalf("CLIENT INFO: %q", got)
	}
}

// TestLoopClientKill closes a loop connection from another connection.
func TestLoopClientKill(t *testing.T) {
	looptest.Require(t)
	s, _ := newTestServer(t)
	addr := startServer(t, s)
	victim, killer := dial(t, addr), dial(t, addr)
	victim.do("CLIENT", "SETNAME", "victim")
	info := victim.do("CLIENT", "INFO")
	i := strings.Index(info, "id=")
	id := strings.Fields(info[i+3:])[0]
	if got := killer.do("CLIENT", "KILL", "ID", id); got != ":1\r\n" {
		t.Fatalf("CLIENT KILL: %q", got)
	}
	victim.nc.SetReadDeadline(time.Now().Add(2 * time.Second))
	if _, err := victim.r.ReadByte(); err == nil {
		t.Fatal("killed connection still open")
	}
	looptest.WaitConns(t, s.loops, 1)
}

// TestLoopShutdownAnswersPipelined checks that Shutdown lets a loop
// connection answer the complete commands it holds before closing it.
func TestLoopShutdownAnswersPipelined(t *testing.T) {
	looptest.Require(t)
	s, _ := newTestServer(t)
	addr := startServer(t, s)
	c := dial(t, addr)
	c.do("PING")
	var req []byte
	for i := range 100 {
		req = append(req, encodeCmd("SET", "k"+strconv.Itoa(i), "v")...)
	}
	c.nc.Write(req)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := s.Shutdown(ctx); err != nil {
		t.Fatalf("Shutdown: %v", err)
	}
	c.nc.SetReadDeadline(time.Now().Add(2 * time.Second))
	got, _ := readAll(c)
	if n := bytes.Count(got, []byte("+OK\r\n")); n != 100 {
		t.Fatalf("%d of 100 replies before close", n)
	}
	if s.loops.Len() != 0 {
		t.Fatalf("%d connections left on the loops", s.loops.Len())
	}
}

func readAll(c *client) ([]byte, error) {
	var out []byte
	buf := make([]byte, 4096)
	for {
		n, err := c.r.Read(buf)
		out = append(out, buf[:n]...)
		if err != nil {
			return out, err
		}
	}
}

// TestLoopsDisabled serves from goroutines only.
func TestLoopsDisabled(t *testing.T) {
	s, m := newTestServer(t)
	s2 := NewServer(Options{Manager: m, EventLoops: -1})
	addr := startServer(t, s2)
	c := dial(t, addr)
	if got := c.do("SET", "k", "v"); got != "+OK\r\n" {
		t.Fatal(got)
	}
	if s2.loops.Len() != 0 || s.loops.Len() != 0 || s2.loops.Next() != nil {
		t.Fatal("loops created although disabled")
	}
}
