package hotrod

import (
	"context"
	"io"
	"net"
	"testing"

	"github.com/hotgrid/hotgrid/hotrod/wire"
)

// benchConn serves one connection in memory: reads return the same batch of
// requests b.N/batch times, writes are counted.
type benchConn struct {
	chunkConn
	batch []byte
	left  int
}

func (c *benchConn) Read(p []byte) (int, error) {
	if len(c.data) == 0 {
		if c.left == 0 {
			return 0, io.EOF
		}
		c.left--
		c.data = c.batch
	}
	n := copy(p, c.data)
	c.data = c.data[n:]
	return n, nil
}

func benchRequests(op byte, n int) []byte {
	var b []byte
	for i := 0; i < n; i++ {
		b = append(b, wire.RequestMagic)
		b = wire.AppendVLong(b, int64(i+1))
		b = append(b, 0x28, op, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00)
		b = wire.AppendBytes(b, []byte("key-000000000001"))
		if op == wire.OpPut {
			b = append(b, 0x77)
			b = wire.AppendBytes(b, make([]byte, 100))
		}
	}
	return b
}

func benchServe(b *testing.B, op byte) {
	s := fuzzServer()
	const batch = 16
	// Seed the key so gets hit.
	s.ServeConn(context.Background(), &chunkConn{data: benchRequests(wire.OpPut, 1), chunk: 1 << 20}, nil)
	c := &benchConn{batch: benchRequests(op, batch), left: b.N / batch}
	c.chunk = 1 << 20
	b.ReportAllocs()
	b.ResetTimer()
	s.ServeConn(context.Background(), c, nil)
}

// BenchmarkServeGet measures the server side of pipelined gets (16 per
// read) without the network: parse, cache lookup, encode.
func BenchmarkServeGet(b *testing.B) { benchServe(b, wire.OpGet) }

// BenchmarkServePut is the same for puts of 100-byte values.
func BenchmarkServePut(b *testing.B) { benchServe(b, wire.OpPut) }

var _ net.Conn = (*benchConn)(nil)
