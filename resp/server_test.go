package resp

import (
	"bufio"
	"context"
	"fmt"
	"net"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hotgrid/hotgrid/cache"
	"github.com/hotgrid/hotgrid/config"
)

func newTestServer(t testing.TB) (*Server, *cache.Manager) {
	t.Helper()
	m, err := cache.NewManager(cache.ManagerOptions{Container: &config.Container{Name: "default"}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(m.Close)
	return NewServer(Options{Manager: m}), m
}

// startServer serves s on a loopback listener until the test ends.
func startServer(t testing.TB, s *Server) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			nc, err := ln.Accept()
			if err != nil {
				return
			}
			wg.Add(1)
			go func() {
				defer wg.Done()
				s.ServeConn(ctx, nc, nil)
			}()
		}
	}()
	t.Cleanup(func() {
		ln.Close()
		sctx, c := context.WithTimeout(context.Background(), 5*time.Second)
		defer c()
		s.Shutdown(sctx)
		cancel()
		wg.Wait()
	})
	return ln.Addr().String()
}

// client is a raw RESP test client.
type client struct {
	t  testing.TB
	nc net.Conn
	r  *bufio.Reader
}

func dial(t testing.TB, addr string) *client {
	t.Helper()
	nc, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { nc.Close() })
	return &client{t: t, nc: nc, r: bufio.NewReader(nc)}
}

func encodeCmd(args ...string) []byte {
	b := []byte("*" + strconv.Itoa(len(args)) + "\r\n")
	for _, a := range args {
		b = append(b, "$"+strconv.Itoa(len(a))+"\r\n"+a+"\r\n"...)
	}
	return b
}

func (c *client) send(args ...string) {
	c.t.Helper()
	if _, err := c.nc.Write(encodeCmd(args...)); err != nil {
		c.t.Fatal(err)
	}
}

// do sends a command and returns its raw reply.
func (c *client) do(args ...string) string {
	c.t.Helper()
	c.send(args...)
	return c.read()
}

// read returns one raw reply.
func (c *client) read() string {
	c.t.Helper()
	c.nc.SetReadDeadline(time.Now().Add(5 * time.Second))
	var sb strings.Builder
	if err := readReply(c.r, &sb); err != nil {
		c.t.Fatalf("read reply: %v (so far %q)", err, sb.String())
	}
	return sb.String()
}

func readReply(r *bufio.Reader, sb *strings.Builder) error {
	line, err := r.ReadString('\n')
	if err != nil {
		return err
	}
	sb.WriteString(line)
	if len(line) < 3 {
		return fmt.Errorf("short line %q", line)
	}
	body := strings.TrimSuffix(line[1:], "\r\n")
	switch line[0] {
	case '+', '-', ':', '_', ',', '#', '(':
		return nil
	case '$', '=', '!':
		n, _ := strconv.Atoi(body)
		if n < 0 {
			return nil
		}
		buf := make([]byte, n+2)
		if _, err := io_ReadFull(r, buf); err != nil {
			return err
		}
		sb.Write(buf)
		return nil
	case '*', '~', '>':
		n, _ := strconv.Atoi(body)
		for range n {
			if err := readReply(r, sb); err != nil {
				return err
			}
		}
		return nil
	case '%', '|':
		n, _ := strconv.Atoi(body)
		for range 2 * n {
			if err := readReply(r, sb); err != nil {
				return err
			}
		}
		return nil
	}
	return fmt.Errorf("bad type %q", line)
}

func io_ReadFull(r *bufio.Reader, buf []byte) (int, error) {
	n := 0
	for n < len(buf) {
		k, err := r.Read(buf[n:])
		n += k
		if err != nil {
			return n, err
		}
	}
	return n, nil
}

// step is one command and its expected raw reply.
type step struct {
	cmd  []string
	want string
}

func cmd(args ...string) []string { return args }

func runSteps(t *testing.T, c *client, steps []step) {
	t.Helper()
	for _, s := range steps {
		got := c.do(s.cmd...)
		if got != s.want {
			t.Errorf("%q:\n got %q\nwant %q", s.cmd, got, s.want)
		}
	}
}

