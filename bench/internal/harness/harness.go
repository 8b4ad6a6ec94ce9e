// Package harness holds what hotgrid's benchmark programs share: starting
// a server process, waiting for its first served request, reading its RSS
// and CPU time, and driving the Hot Rod load with latency samples.
package harness

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"os"
	"os/exec"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/hotgrid/hotgrid/client"
)

// Check ends the program on an error: benchmarks have no partial results.
func Check(err error) {
	if err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		os.Exit(1)
	}
}

// Median of v.
func Median(v []float64) float64 {
	s := slices.Clone(v)
	slices.Sort(s)
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}

// FreePort returns a free loopback TCP port.
func FreePort() int {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	Check(err)
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}

// ping is a Hot Rod 4.0 ping of the default cache, intelligence 1.
var ping = []byte{0xA0, 0x01, 0x28, 0x17, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00}

// Server is a server process under test.
type Server struct {
	Cmd  *exec.Cmd
	Addr string
	// Ready is the time from exec to the first answered Hot Rod ping.
	Ready time.Duration
}

// Start execs argv (which must make the server listen on port), pings it
// until it answers and returns it. stderr receives the server's log.
func Start(argv []string, port int, stderr io.Writer, timeout time.Duration) (*Server, error) {
	s := &Server{Addr: fmt.Sprintf("127.0.0.1:%d", port)}
	t0 := time.Now()
	s.Cmd = exec.Command(argv[0], argv[1:]...)
	s.Cmd.Stdout, s.Cmd.Stderr = io.Discard, stderr
	if err := s.Cmd.Start(); err != nil {
		return nil, err
	}
	buf := make([]byte, 64)
	for time.Since(t0) < timeout {
		nc, err := net.DialTimeout("tcp", s.Addr, time.Second)
		if err != nil {
			time.Sleep(200 * time.Microsecond)
			continue
		}
		nc.Write(ping)
		nc.SetReadDeadline(time.Now().Add(5 * time.Second))
		n, err := nc.Read(buf)
		nc.Close()
		if err == nil && n > 0 && buf[0] == 0xA1 {
			s.Ready = time.Since(t0)
			return s, nil
		}
	}
	s.Cmd.Process.Kill()
	s.Cmd.Wait()
	return nil, fmt.Errorf("%s did not answer within %s", argv[0], timeout)
}

// Stop sends SIGTERM and waits (SIGKILL after 60 s).
func (s *Server) Stop() {
	s.Cmd.Process.Signal(syscall.SIGTERM)
	done := make(chan struct{})
	go func() { s.Cmd.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(60 * time.Second):
		s.Cmd.Process.Kill()
		<-done
	}
}

// RSSMiB reads the process's resident set size.
func (s *Server) RSSMiB() float64 { return s.status("VmRSS:") }

// AnonMiB reads the anonymous part of the RSS: the heap and stacks, without
// the pages of the executable the kernel has mapped.
func (s *Server) AnonMiB() float64 { return s.status("RssAnon:") }

func (s *Server) status(field string) float64 {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", s.Cmd.Process.Pid))
	Check(err)
	sc := bufio.NewScanner(bytes.NewReader(data))
	for sc.Scan() {
		if f := strings.Fields(sc.Text()); len(f) >= 2 && f[0] == field {
			kb, _ := strconv.ParseFloat(f[1], 64)
			return kb / 1024
		}
	}
	return 0
}

// CPUSeconds reads the process's user and system CPU time.
func (s *Server) CPUSeconds() float64 {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", s.Cmd.Process.Pid))
	Check(err)
	// The command name (field 2) may hold spaces; count from its ')'.
	f := strings.Fields(string(data[bytes.LastIndexByte(data, ')')+2:]))
	utime, _ := strconv.ParseFloat(f[11], 64) // field 14
	stime, _ := strconv.ParseFloat(f[12], 64) // field 15
	return (utime + stime) / 100              // USER_HZ is 100 on Linux
}

// Key returns the i-th 16-byte benchmark key.
func Key(i int) []byte { return []byte(fmt.Sprintf("key-%012d", i)) }

// Load writes n entries of value with putAll batches over 8 goroutines.
func Load(ctx context.Context, addr, cacheName string, n int, value []byte) {
	LoadFunc(ctx, addr, cacheName, n, len(value), func(int) []byte { return value })
}

