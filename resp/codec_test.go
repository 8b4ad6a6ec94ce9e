package resp

import (
	"bytes"
	"context"
	"io"
	"math"
	"net"
	"sync"
	"testing"
	"time"

	"github.com/hotgrid/hotgrid/cache"
	"github.com/hotgrid/hotgrid/config"
	"github.com/hotgrid/hotgrid/security/authz"
)

func TestParserGolden(t *testing.T) {
	for _, tc := range []struct {
		in   string
		n    int
		args []string
		err  string
	}{
		{"*2\r\n$3\r\nGET\r\n$1\r\nk\r\n", 20, []string{"GET", "k"}, ""},
		{"*2\r\n$3\r\nGET\r\n$1\r\nk\r\nextra", 20, []string{"GET", "k"}, ""},
		{"*2\r\n$3\r\nGET\r\n$1\r\nk\r", 0, nil, ""},
		{"*2\r\n$3\r\nGET", 0, nil, ""},
		{"*0\r\n", 4, nil, ""},
		{"*-1\r\n", 5, nil, ""},
		{"*1\r\n$0\r\n\r\n", 10, []string{""}, ""},
		{"PING\r\n", 6, []string{"PING"}, ""},
		{"  set  a   'it''s'\n", 0, nil, "ERR Protocol error: unbalanced quotes in request"},
		{"set a 'it\\'s' \"\\x41\\t\"\n", 23, []string{"set", "a", "it's", "A\t"}, ""},
		{"\r\n", 2, nil, ""},
		{"*1\r\n:1\r\n", 0, nil, "ERR Protocol error: expected '$', got ':'"},
		{"*abc\r\n", 0, nil, "ERR Protocol error: invalid multibulk length"},
		{"*1\r\n$x\r\n", 0, nil, "ERR Protocol error: invalid bulk length"},
	} {
		p := parser{maxBulk: 1 << 20}
		n, args, err := p.parse([]byte(tc.in))
		if tc.err != "" {
			if err == nil || err.Error() != tc.err {
				t.Errorf("%q: err %v, want %q", tc.in, err, tc.err)
			}
			continue
		}
		if err != nil || n != tc.n || len(args) != len(tc.args) {
			t.Errorf("%q: n=%d args=%q err=%v; want n=%d args=%q", tc.in, n, args, err, tc.n, tc.args)
			continue
		}
		for i := range args {
			if string(args[i]) != tc.args[i] {
				t.Errorf("%q: arg %d = %q, want %q", tc.in, i, args[i], tc.args[i])
			}
		}
	}
}

// TestParserResume feeds a command one byte at a time to the same parser.
func TestParserResume(t *testing.T) {
	in := []byte("*3\r\n$3\r\nSET\r\n$3\r\nkey\r\n$5\r\nvalue\r\n")
	p := parser{maxBulk: 1 << 20}
	for i := 1; i < len(in); i++ {
		if n, _, err := p.parse(in[:i]); n != 0 || err != nil {
			t.Fatalf("prefix %d: n=%d err=%v", i, n, err)
		}
	}
	n, args, err := p.parse(in)
	if n != len(in) || err != nil || len(args) != 3 || string(args[2]) != "value" {
		t.Fatalf("complete: n=%d args=%q err=%v", n, args, err)
	}
}