func TestStringsGolden(t *testing.T) {
	s, _ := newTestServer(t)
	c := dial(t, startServer(t, s))
	runSteps(t, c, []step{
		{cmd("PING"), "+PONG\r\n"},
		{cmd("ping", "hi"), "$2\r\nhi\r\n"},
		{cmd("ECHO", "x"), "$1\r\nx\r\n"},
		{cmd("GET", "k"), "$-1\r\n"},
		{cmd("SET", "k", "v"), "+OK\r\n"},
		{cmd("GET", "k"), "$1\r\nv\r\n"},
		{cmd("SET", "k", "w", "NX"), "$-1\r\n"},
		{cmd("SET", "k", "w", "XX", "GET"), "$1\r\nv\r\n"},
		{cmd("SET", "nokey", "w", "XX"), "$-1\r\n"},
		{cmd("SET", "k", "v", "NX", "XX"), "-ERR syntax error\r\n"},
		{cmd("SET", "k", "v", "EX", "0"), "-ERR invalid expire time in 'set' command\r\n"},
		{cmd("SET", "k", "v", "EX", "x"), "-ERR value is not an integer or out of range\r\n"},
		{cmd("SET", "k", "v", "EX", "10", "KEEPTTL"), "-ERR syntax error\r\n"},
		{cmd("SETNX", "k", "z"), ":0\r\n"},
		{cmd("SETNX", "k2", "z"), ":1\r\n"},
		{cmd("GETSET", "k2", "y"), "$1\r\nz\r\n"},
		{cmd("GETDEL", "k2"), "$1\r\ny\r\n"},
		{cmd("GETDEL", "k2"), "$-1\r\n"},
		{cmd("MSET", "a", "1", "b", "2"), "+OK\r\n"},
		{cmd("MSET", "a", "1", "b"), "-ERR wrong number of arguments for 'mset' command\r\n"},
		{cmd("MGET", "a", "b", "zz"), "*3\r\n$1\r\n1\r\n$1\r\n2\r\n$-1\r\n"},
		{cmd("MSETNX", "a", "1", "c", "3"), ":0\r\n"},
		{cmd("MSETNX", "c", "3", "d", "4"), ":1\r\n"},
		{cmd("INCR", "n"), ":1\r\n"},
		{cmd("INCRBY", "n", "41"), ":42\r\n"},
		{cmd("DECR", "n"), ":41\r\n"},
		{cmd("DECRBY", "n", "1"), ":40\r\n"},
		{cmd("INCR", "k"), "-ERR value is not an integer or out of range\r\n"},
		{cmd("INCRBY", "n", "x"), "-ERR value is not an integer or out of range\r\n"},
		{cmd("SET", "big", "9223372036854775807"), "+OK\r\n"},
		{cmd("INCR", "big"), "-ERR increment or decrement would overflow\r\n"},
		{cmd("INCRBYFLOAT", "f", "10.5"), "$4\r\n10.5\r\n"},
		{cmd("INCRBYFLOAT", "f", "0.1"), "$4\r\n10.6\r\n"},
		{cmd("INCRBYFLOAT", "f", "x"), "-ERR value is not a valid float\r\n"},
		{cmd("APPEND", "ap", "Hello"), ":5\r\n"},
		{cmd("APPEND", "ap", " World"), ":11\r\n"},
		{cmd("STRLEN", "ap"), ":11\r\n"},
		{cmd("GETRANGE", "ap", "0", "4"), "$5\r\nHello\r\n"},
		{cmd("GETRANGE", "ap", "-5", "-1"), "$5\r\nWorld\r\n"},
		{cmd("SUBSTR", "ap", "5", "3"), "$0\r\n\r\n"},
		{cmd("SETRANGE", "ap", "6", "Redis"), ":11\r\n"},
		{cmd("GET", "ap"), "$11\r\nHello Redis\r\n"},
		{cmd("SETRANGE", "pad", "3", "x"), ":4\r\n"},
		{cmd("GET", "pad"), "$4\r\n\x00\x00\x00x\r\n"},
		{cmd("SET", "l1", "ohmytext"), "+OK\r\n"},
		{cmd("SET", "l2", "mynewtext"), "+OK\r\n"},
		{cmd("LCS", "l1", "l2"), "$6\r\nmytext\r\n"},
		{cmd("LCS", "l1", "l2", "LEN"), ":6\r\n"},
		{cmd("GETEX", "k", "PX", "100000"), "$1\r\nw\r\n"},
		{cmd("GETEX", "k", "PERSIST"), "$1\r\nw\r\n"},
		{cmd("TTL", "k"), ":-1\r\n"},
		{cmd("SETEX", "k", "0", "v"), "-ERR invalid expire time in 'setex' command\r\n"},
		{cmd("GET"), "-ERR wrong number of arguments for 'get' command\r\n"},
		{cmd("FOO", "a", "b"), "-ERR unknown command 'FOO', with args beginning with: 'a' 'b' \r\n"},
		{cmd("FOO"), "-ERR unknown command 'FOO', with args beginning with: \r\n"},
	})
}