// LoadRandom writes n entries, each with its own random (incompressible)
// value of size bytes, deterministically seeded.
func LoadRandom(ctx context.Context, addr, cacheName string, n, size int) {
	LoadFunc(ctx, addr, cacheName, n, size, func(i int) []byte {
		r := rand.New(rand.NewPCG(uint64(i), 0x9E3779B97F4A7C15))
		v := make([]byte, size)
		for j := range v {
			v[j] = byte(r.Uint32())
		}
		return v
	})
}

// LoadFunc writes n entries whose values value(i) returns (size is their
// typical length, for batching).
func LoadFunc(ctx context.Context, addr, cacheName string, n, size int, value func(i int) []byte) {
	cl, err := client.New(ctx, client.Options{Servers: []string{addr}, PoolSize: 4})
	Check(err)
	defer cl.Close()
	c := cl.Cache(cacheName)
	batch := max(1, min(1000, (1<<20)/max(1, size)))
	var next atomic.Int64
	var wg sync.WaitGroup
	for g := 0; g < 8; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				start := int(next.Add(int64(batch))) - batch
				if start >= n {
					return
				}
				m := make(map[string][]byte, batch)
				for i := start; i < min(start+batch, n); i++ {
					m[string(Key(i))] = value(i)
				}
				Check(c.PutAll(ctx, m))
			}
		}()
	}
	wg.Wait()
}

// Run is the outcome of one load run.
type Run struct {
	Op       string // get or put
	Conns    int
	Inflight int
	Ops      int64
	OpsPerS  float64
	P50us    float64
	P99us    float64
	// ServerCPUus is the server's CPU time per operation during the run,
	// filled in by the caller that knows the server.
	ServerCPUus float64
}

// Drive runs conns connections, each from one goroutine that keeps exactly
// inflight requests outstanding with the client's asynchronous calls, for
// d, over keys. Every request's latency (issue to callback) is recorded.
func Drive(addr, cacheName string, conns, inflight int, d time.Duration, keys [][]byte, value []byte, put bool) Run {
	ctx, cancel := context.WithTimeout(context.Background(), d)
	defer cancel()
	lats := make([][]int32, conns) // µs, each written by one connection's reader
	var errs atomic.Int64
	var firstErr atomic.Value
	var wg sync.WaitGroup
	clients := make([]*client.Client, conns)
	for c := range clients {
		cl, err := client.New(context.Background(), client.Options{Servers: []string{addr}, PoolSize: 1})
		Check(err)
		clients[c] = cl
	}
	t0 := time.Now()
	for c := 0; c < conns; c++ {
		k := clients[c].Cache(cacheName)
		lats[c] = make([]int32, 0, 1<<16)
		wg.Add(1)
		go func(c int) {
			defer wg.Done()
			tokens := make(chan struct{}, inflight)
			for i := 0; i < inflight; i++ {
				tokens <- struct{}{}
			}
			done := func(start time.Time, err error) {
				lats[c] = append(lats[c], int32(time.Since(start).Microseconds()))
				if err != nil {
					errs.Add(1)
					firstErr.CompareAndSwap(nil, err)
				}
				tokens <- struct{}{}
			}
			drain := func(n int) {
				for j := 0; j < n; j++ {
					<-tokens
				}
			}
			for i := c * 7919; ; i++ {
				select {
				case <-tokens:
				case <-ctx.Done():
					drain(inflight) // no callback may still be writing
					return
				}
				if ctx.Err() != nil {
					drain(inflight - 1)
					return
				}
				key := keys[i%len(keys)]
				start := time.Now()
				if put {
					k.SetAsync(context.Background(), key, value, func(err error) { done(start, err) })
				} else {
					k.GetAsync(context.Background(), key, func(_ []byte, _ bool, err error) { done(start, err) })
				}
			}
		}(c)
	}
	wg.Wait()
	elapsed := time.Since(t0)
	for _, cl := range clients {
		cl.Close()
	}
	var all []int32
	for _, l := range lats {
		all = append(all, l...)
	}
	if n := errs.Load(); n > 0 {
		Check(fmt.Errorf("%d requests failed, the first with: %v", n, firstErr.Load()))
	}
	if len(all) == 0 {
		Check(errors.New("no request completed"))
	}
	slices.Sort(all)
	op := "get"
	if put {
		op = "put"
	}
	return Run{Op: op, Conns: conns, Inflight: inflight, Ops: int64(len(all)),
		OpsPerS: float64(len(all)) / elapsed.Seconds(),
		P50us:   float64(all[len(all)/2]), P99us: float64(all[len(all)*99/100])}
}
