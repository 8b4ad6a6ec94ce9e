// Command core measures a hotgrid node the way issue #2 asks: time from exec
// to the first served Hot Rod request, RSS after start, RSS and bytes per
// entry with many entries, and Hot Rod get/put throughput with 1 and 16
// requests in flight per connection. It prints a Markdown table.
//
// It is a benchmark, not a test: it reports what it measured and never
// decides pass or fail.
package main

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/hotgrid/hotgrid/client"
)

func main() {
	bin := flag.String("bin", "./hotgrid", "hotgrid binary")
	runs := flag.Int("startup-runs", 20, "startup measurements (median reported)")
	entries := flag.Int("entries", 1_000_000, "entries for the memory measurement")
	dur := flag.Duration("duration", 5*time.Second, "duration of each throughput run")
	conns := flag.Int("conns", 4, "connections for throughput runs")
	flag.Parse()

	abs, err := filepath.Abs(*bin)
	check(err)
	fmt.Println("| measurement | value |")
	fmt.Println("|---|---|")

	startups := make([]float64, 0, *runs)
	rsss := make([]float64, 0, *runs)
	for i := 0; i < *runs; i++ {
		ms, rss := startupOnce(abs)
		startups = append(startups, ms)
		rsss = append(rsss, rss)
	}
	fmt.Printf("| exec to first served Hot Rod request (median of %d) | %.1f ms (min %.1f, max %.1f) |\n",
		*runs, median(startups), slices.Min(startups), slices.Max(startups))
	fmt.Printf("| RSS after start (median of %d) | %.1f MiB |\n", *runs, median(rsss))

	srv := startServer(abs)
	defer srv.stop()
	ctx := context.Background()
	c, err := client.New(ctx, client.Options{Servers: []string{srv.addr}, PoolSize: *conns})
	check(err)
	defer c.Close()
	cache := c.Cache("")

	before := rssMiB(srv.cmd.Process.Pid)
	load(ctx, cache, *entries)
	runtimeSettle()
	after := rssMiB(srv.cmd.Process.Pid)
	per := (after - before) * 1024 * 1024 / float64(*entries)
	fmt.Printf("| RSS with %d entries (16-byte keys, 100-byte values) | %.1f MiB (%.0f bytes per entry, %.0f of them payload) |\n",
		*entries, after, per, 116.0)

	keys := make([][]byte, *entries)
	for i := range keys {
		keys[i] = key(i)
	}
	for _, inflight := range []int{1, 16} {
		gets := throughput(ctx, srv.addr, *conns, inflight, *dur, keys, false)
		puts := throughput(ctx, srv.addr, *conns, inflight, *dur, keys, true)
		fmt.Printf("| Hot Rod get, %d conns × %d in flight | %.0f ops/s |\n", *conns, inflight, gets)
		fmt.Printf("| Hot Rod put, %d conns × %d in flight | %.0f ops/s |\n", *conns, inflight, puts)
	}
}

func check(err error) {
	if err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		os.Exit(1)
	}
}

func median(v []float64) float64 {
	s := slices.Clone(v)
	slices.Sort(s)
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}

func freePort() int {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	check(err)
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}

// ping is a Hot Rod 4.0 ping of the default cache, intelligence 1.
var ping = []byte{0xA0, 0x01, 0x28, 0x17, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00}

// startupOnce execs the server and pings it until it answers; it returns the
// milliseconds from exec to the answer and the RSS right after.
func startupOnce(bin string) (ms, rss float64) {
	port := freePort()
	addr := fmt.Sprintf("127.0.0.1:%d", port)
	t0 := time.Now()
	cmd := exec.Command(bin, "server", "--port", strconv.Itoa(port), "--log-level", "warn")
	cmd.Stderr = io.Discard
	check(cmd.Start())
	defer func() {
		cmd.Process.Signal(syscall.SIGTERM)
		cmd.Wait()
	}()
	buf := make([]byte, 64)
	for time.Since(t0) < 10*time.Second {
		nc, err := net.DialTimeout("tcp", addr, time.Second)
		if err != nil {
			time.Sleep(200 * time.Microsecond)
			continue
		}
		nc.Write(ping)
		nc.SetReadDeadline(time.Now().Add(2 * time.Second))
		n, err := nc.Read(buf)
		nc.Close()
		if err == nil && n > 0 && buf[0] == 0xA1 {
			ms = float64(time.Since(t0).Microseconds()) / 1000
			return ms, rssMiB(cmd.Process.Pid)
		}
	}
	check(errors.New("server did not answer within 10 s"))
	return 0, 0
}