func TestKeysAndExpiry(t *testing.T) {
	s, _ := newTestServer(t)
	c := dial(t, startServer(t, s))
	runSteps(t, c, []step{
		{cmd("SET", "k", "v"), "+OK\r\n"},
		{cmd("TTL", "k"), ":-1\r\n"},
		{cmd("TTL", "missing"), ":-2\r\n"},
		{cmd("PTTL", "missing"), ":-2\r\n"},
		{cmd("EXPIRETIME", "k"), ":-1\r\n"},
		{cmd("EXPIRE", "k", "100", "XX"), ":0\r\n"},
		{cmd("EXPIRE", "k", "100", "NX"), ":1\r\n"},
		{cmd("TTL", "k"), ":100\r\n"},
		{cmd("EXPIRE", "k", "50", "GT"), ":0\r\n"},
		{cmd("EXPIRE", "k", "50", "LT"), ":1\r\n"},
		{cmd("EXPIRE", "k", "50", "NX", "XX"), "-ERR NX and XX, GT or LT options at the same time are not compatible\r\n"},
		{cmd("EXPIRE", "k", "50", "GT", "LT"), "-ERR GT and LT options at the same time are not compatible\r\n"},
		{cmd("EXPIRE", "k", "50", "FOO"), "-ERR Unsupported option FOO\r\n"},
		{cmd("PERSIST", "k"), ":1\r\n"},
		{cmd("PERSIST", "k"), ":0\r\n"},
		{cmd("EXPIRE", "missing", "10"), ":0\r\n"},
		{cmd("SET", "gone", "v"), "+OK\r\n"},
		{cmd("EXPIRE", "gone", "-1"), ":1\r\n"},
		{cmd("EXISTS", "gone"), ":0\r\n"},
		{cmd("PEXPIREAT", "k", "9999999999999"), ":1\r\n"},
		{cmd("PEXPIRETIME", "k"), ":9999999999999\r\n"},
		{cmd("EXISTS", "k", "k", "nope"), ":2\r\n"},
		{cmd("TYPE", "k"), "+string\r\n"},
		{cmd("TYPE", "nope"), "+none\r\n"},
		{cmd("RENAME", "nope", "x"), "-ERR no such key\r\n"},
		{cmd("RENAME", "k", "k2"), "+OK\r\n"},
		{cmd("PEXPIRETIME", "k2"), ":9999999999999\r\n"},
		{cmd("SET", "k3", "v"), "+OK\r\n"},
		{cmd("RENAMENX", "k2", "k3"), ":0\r\n"},
		{cmd("DEL", "k2", "k3", "nope"), ":2\r\n"},
		{cmd("MSET", "user:1", "a", "user:2", "b", "other", "c"), "+OK\r\n"},
		{cmd("DBSIZE"), ":3\r\n"},
		{cmd("UNLINK", "other"), ":1\r\n"},
		{cmd("SELECT", "x"), "-ERR value is not an integer or out of range\r\n"},
		{cmd("SELECT", "16"), "-ERR DB index is out of range\r\n"},
		{cmd("SELECT", "1"), "+OK\r\n"},
		{cmd("DBSIZE"), ":0\r\n"},
		{cmd("SELECT", "0"), "+OK\r\n"},
		{cmd("FLUSHDB", "BAD"), "-ERR syntax error\r\n"},
	})
	keys := c.do("KEYS", "user:*")
	if keys != "*2\r\n$6\r\nuser:1\r\n$6\r\nuser:2\r\n" && keys != "*2\r\n$6\r\nuser:2\r\n$6\r\nuser:1\r\n" {
		t.Errorf("KEYS: %q", keys)
	}
	// SCAN visits every key once over the whole cursor cycle.
	seen := map[string]int{}
	cursor := "0"
	for i := 0; ; i++ {
		c.send("SCAN", cursor, "COUNT", "1")
		if r := c.r; r != nil {
			c.nc.SetReadDeadline(time.Now().Add(5 * time.Second))
		}
		var sb strings.Builder
		if err := readReply(c.r, &sb); err != nil {
			t.Fatal(err)
		}
		parts := strings.Split(sb.String(), "\r\n")
		cursor = parts[2]
		for j := 4; j+1 < len(parts); j += 2 {
			seen[parts[j+1]]++
		}
		if cursor == "0" || i > 1000 {
			break
		}
	}
	if len(seen) != 2 || seen["user:1"] != 1 || seen["user:2"] != 1 {
		t.Errorf("SCAN saw %v", seen)
	}
	if got := c.do("SET", "short", "v", "PX", "30"); got != "+OK\r\n" {
		t.Fatal(got)
	}
	time.Sleep(60 * time.Millisecond)
	if got := c.do("GET", "short"); got != "$-1\r\n" {
		t.Errorf("expired key: %q", got)
	}
	if got := c.do("FLUSHALL"); got != "+OK\r\n" {
		t.Fatal(got)
	}
	if got := c.do("DBSIZE"); got != ":0\r\n" {
		t.Errorf("after FLUSHALL: %q", got)
	}
}

