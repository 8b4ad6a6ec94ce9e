package memcached

import (
	"context"
	"io"
	"net"
	"testing"
	"time"
)

// loopConn replays the same batch of requests forever and discards the
// replies, so a benchmark measures parsing and execution without sockets.
type loopConn struct {
	batch []byte
	n     int // batches left
}

func (c *loopConn) Read(p []byte) (int, error) {
	if c.n == 0 {
		return 0, io.EOF
	}
	c.n--
	return copy(p, c.batch), nil
}
func (c *loopConn) Write(p []byte) (int, error)        { return len(p), nil }
func (c *loopConn) Close() error                       { return nil }
func (c *loopConn) LocalAddr() net.Addr                { return &net.TCPAddr{} }
func (c *loopConn) RemoteAddr() net.Addr               { return &net.TCPAddr{} }
func (c *loopConn) SetDeadline(t time.Time) error      { return nil }
func (c *loopConn) SetReadDeadline(t time.Time) error  { return nil }
func (c *loopConn) SetWriteDeadline(t time.Time) error { return nil }

// benchBatch runs b.N requests, 16 per read, through one connection.
func benchBatch(b *testing.B, setup, req []byte) {
	s, _ := newTestServer(b)
	if setup != nil {
		s.ServeConn(context.Background(), &loopConn{batch: setup, n: 1}, nil)
	}
	const perBatch = 16
	var batch []byte
	for range perBatch {
		batch = append(batch, req...)
	}
	c := &loopConn{batch: batch, n: b.N/perBatch + 1}
	b.ReportAllocs()
	b.ResetTimer()
	s.ServeConn(context.Background(), c, nil)
}

func BenchmarkTextGet(b *testing.B) {
	benchBatch(b, []byte("set key:000001 0 0 32\r\n01234567890123456789012345678901\r\n"), []byte("get key:000001\r\n"))
}

func BenchmarkTextGetMiss(b *testing.B) {
	benchBatch(b, nil, []byte("get key:000001\r\n"))
}

func BenchmarkTextSet(b *testing.B) {
	benchBatch(b, nil, []byte("set key:000001 0 0 32\r\n01234567890123456789012345678901\r\n"))
}

func BenchmarkMetaGet(b *testing.B) {
	benchBatch(b, []byte("set key:000001 0 0 32\r\n01234567890123456789012345678901\r\n"), []byte("mg key:000001 v f c\r\n"))
}

func BenchmarkBinaryGet(b *testing.B) {
	benchBatch(b, binReqBytes(opcSet, []byte("key:000001"), make([]byte, 8), make([]byte, 32), 0),
		binReqBytes(opcGetK, []byte("key:000001"), nil, nil, 0))
}

func BenchmarkBinarySet(b *testing.B) {
	benchBatch(b, nil, binReqBytes(opcSetQ, []byte("key:000001"), make([]byte, 8), make([]byte, 32), 0))
}
