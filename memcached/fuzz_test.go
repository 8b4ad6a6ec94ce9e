package memcached

import (
	"bytes"
	"context"
	"io"
	"net"
	"sync"
	"testing"
	"time"

	"github.com/hotgrid/hotgrid/cache"
	"github.com/hotgrid/hotgrid/config"
	"github.com/hotgrid/hotgrid/security/authz"
)

// chunkConn is a net.Conn whose reads return its input in chunks of a
// fixed size, so the parsers see requests split at every possible point.
type chunkConn struct {
	data  []byte
	chunk int
	out   bytes.Buffer
}

func (c *chunkConn) Read(p []byte) (int, error) {
	if len(c.data) == 0 {
		return 0, io.EOF
	}
	n := min(len(p), c.chunk, len(c.data))
	copy(p, c.data[:n])
	c.data = c.data[n:]
	return n, nil
}

func (c *chunkConn) Write(p []byte) (int, error) { return c.out.Write(p) }
func (c *chunkConn) Close() error                { return nil }
func (c *chunkConn) LocalAddr() net.Addr {
	return &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 11222}
}
func (c *chunkConn) RemoteAddr() net.Addr {
	return &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 40000}
}
func (c *chunkConn) SetDeadline(t time.Time) error      { return nil }
func (c *chunkConn) SetReadDeadline(t time.Time) error  { return nil }
func (c *chunkConn) SetWriteDeadline(t time.Time) error { return nil }

// fuzzServer is shared by fuzz iterations; its cache is bounded so that
// the fuzzer cannot grow memory without limit.
var fuzzServer = sync.OnceValue(func() *Server {
	m, err := boundedManager(nil)
	if err != nil {
		panic(err)
	}
	return NewServer(Options{Manager: m, MaxItemSize: 4096})
})

// boundedManager returns a manager whose memcached cache holds at most 256
// entries, authorized by p if it is not nil.
func boundedManager(p *authz.Policy) (*cache.Manager, error) {
	c := config.NewCache(DefaultCache, config.ModeLocal)
	c.Expiration.Interval = 0
	c.Memory.MaxCount = 256
	c.Memory.WhenFull = config.WhenFullRemove
	return cache.NewManager(cache.ManagerOptions{Container: &config.Container{Name: "default", Caches: []*config.Cache{c}},
		Authorization: p})
}

// fuzzServe feeds data to a connection in chunks; it must answer or close,
// never panic or hang.
func fuzzServe(t *testing.T, data []byte, chunk uint8) {
	c := &chunkConn{data: data, chunk: int(chunk)%64 + 1}
	done := make(chan struct{})
	go func() {
		defer close(done)
		fuzzServer().ServeConn(context.Background(), c, nil)
	}()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		t.Fatalf("connection did not finish on %q", data)
	}
}

func FuzzText(f *testing.F) {
	seeds := []string{
		"set a 5 0 2\r\nhi\r\nget a b\r\ngets a\r\n",
		"add k 0 0 1 noreply\r\nx\r\nappend k 0 0 1\r\ny\r\nprepend k 0 0 1\r\nz\r\ncas k 0 0 1 1\r\nq\r\n",
		"set n 0 0 2\r\n10\r\nincr n 5\r\ndecr n 100\r\ntouch n 10\r\ngat 10 n\r\ngats 0 n\r\ndelete n\r\n",
		"flush_all 0\r\nversion\r\nverbosity 1\r\nstats\r\nstats items\r\nstats settings\r\nstats reset\r\n",
		"mg a v c f k t s O1 q\r\nms a 2 T0 F7 c k MA\r\nhi\r\nmd a q C5\r\nma a N0 J1 D2 MD v t c\r\nme a\r\nmn\r\n",
		"ms YWJj 1 b k\r\nx\r\nmg YWJj b k v\r\nmg a N30 R5 T10 t v\r\n",
		"set x 0 0 1\r\nab\r\nset x 0 0 -1\r\nset x 0 0 5000\r\n",
		"quit\r\n",
	}
	for _, s := range seeds {
		f.Add([]byte(s), uint8(0))
		f.Add([]byte(s), uint8(6))
		f.Add([]byte(s), uint8(255))
	}
	f.Fuzz(func(t *testing.T, data []byte, chunk uint8) {
		if len(data) > 0 && data[0] == binaryRequestMagic {
			data = data[1:]
		}
		fuzzServe(t, data, chunk)
	})
}

func FuzzBinary(f *testing.F) {
	seeds := [][]byte{
		binReqBytes(opcSet, []byte("k"), append(u32(7), u32(0)...), []byte("v"), 0),
		binReqBytes(opcGetK, []byte("k"), nil, nil, 0),
		binReqBytes(opcGATKQ, []byte("k"), u32(10), nil, 0),
		binReqBytes(opcIncrement, []byte("n"), make([]byte, 20), nil, 0),
		binReqBytes(opcAppendQ, []byte("k"), nil, []byte("x"), 1),
		binReqBytes(opcStat, nil, nil, nil, 0),
		binReqBytes(opcFlush, nil, u32(0), nil, 0),
		binReqBytes(opcConfigGet, []byte("cluster"), nil, nil, 0),
		binReqBytes(opcSet, []byte("big"), make([]byte, 8), make([]byte, 5000), 0),
	}
	for _, s := range seeds {
		f.Add(s, uint8(0))
		f.Add(append(append([]byte{}, s...), binReqBytes(opcNoop, nil, nil, nil, 0)...), uint8(4))
		f.Add(s, uint8(255))
	}
	f.Fuzz(func(t *testing.T, data []byte, chunk uint8) {
		fuzzServe(t, append([]byte{binaryRequestMagic}, data...), chunk)
	})
}

func FuzzDetect(f *testing.F) {
	for _, s := range []string{"get k\r\n", "GET / HTTP/1.1\r\n", "set k 0 0 1\r\n", "\x80", "ms k 2\r\n"} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		m, more := Detect(data)
		if m && more {
			t.Fatalf("match and needMore on %q", data)
		}
	})
}