func TestCollectionsGolden(t *testing.T) {
	s, _ := newTestServer(t)
	c := dial(t, startServer(t, s))
	runSteps(t, c, []step{
		// Hashes.
		{cmd("HSET", "h", "a", "1", "b", "2"), ":2\r\n"},
		{cmd("HSET", "h", "a", "3"), ":0\r\n"},
		{cmd("HSET", "h", "a"), "-ERR wrong number of arguments for 'hset' command\r\n"},
		{cmd("HGET", "h", "a"), "$1\r\n3\r\n"},
		{cmd("HMGET", "h", "a", "x"), "*2\r\n$1\r\n3\r\n$-1\r\n"},
		{cmd("HGETALL", "h"), "*4\r\n$1\r\na\r\n$1\r\n3\r\n$1\r\nb\r\n$1\r\n2\r\n"},
		{cmd("HLEN", "h"), ":2\r\n"},
		{cmd("HINCRBY", "h", "a", "2"), ":5\r\n"},
		{cmd("HINCRBYFLOAT", "h", "b", "0.5"), "$3\r\n2.5\r\n"},
		{cmd("HINCRBY", "h", "b", "1"), "-ERR hash value is not an integer\r\n"},
		{cmd("HSETNX", "h", "a", "9"), ":0\r\n"},
		{cmd("HEXISTS", "h", "a"), ":1\r\n"},
		{cmd("HSTRLEN", "h", "b"), ":3\r\n"},
		{cmd("HDEL", "h", "a", "b", "c"), ":2\r\n"},
		{cmd("EXISTS", "h"), ":0\r\n"},
		{cmd("HMSET", "h", "f", "v"), "+OK\r\n"},
		{cmd("TYPE", "h"), "+hash\r\n"},
		{cmd("GET", "h"), "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n"},
		{cmd("LPUSH", "h", "x"), "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n"},
		// Lists.
		{cmd("RPUSH", "l", "a", "b", "c"), ":3\r\n"},
		{cmd("LPUSH", "l", "z", "y"), ":5\r\n"},
		{cmd("LRANGE", "l", "0", "-1"), "*5\r\n$1\r\ny\r\n$1\r\nz\r\n$1\r\na\r\n$1\r\nb\r\n$1\r\nc\r\n"},
		{cmd("LINDEX", "l", "-1"), "$1\r\nc\r\n"},
		{cmd("LINDEX", "l", "9"), "$-1\r\n"},
		{cmd("LLEN", "l"), ":5\r\n"},
		{cmd("LPOP", "l"), "$1\r\ny\r\n"},
		{cmd("RPOP", "l", "2"), "*2\r\n$1\r\nc\r\n$1\r\nb\r\n"},
		{cmd("LPOP", "nolist", "2"), "*-1\r\n"},
		{cmd("LPOP", "l", "-1"), "-ERR value is out of range, must be positive\r\n"},
		{cmd("LSET", "l", "0", "Z"), "+OK\r\n"},
		{cmd("LSET", "l", "9", "Z"), "-ERR index out of range\r\n"},
		{cmd("LSET", "nolist", "0", "Z"), "-ERR no such key\r\n"},
		{cmd("LINSERT", "l", "BEFORE", "a", "m"), ":3\r\n"},
		{cmd("LINSERT", "l", "AFTER", "nope", "m"), ":-1\r\n"},
		{cmd("LRANGE", "l", "0", "-1"), "*3\r\n$1\r\nZ\r\n$1\r\nm\r\n$1\r\na\r\n"},
		{cmd("RPUSH", "l", "a", "a"), ":5\r\n"},
		{cmd("LPOS", "l", "a"), ":2\r\n"},
		{cmd("LPOS", "l", "a", "RANK", "-1"), ":4\r\n"},
		{cmd("LPOS", "l", "a", "COUNT", "0"), "*3\r\n:2\r\n:3\r\n:4\r\n"},
		{cmd("LREM", "l", "-2", "a"), ":2\r\n"},
		{cmd("LTRIM", "l", "1", "-1"), "+OK\r\n"},
		{cmd("LRANGE", "l", "0", "-1"), "*2\r\n$1\r\nm\r\n$1\r\na\r\n"},
		{cmd("LMOVE", "l", "l2", "LEFT", "RIGHT"), "$1\r\nm\r\n"},
		{cmd("RPOPLPUSH", "l", "l2"), "$1\r\na\r\n"},
		{cmd("EXISTS", "l"), ":0\r\n"},
		{cmd("LRANGE", "l2", "0", "-1"), "*2\r\n$1\r\na\r\n$1\r\nm\r\n"},
		{cmd("LMPOP", "2", "nolist", "l2", "RIGHT", "COUNT", "5"), "*2\r\n$2\r\nl2\r\n*2\r\n$1\r\nm\r\n$1\r\na\r\n"},
		{cmd("LPUSHX", "l2", "x"), ":0\r\n"},
		{cmd("BLPOP", "l2", "0.01"), "*-1\r\n"},
		// Sets.
		{cmd("SADD", "s", "a", "b", "c", "a"), ":3\r\n"},
		{cmd("SCARD", "s"), ":3\r\n"},
		{cmd("SISMEMBER", "s", "a"), ":1\r\n"},
		{cmd("SMISMEMBER", "s", "a", "x"), "*2\r\n:1\r\n:0\r\n"},
		{cmd("SREM", "s", "a", "x"), ":1\r\n"},
		{cmd("SADD", "t", "b", "d"), ":2\r\n"},
		{cmd("SINTER", "s", "t"), "*1\r\n$1\r\nb\r\n"},
		{cmd("SINTERCARD", "2", "s", "t"), ":1\r\n"},
		{cmd("SDIFF", "s", "t"), "*1\r\n$1\r\nc\r\n"},
		{cmd("SUNIONSTORE", "u", "s", "t"), ":3\r\n"},
		{cmd("SMOVE", "s", "t", "c"), ":1\r\n"},
		{cmd("SMEMBERS", "s"), "*1\r\n$1\r\nb\r\n"},
		{cmd("SPOP", "s"), "$1\r\nb\r\n"},
		{cmd("SPOP", "s"), "$-1\r\n"},
		{cmd("SRANDMEMBER", "nos", "3"), "*0\r\n"},
		// Sorted sets.
		{cmd("ZADD", "z", "1", "a", "2", "b", "3", "c"), ":3\r\n"},
		{cmd("ZADD", "z", "NX", "XX", "1", "a"), "-ERR XX and NX options at the same time are not compatible\r\n"},
		{cmd("ZADD", "z", "GT", "LT", "1", "a"), "-ERR GT, LT, and/or NX options at the same time are not compatible\r\n"},
		{cmd("ZADD", "z", "x", "a"), "-ERR value is not a valid float\r\n"},
		{cmd("ZADD", "z", "CH", "5", "a", "4", "d"), ":2\r\n"},
		{cmd("ZADD", "z", "INCR", "1", "a"), "$1\r\n6\r\n"},
		{cmd("ZINCRBY", "z", "1.5", "b"), "$3\r\n3.5\r\n"},
		{cmd("ZCARD", "z"), ":4\r\n"},
		{cmd("ZSCORE", "z", "b"), "$3\r\n3.5\r\n"},
		{cmd("ZRANGE", "z", "0", "-1"), "*4\r\n$1\r\nc\r\n$1\r\nb\r\n$1\r\nd\r\n$1\r\na\r\n"},
		{cmd("ZRANGE", "z", "0", "0", "WITHSCORES"), "*2\r\n$1\r\nc\r\n$1\r\n3\r\n"},
		{cmd("ZREVRANGE", "z", "0", "1"), "*2\r\n$1\r\na\r\n$1\r\nd\r\n"},
		{cmd("ZRANGEBYSCORE", "z", "(3", "+inf", "LIMIT", "1", "1"), "*1\r\n$1\r\nd\r\n"},
		{cmd("ZREVRANGEBYSCORE", "z", "4", "3.5"), "*2\r\n$1\r\nd\r\n$1\r\nb\r\n"},
		{cmd("ZRANGE", "z", "(3", "4", "BYSCORE"), "*2\r\n$1\r\nb\r\n$1\r\nd\r\n"},
		{cmd("ZRANGE", "z", "0", "1", "LIMIT", "0", "1"), "-ERR syntax error, LIMIT is only supported in combination with either BYSCORE or BYLEX\r\n"},
		{cmd("ZRANGEBYSCORE", "z", "x", "1"), "-ERR min or max is not a float\r\n"},
		{cmd("ZCOUNT", "z", "-inf", "(4"), ":2\r\n"},
		{cmd("ZRANK", "z", "d"), ":2\r\n"},
		{cmd("ZREVRANK", "z", "d"), ":1\r\n"},
		{cmd("ZRANK", "z", "nope"), "$-1\r\n"},
		{cmd("ZMSCORE", "z", "a", "nope"), "*2\r\n$1\r\n6\r\n$-1\r\n"},
		{cmd("ZPOPMIN", "z"), "*2\r\n$1\r\nc\r\n$1\r\n3\r\n"},
		{cmd("ZPOPMAX", "z", "2"), "*4\r\n$1\r\na\r\n$1\r\n6\r\n$1\r\nd\r\n$1\r\n4\r\n"},
		{cmd("ZREM", "z", "b", "x"), ":1\r\n"},
		{cmd("EXISTS", "z"), ":0\r\n"},
		{cmd("ZADD", "lex", "0", "a", "0", "b", "0", "c", "0", "d"), ":4\r\n"},
		{cmd("ZRANGEBYLEX", "lex", "[b", "(d"), "*2\r\n$1\r\nb\r\n$1\r\nc\r\n"},
		{cmd("ZLEXCOUNT", "lex", "-", "+"), ":4\r\n"},
		{cmd("ZRANGEBYLEX", "lex", "b", "d"), "-ERR min or max not valid string range item\r\n"},
		{cmd("ZREMRANGEBYLEX", "lex", "-", "[b"), ":2\r\n"},
		{cmd("ZADD", "z1", "1", "a", "2", "b"), ":2\r\n"},
		{cmd("ZADD", "z2", "10", "b", "20", "c"), ":2\r\n"},
		{cmd("ZUNIONSTORE", "zu", "2", "z1", "z2", "WEIGHTS", "1", "2"), ":3\r\n"},
		{cmd("ZRANGE", "zu", "0", "-1", "WITHSCORES"), "*6\r\n$1\r\na\r\n$1\r\n1\r\n$1\r\nb\r\n$2\r\n22\r\n$1\r\nc\r\n$2\r\n40\r\n"},
		{cmd("ZINTERSTORE", "zi", "2", "z1", "z2", "AGGREGATE", "MAX"), ":1\r\n"},
		{cmd("ZSCORE", "zi", "b"), "$2\r\n10\r\n"},
		{cmd("ZREMRANGEBYRANK", "zu", "0", "0"), ":1\r\n"},
		{cmd("ZREMRANGEBYSCORE", "zu", "-inf", "30"), ":1\r\n"},
	})
}