func TestWriterGolden(t *testing.T) {
	for _, tc := range []struct {
		f      func(w *writer)
		r2, r3 string
	}{
		{func(w *writer) { w.ok() }, "+OK\r\n", "+OK\r\n"},
		{func(w *writer) { w.err("ERR x") }, "-ERR x\r\n", "-ERR x\r\n"},
		{func(w *writer) { w.int(-7) }, ":-7\r\n", ":-7\r\n"},
		{func(w *writer) { w.bulk([]byte("ab")) }, "$2\r\nab\r\n", "$2\r\nab\r\n"},
		{func(w *writer) { w.null() }, "$-1\r\n", "_\r\n"},
		{func(w *writer) { w.nullArray() }, "*-1\r\n", "_\r\n"},
		{func(w *writer) { w.mapLen(2) }, "*4\r\n", "%2\r\n"},
		{func(w *writer) { w.set(3) }, "*3\r\n", "~3\r\n"},
		{func(w *writer) { w.push(3) }, "*3\r\n", ">3\r\n"},
		{func(w *writer) { w.double(1.5) }, "$3\r\n1.5\r\n", ",1.5\r\n"},
		{func(w *writer) { w.double(3) }, "$1\r\n3\r\n", ",3\r\n"},
		{func(w *writer) { w.double(math.Inf(-1)) }, "$4\r\n-inf\r\n", ",-inf\r\n"},
		{func(w *writer) { w.double(1e21) }, "$5\r\n1e+21\r\n", ",1e+21\r\n"},
		{func(w *writer) { w.verbatim([]byte("hi")) }, "$2\r\nhi\r\n", "=6\r\ntxt:hi\r\n"},
	} {
		for _, proto := range []int{2, 3} {
			w := writer{proto: proto}
			tc.f(&w)
			want := tc.r2
			if proto == 3 {
				want = tc.r3
			}
			if string(w.b) != want {
				t.Errorf("RESP%d: got %q want %q", proto, w.b, want)
			}
		}
	}
}

func TestEncodings(t *testing.T) {
	items := [][]byte{[]byte("a"), {}, bytes.Repeat([]byte("x"), 300)}
	enc := encodeItems(nil, items)
	dec, ok := decodeItems(enc, nil)
	if !ok || len(dec) != 3 || !bytes.Equal(dec[2], items[2]) {
		t.Fatalf("items round trip: %v %q", ok, dec)
	}
	if got := pushed(nil, enc, [][]byte{[]byte("1"), []byte("2")}, true); !bytes.Equal(got, encodeItems(nil, [][]byte{[]byte("2"), []byte("1"), items[0], items[1], items[2]})) {
		t.Errorf("left push: %q", got)
	}
	z := []zitem{{-1, []byte("a")}, {2.5, []byte("b")}}
	zd, ok := decodeZSet(encodeZSet(nil, z), nil)
	if !ok || len(zd) != 2 || zd[1].score != 2.5 || string(zd[1].member) != "b" {
		t.Fatalf("zset round trip: %v %v", ok, zd)
	}
	if _, ok := decodeItems([]byte{5, 1}, nil); ok {
		t.Error("corrupt encoding decoded")
	}
}

func TestGlob(t *testing.T) {
	for _, tc := range []struct {
		pat, s string
		want   bool
	}{
		{"*", "", true}, {"h?llo", "hello", true}, {"h*llo", "heeello", true},
		{"h[ae]llo", "hallo", true}, {"h[^e]llo", "hello", false}, {"h[a-b]llo", "hbllo", true},
		{"h\\*", "h*", true}, {"h\\*", "hx", false}, {"user:*", "user:1", true}, {"a*b", "acd", false},
	} {
		if got := globMatch([]byte(tc.pat), []byte(tc.s), false); got != tc.want {
			t.Errorf("glob %q %q = %v", tc.pat, tc.s, got)
		}
	}
}

// chunkConn is a net.Conn whose reads return its input in chunks of a
// fixed size, so the parser sees commands split at every possible point.
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
	return NewServer(Options{Manager: m, MaxRequestSize: 1 << 16})
})

// boundedManager returns a manager whose database 0 holds at most 256
// entries, authorized by p if it is not nil.
func boundedManager(p *authz.Policy) (*cache.Manager, error) {
	c := config.NewCache(DefaultCache, config.ModeLocal)
	c.Expiration.Interval = 0
	c.Memory.MaxCount = 256
	c.Memory.WhenFull = config.WhenFullRemove
	c.Aliases = []string{"0"}
	return cache.NewManager(cache.ManagerOptions{Container: &config.Container{Name: "default", Caches: []*config.Cache{c}},
		Authorization: p})
}

