package hotrod

import (
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
// fixed size, so the decoder sees frames split at every possible point.
type chunkConn struct {
	data  []byte
	chunk int
	out   int
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

func (c *chunkConn) Write(p []byte) (int, error) { c.out += len(p); return len(p), nil }
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

var fuzzServer = sync.OnceValue(func() *Server {
	c := config.NewCache("c", config.ModeDistributed)
	c.KeyMediaType, c.ValueMediaType = "text/plain", "text/plain"
	c.Expiration.Interval = 0
	m, err := boundedManager(nil, c)
	if err != nil {
		panic(err)
	}
	return NewServer(Options{Manager: m, MaxRequestSize: 1 << 16})
})

// boundedManager returns a manager whose default cache holds at most 64
// entries, with the extra caches, authorized by p if it is not nil.
func boundedManager(p *authz.Policy, extra ...*config.Cache) (*cache.Manager, error) {
	l := config.NewCache("default", config.ModeLocal)
	l.Expiration.Interval = 0
	l.Memory.MaxCount = 64
	l.Memory.WhenFull = config.WhenFullRemove
	return cache.NewManager(cache.ManagerOptions{Container: &config.Container{
		Name: "default", DefaultCache: "default", Caches: append(extra, l),
	}, Authorization: p})
}

// FuzzServeConn feeds arbitrary bytes, split into arbitrary chunk sizes, to
// a connection: the server must answer or close, never panic or hang.
func FuzzServeConn(f *testing.F) {
	seeds := []string{
		"A0 05 28 01 01 63 00 03 00 01 0D 00 01 0D 00 00 01 6B 77 01 76",                // put
		"A0 06 28 03 01 63 00 01 00 01 0D 00 01 0D 00 00 01 6B",                         // get
		"A0 07 28 17 00 00 03 FF FF FF FF 0F 00 00 00",                                  // ping, topology -1
		"A0 08 1E 2D 00 00 01 00 01 0D 00 01 0D 00 77 02 01 61 01 62 01 63 01 64",       // putAll 3.0
		"A0 09 28 31 00 00 01 00 00 00 00 01 00 02 01",                                  // iteration start
		"A0 0A 28 25 00 00 01 00 00 00 00 02 69 64 01 00 00 00 0F",                      // add listener
		"A0 0B 28 2B 00 00 01 00 00 00 00 0D 40 40 63 61 63 68 65 40 6E 61 6D 65 73 00", // exec @@cache@names
		"A0 0C 16 09 01 63 00 01 00 01 6B 10 05 00 00 00 00 00 00 00 01 01 76",          // replaceIfUnmodified 2.2
	}
	for _, s := range seeds {
		f.Add(unhex(s), uint8(1))
		f.Add(unhex(s), uint8(7))
		f.Add(append(unhex(s), unhex(s)...), uint8(255))
	}
	f.Fuzz(func(t *testing.T, data []byte, chunk uint8) {
		s := fuzzServer()
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		s.ServeConn(ctx, &chunkConn{data: data, chunk: int(chunk) + 1}, nil)
	})
}