func TestRESP3(t *testing.T) {
	s, _ := newTestServer(t)
	c := dial(t, startServer(t, s))
	hello := c.do("HELLO", "3")
	if !strings.HasPrefix(hello, "%7\r\n$6\r\nserver\r\n$5\r\nredis\r\n$7\r\nversion\r\n$5\r\n7.2.0\r\n$5\r\nproto\r\n:3\r\n") {
		t.Fatalf("HELLO 3: %q", hello)
	}
	runSteps(t, c, []step{
		{cmd("GET", "nope"), "_\r\n"},
		{cmd("HSET", "h", "a", "1"), ":1\r\n"},
		{cmd("HGETALL", "h"), "%1\r\n$1\r\na\r\n$1\r\n1\r\n"},
		{cmd("SADD", "s", "x"), ":1\r\n"},
		{cmd("SMEMBERS", "s"), "~1\r\n$1\r\nx\r\n"},
		{cmd("ZADD", "z", "1.5", "a"), ":1\r\n"},
		{cmd("ZSCORE", "z", "a"), ",1.5\r\n"},
		{cmd("ZRANGE", "z", "0", "-1", "WITHSCORES"), "*1\r\n*2\r\n$1\r\na\r\n,1.5\r\n"},
		{cmd("ZADD", "z", "INCR", "1", "a"), ",2.5\r\n"},
		{cmd("ZADD", "z", "inf", "b"), ":1\r\n"},
		{cmd("ZSCORE", "z", "b"), ",inf\r\n"},
		{cmd("LPOP", "nope", "1"), "_\r\n"},
		{cmd("CONFIG", "GET", "appendonly"), "%1\r\n$10\r\nappendonly\r\n$2\r\nno\r\n"},
		{cmd("HELLO", "4"), "-NOPROTO unsupported protocol version\r\n"},
		{cmd("HELLO", "x"), "-ERR Protocol version is not an integer or out of range\r\n"},
		{cmd("HELLO", "2", "AUTH", "bob", "pw"), "-WRONGPASS invalid username-password pair or user is disabled.\r\n"},
		{cmd("AUTH", "pw"), "-ERR AUTH <password> called without any password configured for the default user. Are you sure your configuration is correct?\r\n"},
		{cmd("AUTH", "default", "pw"), "+OK\r\n"},
	})
	if got := c.do("HELLO", "2", "SETNAME", "me"); !strings.HasPrefix(got, "*14\r\n") {
		t.Errorf("HELLO 2: %q", got)
	}
	runSteps(t, c, []step{
		{cmd("GET", "nope"), "$-1\r\n"},
		{cmd("CLIENT", "GETNAME"), "$2\r\nme\r\n"},
		{cmd("CLIENT", "SETINFO", "LIB-NAME", "test"), "+OK\r\n"},
		{cmd("CLIENT", "FOO"), "-ERR unknown subcommand 'FOO'. Try CLIENT HELP.\r\n"},
		{cmd("RESET"), "+RESET\r\n"},
		{cmd("CLIENT", "GETNAME"), "$-1\r\n"},
	})
}

func TestInline(t *testing.T) {
	s, _ := newTestServer(t)
	c := dial(t, startServer(t, s))
	c.nc.Write([]byte("SET k \"a b\\n\"\r\nGET k\r\n\r\nPING\r\n"))
	for _, want := range []string{"+OK\r\n", "$4\r\na b\n\r\n", "+PONG\r\n"} {
		if got := c.read(); got != want {
			t.Errorf("got %q want %q", got, want)
		}
	}
	c.nc.Write([]byte("SET k \"unterminated\r\n"))
	if got := c.read(); got != "-ERR Protocol error: unbalanced quotes in request\r\n" {
		t.Errorf("unbalanced: %q", got)
	}
}