func FuzzServeConn(f *testing.F) {
	for _, s := range []string{
		"*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$1\r\nv\r\n*2\r\n$3\r\nGET\r\n$1\r\nk\r\n",
		"PING\r\nECHO hi\r\nSET a 1 EX 10\r\nINCR a\r\nTTL a\r\nGETEX a PERSIST\r\n",
		"HELLO 3\r\nHSET h a 1 b 2\r\nHGETALL h\r\nHINCRBYFLOAT h a 1.5\r\nHRANDFIELD h -3 WITHVALUES\r\n",
		"RPUSH l a b c\r\nLPOP l 2\r\nLINSERT l BEFORE c x\r\nLRANGE l 0 -1\r\nLPOS l x RANK -1\r\nBLPOP l 0.01\r\n",
		"SADD s a b\r\nSINTERSTORE d s s\r\nSPOP s 5\r\nSMOVE d s a\r\n",
		"ZADD z 1 a 2 b\r\nZRANGE z (1 +inf BYSCORE WITHSCORES\r\nZRANGEBYLEX z - +\r\nZUNIONSTORE u 2 z z WEIGHTS 1 2\r\nZPOPMAX z 3\r\n",
		"MULTI\r\nSET x 1\r\nINCR x\r\nEXEC\r\nWATCH x\r\nMULTI\r\nDISCARD\r\n",
		"SUBSCRIBE c\r\nPSUBSCRIBE *\r\nPING\r\nUNSUBSCRIBE\r\nPUNSUBSCRIBE\r\nPUBLISH c m\r\n",
		"KEYS *\r\nSCAN 0 MATCH * COUNT 5 TYPE string\r\nINFO\r\nCLIENT LIST\r\nCOMMAND INFO get\r\nCONFIG GET *\r\n",
		"*1\r\n$-1\r\n", "*x\r\n", "SET \"a\\x4\r\n", "*2\r\n$3\r\nGET\r\n$70000\r\n",
	} {
		f.Add([]byte(s), uint8(1))
		f.Add([]byte(s), uint8(7))
	}
	f.Fuzz(func(t *testing.T, data []byte, chunk uint8) {
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
	})
}

// discardConn accepts writes and never has input: the benchmark drives
// the connection's parser directly.
type discardConn struct{ chunkConn }

func (discardConn) Write(p []byte) (int, error) { return len(p), nil }

// benchConn returns a connection whose read buffer holds n copies of req.
func benchConn(b *testing.B, req []byte, n int) (*conn, []byte) {
	m, err := cache.NewManager(cache.ManagerOptions{Container: &config.Container{Name: "default"}})
	if err != nil {
		b.Fatal(err)
	}
	s := NewServer(Options{Manager: m})
	c := newConn(s, &discardConn{}, nil)
	batch := bytes.Repeat(req, n)
	c.rbuf = make([]byte, len(batch))
	return c, batch
}

// benchPipeline parses and executes batches of 64 pipelined commands, as a
// connection does between two reads, and counts per command.
func benchPipeline(b *testing.B, req []byte) {
	const depth = 64
	c, batch := benchConn(b, req, depth)
	ctx := context.Background()
	// Warm up (creates the key for GET).
	c.execute(ctx, [][]byte{[]byte("SET"), []byte("key:000000000001"), bytes.Repeat([]byte("x"), 32)})
	c.unlockShared()
	c.out.b = c.out.b[:0]
	b.ReportAllocs()
	b.SetBytes(int64(len(req)))
	b.ResetTimer()
	for i := 0; i < b.N; i += depth {
		copy(c.rbuf, batch)
		c.r, c.w = 0, len(batch)
		if err := c.processBuffered(ctx); err != nil {
			b.Fatal(err)
		}
		c.flush()
	}
}

func BenchmarkPipelineGET(b *testing.B) {
	benchPipeline(b, encodeCmd("GET", "key:000000000001"))
}

func BenchmarkPipelineSET(b *testing.B) {
	benchPipeline(b, encodeCmd("SET", "key:000000000001", string(bytes.Repeat([]byte("x"), 32))))
}

func BenchmarkPipelineINCR(b *testing.B) {
	benchPipeline(b, encodeCmd("INCR", "counter"))
}