// rssMiB reads VmRSS from /proc.
func rssMiB(pid int) float64 {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	check(err)
	sc := bufio.NewScanner(bytes.NewReader(data))
	for sc.Scan() {
		if f := strings.Fields(sc.Text()); len(f) >= 2 && f[0] == "VmRSS:" {
			kb, _ := strconv.ParseFloat(f[1], 64)
			return kb / 1024
		}
	}
	return 0
}

type server struct {
	cmd  *exec.Cmd
	addr string
}

func startServer(bin string) *server {
	port := freePort()
	s := &server{addr: fmt.Sprintf("127.0.0.1:%d", port)}
	s.cmd = exec.Command(bin, "server", "--port", strconv.Itoa(port), "--log-level", "warn")
	s.cmd.Stderr = os.Stderr
	check(s.cmd.Start())
	for i := 0; i < 500; i++ {
		if nc, err := net.Dial("tcp", s.addr); err == nil {
			nc.Close()
			return s
		}
		time.Sleep(10 * time.Millisecond)
	}
	check(errors.New("server did not start"))
	return nil
}

func (s *server) stop() {
	s.cmd.Process.Signal(syscall.SIGTERM)
	s.cmd.Wait()
}

func key(i int) []byte { return []byte(fmt.Sprintf("key-%012d", i)) } // 16 bytes

var value = bytes.Repeat([]byte("v"), 100)

// load writes n entries with putAll batches over several goroutines.
func load(ctx context.Context, c *client.Cache, n int) {
	const batch = 1000
	var next atomic.Int64
	var wg sync.WaitGroup
	for g := 0; g < 8; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				start := int(next.Add(batch)) - batch
				if start >= n {
					return
				}
				m := make(map[string][]byte, batch)
				for i := start; i < min(start+batch, n); i++ {
					m[string(key(i))] = value
				}
				check(c.PutAll(ctx, m))
			}
		}()
	}
	wg.Wait()
}

func runtimeSettle() { time.Sleep(2 * time.Second) }

// throughput drives conns connections, each from one goroutine that keeps
// exactly inflight requests outstanding with the client's asynchronous
// calls, for d; it returns operations per second.
func throughput(ctx context.Context, addr string, conns, inflight int, d time.Duration, keys [][]byte, put bool) float64 {
	var ops atomic.Int64
	ctx, cancel := context.WithTimeout(ctx, d)
	defer cancel()
	var wg sync.WaitGroup
	t0 := time.Now()
	for c := 0; c < conns; c++ {
		cl, err := client.New(ctx, client.Options{Servers: []string{addr}, PoolSize: 1})
		check(err)
		defer cl.Close()
		k := cl.Cache("")
		wg.Add(1)
		go func(c int) {
			defer wg.Done()
			tokens := make(chan struct{}, inflight)
			for i := 0; i < inflight; i++ {
				tokens <- struct{}{}
			}
			doneGet := func([]byte, bool, error) { ops.Add(1); tokens <- struct{}{} }
			donePut := func(error) { ops.Add(1); tokens <- struct{}{} }
			for i := c * 7919; ctx.Err() == nil; i++ {
				select {
				case <-tokens:
				case <-ctx.Done():
					return
				}
				key := keys[i%len(keys)]
				if put {
					k.SetAsync(ctx, key, value, donePut)
				} else {
					k.GetAsync(ctx, key, doneGet)
				}
			}
		}(c)
	}
	wg.Wait()
	return float64(ops.Load()) / time.Since(t0).Seconds()
}