func TestProtocolErrors(t *testing.T) {
	s, _ := newTestServer(t)
	addr := startServer(t, s)
	for in, want := range map[string]string{
		"*1\r\n+PING\r\n":         "-ERR Protocol error: expected '$', got '+'\r\n",
		"*x\r\n":                  "-ERR Protocol error: invalid multibulk length\r\n",
		"*1\r\n$-5\r\n":           "-ERR Protocol error: invalid bulk length\r\n",
		"*1\r\n$999999999999\r\n": "-ERR Protocol error: invalid bulk length\r\n",
	} {
		c := dial(t, addr)
		c.nc.Write([]byte(in))
		if got := c.read(); got != want {
			t.Errorf("%q: got %q want %q", in, got, want)
		}
		// The connection is closed after a protocol error.
		c.nc.SetReadDeadline(time.Now().Add(2 * time.Second))
		if _, err := c.r.ReadByte(); err == nil {
			t.Errorf("%q: connection still open", in)
		}
	}
	// Other connections are unaffected.
	if got := dial(t, addr).do("PING"); got != "+PONG\r\n" {
		t.Errorf("PING after errors: %q", got)
	}
}

func TestPipelineAndChunks(t *testing.T) {
	s, _ := newTestServer(t)
	c := dial(t, startServer(t, s))
	var in []byte
	for i := range 100 {
		in = append(in, encodeCmd("SET", "k"+strconv.Itoa(i), strings.Repeat("v", i))...)
		in = append(in, encodeCmd("GET", "k"+strconv.Itoa(i))...)
	}
	go func() {
		for len(in) > 0 {
			n := min(len(in), 7)
			c.nc.Write(in[:n])
			in = in[n:]
		}
	}()
	for i := range 100 {
		if got := c.read(); got != "+OK\r\n" {
			t.Fatalf("SET %d: %q", i, got)
		}
		want := "$" + strconv.Itoa(i) + "\r\n" + strings.Repeat("v", i) + "\r\n"
		if got := c.read(); got != want {
			t.Fatalf("GET %d: %q", i, got)
		}
	}
	// A large value arriving in pieces.
	big := strings.Repeat("x", 1<<20)
	if got := c.do("SET", "big", big); got != "+OK\r\n" {
		t.Fatal(got)
	}
	if got := c.do("STRLEN", "big"); got != ":1048576\r\n" {
		t.Fatal(got)
	}
}

func TestPubSub(t *testing.T) {
	s, _ := newTestServer(t)
	addr := startServer(t, s)
	sub := dial(t, addr)
	if got := sub.do("SUBSCRIBE", "news", "sport"); got != "*3\r\n$9\r\nsubscribe\r\n$4\r\nnews\r\n:1\r\n" {
		t.Fatalf("subscribe: %q", got)
	}
	if got := sub.read(); got != "*3\r\n$9\r\nsubscribe\r\n$5\r\nsport\r\n:2\r\n" {
		t.Fatalf("subscribe 2: %q", got)
	}
	if got := sub.do("PSUBSCRIBE", "n*"); got != "*3\r\n$10\r\npsubscribe\r\n$2\r\nn*\r\n:3\r\n" {
		t.Fatalf("psubscribe: %q", got)
	}
	if got := sub.do("GET", "x"); got != "-ERR Can't execute 'get': only (P|S)SUBSCRIBE / (P|S)UNSUBSCRIBE / PING / QUIT / RESET are allowed in this context\r\n" {
		t.Errorf("GET in subscribed mode: %q", got)
	}
	if got := sub.do("PING"); got != "*2\r\n$4\r\npong\r\n$0\r\n\r\n" {
		t.Errorf("PING in subscribed mode: %q", got)
	}
	pub := dial(t, addr)
	if got := pub.do("PUBLISH", "news", "hello"); got != ":2\r\n" {
		t.Errorf("publish: %q", got)
	}
	if got := sub.read(); got != "*3\r\n$7\r\nmessage\r\n$4\r\nnews\r\n$5\r\nhello\r\n" {
		t.Errorf("message: %q", got)
	}
	if got := sub.read(); got != "*4\r\n$8\r\npmessage\r\n$2\r\nn*\r\n$4\r\nnews\r\n$5\r\nhello\r\n" {
		t.Errorf("pmessage: %q", got)
	}
	runSteps(t, pub, []step{
		{cmd("PUBSUB", "NUMSUB", "news", "none"), "*4\r\n$4\r\nnews\r\n:1\r\n$4\r\nnone\r\n:0\r\n"},
		{cmd("PUBSUB", "NUMPAT"), ":1\r\n"},
		{cmd("PUBSUB", "CHANNELS"), "*2\r\n$4\r\nnews\r\n$5\r\nsport\r\n"},
	})
	if got := sub.do("UNSUBSCRIBE"); got != "*3\r\n$11\r\nunsubscribe\r\n$4\r\nnews\r\n:2\r\n" {
		t.Errorf("unsubscribe: %q", got)
	}
	sub.read()
	if got := sub.do("PUNSUBSCRIBE"); got != "*3\r\n$12\r\npunsubscribe\r\n$2\r\nn*\r\n:0\r\n" {
		t.Errorf("punsubscribe: %q", got)
	}
	if got := sub.do("GET", "x"); got != "$-1\r\n" {
		t.Errorf("GET after unsubscribing: %q", got)
	}
	// RESP3: pushes, and normal commands while subscribed.
	sub3 := dial(t, addr)
	sub3.do("HELLO", "3")
	if got := sub3.do("SUBSCRIBE", "c3"); got != ">3\r\n$9\r\nsubscribe\r\n$2\r\nc3\r\n:1\r\n" {
		t.Fatalf("RESP3 subscribe: %q", got)
	}
	if got := sub3.do("GET", "x"); got != "_\r\n" {
		t.Errorf("RESP3 GET while subscribed: %q", got)
	}
	pub.do("PUBLISH", "c3", "m")
	if got := sub3.read(); got != ">3\r\n$7\r\nmessage\r\n$2\r\nc3\r\n$1\r\nm\r\n" {
		t.Errorf("RESP3 message: %q", got)
	}
}

