package hotrod

import (
	"bytes"
	"io"
	"net"
	"testing"
	"time"

	"github.com/hotgrid/hotgrid/hotrod/wire"
	"github.com/hotgrid/hotgrid/netloop/looptest"
)

func putReq(id byte, key, value []byte) []byte {
	body := append(wire.AppendBytes(nil, key), 0x77) // lifespan and max-idle: server defaults
	return rawRequest(id, wire.OpPut, append(body, wire.AppendBytes(nil, value)...))
}

func getReq(id byte, key []byte) []byte {
	return rawRequest(id, wire.OpGet, wire.AppendBytes(nil, key))
}

// readResponse reads one response header for a request with the given id
// and returns its opcode and status; the body is left unread.
func readResponse(t *testing.T, nc net.Conn, id byte) (op, status byte) {
	t.Helper()
	h := readN(t, nc, 5) // magic, msgID (one byte), op, status, no topology
	if h[0] != wire.ResponseMagic || h[1] != id || h[4] != 0 {
		t.Fatalf("response header % x for request %d", h, id)
	}
	return h[2], h[3]
}

// TestLoopServesPlainTCP: a plain TCP connection is served by a loop, with
// pipelined requests answered in order.
func TestLoopServesPlainTCP(t *testing.T) {
	looptest.Require(t)
	s, addr := startServer(t)
	nc := dial(t, addr)
	in := append(putReq(1, []byte("k"), []byte("value")), getReq(2, []byte("k"))...)
	if _, err := nc.Write(in); err != nil {
		t.Fatal(err)
	}
	if op, st := readResponse(t, nc, 1); op != wire.OpPut+1 || st != wire.StatusSuccess {
		t.Fatalf("put: op %#x status %#x", op, st)
	}
	if op, st := readResponse(t, nc, 2); op != wire.OpGet+1 || st != wire.StatusSuccess {
		t.Fatalf("get: op %#x status %#x", op, st)
	}
	if v := readN(t, nc, 6); !bytes.Equal(v, wire.AppendBytes(nil, []byte("value"))) {
		t.Fatalf("get value % x", v)
	}
	looptest.WaitConns(t, s.loops, 1)
}

// TestLoopAuthReturnsToLoop: AUTH runs on the connection's goroutine
// (failures are delayed), then the connection goes back to its loop.
func TestLoopAuthReturnsToLoop(t *testing.T) {
	looptest.Require(t)
	s := guardedServer(t)
	addr := listen(t, s)
	nc := dial(t, addr)
	nc.Write(getReq(1, []byte("k")))
	if _, st := readResponse(t, nc, 1); st != wire.StatusServerError {
		t.Fatalf("get before auth: status %#x", st)
	}
	io.ReadFull(nc, make([]byte, 1+len("ISPN006017: Operation 'GET' requires authentication")))
	looptest.WaitConns(t, s.loops, 1)
	nc.Write(authReq(2, "PLAIN", "\x00observer\x00observer-pw"))
	if _, st := readResponse(t, nc, 2); st != wire.StatusSuccess {
		t.Fatalf("auth: status %#x", st)
	}
	readN(t, nc, 2) // completed, empty challenge
	looptest.WaitConns(t, s.loops, 1)
	nc.Write(getReq(3, []byte("k")))
	if op, st := readResponse(t, nc, 3); op != wire.OpGet+1 || st != wire.StatusKeyDoesNotExist {
		t.Fatalf("get after auth: op %#x status %#x", op, st)
	}
}

// TestLoopListenerLeavesLoop: a connection that registers a listener
// leaves the loop for good (its events are written from other goroutines)
// and receives the events of writes made on another connection.
func TestLoopListenerLeavesLoop(t *testing.T) {
	looptest.Require(t)
	s, addr := startServer(t)
	lis, writer := dial(t, addr), dial(t, addr)
	writer.Write(getReq(1, []byte("absent"))) // a response with no body
	readResponse(t, writer, 1)
	looptest.WaitConns(t, s.loops, 2)
	body := wire.AppendBytes(nil, []byte("L1")) // listener id
	body = append(body, 0, 0, 0, 0, 0)          // no state, filter, converter; not raw; all interests
	lis.Write(rawRequest(2, wire.OpAddClientListener, body))
	if op, st := readResponse(t, lis, 2); op != wire.OpAddClientListener+1 || st != wire.StatusSuccess {
		t.Fatalf("add listener: op %#x status %#x", op, st)
	}
	looptest.WaitConns(t, s.loops, 1) // the writer only
	writer.Write(putReq(3, []byte("evkey"), []byte("v")))
	readResponse(t, writer, 3)
	var got []byte
	buf := make([]byte, 256)
	for !bytes.Contains(got, []byte("evkey")) {
		n, err := lis.Read(buf)
		if err != nil {
			t.Fatalf("no created event (read %q): %v", got, err)
		}
		got = append(got, buf[:n]...)
	}
	if got[0] != wire.ResponseMagic || !bytes.Contains(got, []byte("L1")) {
		t.Fatalf("event % x", got)
	}
}

// TestLoopSlowReader: responses larger than the socket buffer, to a client
// that reads late, move the connection to its goroutine and arrive whole
// and in order.
func TestLoopSlowReader(t *testing.T) {
	looptest.Require(t)
	_, addr := startServer(t)
	nc := dial(t, addr)
	val := bytes.Repeat([]byte("v"), 512<<10)
	nc.Write(putReq(1, []byte("big"), val))
	readResponse(t, nc, 1)
	const n = 32 // 16 MiB of responses
	var in []byte
	for i := range n {
		in = append(in, getReq(byte(10+i), []byte("big"))...)
	}
	go nc.Write(in)
	time.Sleep(200 * time.Millisecond) // let the server fill the socket
	want := wire.AppendBytes(nil, val)
	for i := range n {
		if op, st := readResponse(t, nc, byte(10+i)); op != wire.OpGet+1 || st != wire.StatusSuccess {
			t.Fatalf("get %d: op %#x status %#x", i, op, st)
		}
		if got := readN(t, nc, len(want)); !bytes.Equal(got, want) {
			t.Fatalf("get %d: value differs", i)
		}
	}
}