func TestTransactions(t *testing.T) {
	s, _ := newTestServer(t)
	addr := startServer(t, s)
	c := dial(t, addr)
	runSteps(t, c, []step{
		{cmd("EXEC"), "-ERR EXEC without MULTI\r\n"},
		{cmd("DISCARD"), "-ERR DISCARD without MULTI\r\n"},
		{cmd("MULTI"), "+OK\r\n"},
		{cmd("MULTI"), "-ERR MULTI calls can not be nested\r\n"},
		{cmd("SET", "a", "1"), "+QUEUED\r\n"},
		{cmd("INCR", "a"), "+QUEUED\r\n"},
		{cmd("LPUSH", "a", "x"), "+QUEUED\r\n"},
		{cmd("EXEC"), "*3\r\n+OK\r\n:2\r\n-WRONGTYPE Operation against a key holding the wrong kind of value\r\n"},
		{cmd("MULTI"), "+OK\r\n"},
		{cmd("NOPE"), "-ERR unknown command 'NOPE', with args beginning with: \r\n"},
		{cmd("EXEC"), "-EXECABORT Transaction discarded because of previous errors.\r\n"},
		{cmd("MULTI"), "+OK\r\n"},
		{cmd("SET", "a", "5"), "+QUEUED\r\n"},
		{cmd("DISCARD"), "+OK\r\n"},
		{cmd("GET", "a"), "$1\r\n2\r\n"},
		{cmd("WATCH", "a"), "+OK\r\n"},
		{cmd("MULTI"), "+OK\r\n"},
		{cmd("WATCH", "a"), "-ERR WATCH inside MULTI is not allowed\r\n"},
		{cmd("INCR", "a"), "+QUEUED\r\n"},
	})
	// Another client changes the watched key: EXEC aborts.
	if got := dial(t, addr).do("SET", "a", "10"); got != "+OK\r\n" {
		t.Fatal(got)
	}
	runSteps(t, c, []step{
		{cmd("EXEC"), "*-1\r\n"},
		{cmd("GET", "a"), "$2\r\n10\r\n"},
		{cmd("WATCH", "a"), "+OK\r\n"},
		{cmd("MULTI"), "+OK\r\n"},
		{cmd("INCR", "a"), "+QUEUED\r\n"},
		{cmd("EXEC"), "*1\r\n:11\r\n"},
	})
}

// TestExecIsolation checks that EXEC's commands do not interleave with
// other clients' commands: concurrent MULTI/INCR/INCR/EXEC blocks always see
// their two increments adjacent.
func TestExecIsolation(t *testing.T) {
	s, _ := newTestServer(t)
	addr := startServer(t, s)
	var wg sync.WaitGroup
	errs := make(chan string, 8)
	for range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c := dial(t, addr)
			for range 200 {
				c.send("MULTI")
				c.send("INCR", "ctr")
				c.send("INCR", "ctr")
				c.send("EXEC")
				c.read()
				c.read()
				c.read()
				r := c.read()
				var a, b int
				if _, err := fmt.Sscanf(r, "*2\r\n:%d\r\n:%d\r\n", &a, &b); err != nil || b != a+1 {
					errs <- r
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for e := range errs {
		t.Errorf("interleaved EXEC: %q", e)
	}
}

func TestBlockingPop(t *testing.T) {
	s, _ := newTestServer(t)
	addr := startServer(t, s)
	c := dial(t, addr)
	c.send("BLPOP", "q1", "q2", "5")
	time.Sleep(50 * time.Millisecond)
	if got := dial(t, addr).do("RPUSH", "q2", "job"); got != ":1\r\n" {
		t.Fatal(got)
	}
	if got := c.read(); got != "*2\r\n$2\r\nq2\r\n$3\r\njob\r\n" {
		t.Errorf("BLPOP: %q", got)
	}
	// A timeout answers the null array.
	start := time.Now()
	if got := c.do("BRPOP", "q1", "0.1"); got != "*-1\r\n" {
		t.Errorf("BRPOP timeout: %q", got)
	}
	if d := time.Since(start); d < 90*time.Millisecond {
		t.Errorf("BRPOP returned after %v", d)
	}
	// Commands pipelined behind a blocked one wait for it.
	c.send("BLMOVE", "src", "dst", "LEFT", "RIGHT", "5")
	c.send("PING")
	time.Sleep(50 * time.Millisecond)
	dial(t, addr).do("LPUSH", "src", "v")
	if got := c.read(); got != "$1\r\nv\r\n" {
		t.Errorf("BLMOVE: %q", got)
	}
	if got := c.read(); got != "+PONG\r\n" {
		t.Errorf("PING after BLMOVE: %q", got)
	}
	// CLIENT UNBLOCK.
	c.send("CLIENT", "ID")
	id := strings.TrimSpace(strings.TrimPrefix(c.read(), ":"))
	c.send("BLPOP", "never", "0")
	time.Sleep(50 * time.Millisecond)
	if got := dial(t, addr).do("CLIENT", "UNBLOCK", id); got != ":1\r\n" {
		t.Fatal(got)
	}
	if got := c.read(); got != "*-1\r\n" {
		t.Errorf("unblocked: %q", got)
	}
	// A client that disconnects while blocked is released.
	d := dial(t, addr)
	d.send("BLPOP", "never", "0")
	time.Sleep(50 * time.Millisecond)
	d.nc.Close()
	deadline := time.Now().Add(2 * time.Second)
	for s.waiters.n.Load() != 0 && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	if n := s.waiters.n.Load(); n != 0 {
		t.Errorf("%d waiters left", n)
	}
}

func TestServerCommands(t *testing.T) {
	s, _ := newTestServer(t)
	c := dial(t, startServer(t, s))
	c.do("SET", "k", "v")
	c.do("SET", "e", "v", "EX", "100")
	info := c.do("INFO")
	for _, want := range []string{"redis_version:7.2.0", "# Keyspace", "db0:keys=2,expires=1", "connected_clients:1", "role:master"} {
		if !strings.Contains(info, want) {
			t.Errorf("INFO lacks %q", want)
		}
	}
	if got := c.do("INFO", "keyspace"); strings.Contains(got, "# Server") {
		t.Errorf("INFO keyspace: %q", got)
	}
	// The test process has used some CPU by now, in the kernel or not.
	if got := c.do("INFO", "cpu"); !regexp.MustCompile(`used_cpu_(sys|user):(0\.0*[1-9]|[1-9])`).MatchString(got) {
		t.Errorf("INFO cpu: %q", got)
	}
	runSteps(t, c, []step{
		{cmd("CONFIG", "GET", "save"), "*2\r\n$4\r\nsave\r\n$0\r\n\r\n"},
		{cmd("CONFIG", "SET", "maxmemory", "100"), "+OK\r\n"},
		{cmd("CONFIG", "GET", "maxmemory"), "*2\r\n$9\r\nmaxmemory\r\n$3\r\n100\r\n"},
		{cmd("CONFIG", "SET", "nope", "1"), "-ERR Unknown option or number of arguments for CONFIG SET - 'nope'\r\n"},
		{cmd("COMMAND", "DOCS"), "*0\r\n"},
		{cmd("COMMAND", "INFO", "get"), "*1\r\n*10\r\n$3\r\nget\r\n:2\r\n*2\r\n+readonly\r\n+fast\r\n:1\r\n:1\r\n:1\r\n*0\r\n*0\r\n*0\r\n*0\r\n"},
		{cmd("MODULE", "LIST"), "*0\r\n"},
		{cmd("MEMORY", "USAGE", "nope"), "$-1\r\n"},
		{cmd("CLUSTER", "INFO"), "-ERR This instance has cluster support disabled\r\n"},
		{cmd("CLIENT", "SETNAME", "a b"), "-ERR Client names cannot contain spaces, newlines or special characters.\r\n"},
	})
	if got := c.do("COMMAND", "COUNT"); got != ":"+strconv.Itoa(len(commandTable))+"\r\n" {
		t.Errorf("COMMAND COUNT: %q", got)
	}
	if got := c.do("CLIENT", "LIST"); !strings.Contains(got, "cmd=client|list") {
		t.Errorf("CLIENT LIST: %q", got)
	}
	if got := c.do("QUIT"); got != "+OK\r\n" {
		t.Errorf("QUIT: %q", got)
	}
}

func TestSharedWithOtherProtocols(t *testing.T) {
	s, m := newTestServer(t)
	c := dial(t, startServer(t, s))
	c.do("SET", "k", "bytes")
	cc, err := m.Cache(DefaultCache)
	if err != nil {
		t.Fatal(err)
	}
	e, ok, _ := cc.Get(context.Background(), []byte("k"))
	if !ok || string(e.Value) != "bytes" || e.Meta.Kind != KindString {
		t.Errorf("cache sees %q kind %d", e.Value, e.Meta.Kind)
	}
	cc.Put(context.Background(), []byte("other"), []byte("from hotrod"), cache.Write{})
	if got := c.do("GET", "other"); got != "$11\r\nfrom hotrod\r\n" {
		t.Errorf("GET of a foreign write: %q", got)
	}
	if !cc.Config().Statistics || cc.Config().KeyMediaType != "application/octet-stream" {
		t.Errorf("respCache config: %+v", cc.Config())
	}
}

func TestDetect(t *testing.T) {
	for _, tc := range []struct {
		in          string
		match, more bool
	}{
		{"", false, true},
		{"*", false, true},
		{"*1", false, true},
		{"*1\r\n", false, true},
		{"*1\r\n$4\r\nPING\r\n", true, false},
		{"*3\r\n$3\r\nset\r\n", true, false},
		{"*x", false, false},
		{"PING\r\n", true, false},
		{"ping\r\n", true, false},
		{"PI", false, true},
		{"PING", false, true},
		{"HELLO 3\r\n", true, false},
		{"GET k\r\n", true, false},
		{"get k\r\n", false, false},
		{"set k 0 0 1\r\n", false, false},
		{"GET / HTTP/1.1\r\n", false, false},
		{"GET / HT", false, true},
		{"DELETE /x HTTP/1.1\r\n", false, false},
		{"PRI * HTTP/2.0\r\n", false, false},
		{"\xa0\x01", false, false},
		{"\x80\x01", false, false},
		{"stats\r\n", false, false},
	} {
		m, more := Detect([]byte(tc.in))
		if m != tc.match || more != tc.more {
			t.Errorf("Detect(%q) = %v, %v; want %v, %v", tc.in, m, more, tc.match, tc.more)
		}
	}
}

func TestShutdown(t *testing.T) {
	s, _ := newTestServer(t)
	addr := startServer(t, s)
	c := dial(t, addr)
	c.do("PING")
	b := dial(t, addr)
	b.send("BLPOP", "never", "0")
	time.Sleep(50 * time.Millisecond)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := s.Shutdown(ctx); err != nil {
		t.Fatalf("Shutdown: %v", err)
	}
	c.nc.SetReadDeadline(time.Now().Add(2 * time.Second))
	if _, err := c.r.ReadByte(); err == nil {
		t.Error("connection still open after Shutdown")
	}
}
