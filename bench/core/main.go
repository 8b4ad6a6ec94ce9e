// Command core measures hotgrid's Hot Rod server side by side with
// Infinispan's own Hot Rod server on the JVM: time from exec to the first
// served request, RSS when idle and with many entries, and get/put
// throughput with p50/p99 latency for 1 and 50 connections holding 1 and 16
// requests in flight each. Both servers read the same cache configuration
// and are driven by the same load generator (hotgrid's Go client, Hot Rod
// 4.0), so the ratios compare the servers.
//
// It prints a Markdown table and, with -json, writes the figures for
// charts. It is a benchmark, not a test: it reports what it measured and
// never decides pass or fail.
package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
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
	bin := flag.String("bin", "./bin/hotgrid", "hotgrid binary")
	jvmCP := flag.String("jvm-classpath", "", "class path of bench/jvm (EmbeddedHotRod and Infinispan); empty measures hotgrid alone")
	java := flag.String("java", "java", "java launcher for the JVM peer")
	cfg := flag.String("config", "bench/jvm/bench.xml", "cache configuration both servers read")
	cacheName := flag.String("cache", "bench", "cache the load uses")
	runs := flag.Int("startup-runs", 20, "start-up measurements per server (median reported)")
	entries := flag.Int("entries", 1_000_000, "entries for the memory measurement")
	sizes := flag.String("values", "100,1024", "value sizes in bytes for the memory measurement")
	dur := flag.Duration("duration", 5*time.Second, "duration of each throughput run")
	repeat := flag.Int("repeat", 3, "throughput runs per combination and server (median reported)")
	warm := flag.Duration("warmup", 20*time.Second, "load before the first throughput run (the JVM's JIT needs it)")
	connsList := flag.String("conns", "1,50", "connection counts for throughput runs")
	inflightList := flag.String("inflight", "1,16", "requests in flight per connection")
	jsonOut := flag.String("json", "", "write the results as JSON to this file")
	flag.Parse()

	abs, err := filepath.Abs(*bin)
	check(err)
	cfgAbs, err := filepath.Abs(*cfg)
	check(err)
	targets := []*target{{
		Name: "hotgrid",
		argv: func(port int) []string {
			return []string{abs, "server", "-c", cfgAbs, "-p", strconv.Itoa(port), "--log-level", "warn"}
		},
	}}
	if *jvmCP != "" {
		targets = append([]*target{{
			Name: "infinispan",
			argv: func(port int) []string {
				return []string{*java, "-cp", *jvmCP, "org.hotgrid.bench.EmbeddedHotRod", cfgAbs, strconv.Itoa(port)}
			},
		}}, targets...)
	}
	p := plan{
		cache: *cacheName, runs: *runs, entries: *entries, sizes: ints(*sizes),
		dur: *dur, warm: *warm, repeat: *repeat, conns: ints(*connsList), inflight: ints(*inflightList),
	}
	for _, t := range targets {
		fmt.Fprintf(os.Stderr, "== %s\n", t.Name)
		p.measureAlone(t)
	}
	p.throughput(targets)
	printTable(os.Stdout, targets, p)
	if *jsonOut != "" {
		data, err := json.MarshalIndent(targets, "", "  ")
		check(err)
		check(os.WriteFile(*jsonOut, data, 0o644))
	}
}

// target is one server under test and what was measured of it.
type target struct {
	Name        string
	argv        func(port int) []string
	StartupMS   float64 // median exec → first served request
	StartupMin  float64
	StartupMax  float64
	RSSStartMiB float64 // right after the first served request (median)
	RSSIdleMiB  float64 // two seconds after start, nothing stored
	Memory      []memory
	Runs        []run
}

type memory struct {
	ValueSize     int
	Entries       int
	RSSMiB        float64
	BytesPerEntry float64
}

type run struct {
	Op       string // get or put
	Conns    int
	Inflight int
	Ops      int64
	OpsPerS  float64
	P50us    float64
	P99us    float64
	// ServerCPUus is the server process's CPU time (user + system) per
	// operation during the run: its cost per request, whatever share of
	// the shared machine the load generator took.
	ServerCPUus float64
}

type plan struct {
	cache           string
	runs, entries   int
	sizes           []int
	dur, warm       time.Duration
	repeat          int
	conns, inflight []int
}

// measureAlone takes the measurements that need a server to itself:
// start-up, idle RSS and RSS with entries.
func (p plan) measureAlone(t *target) {
	var startups, rsss []float64
	for i := 0; i < p.runs; i++ {
		ms, rss := startupOnce(t)
		startups = append(startups, ms)
		rsss = append(rsss, rss)
	}
	t.StartupMS, t.StartupMin, t.StartupMax = median(startups), slices.Min(startups), slices.Max(startups)
	t.RSSStartMiB = median(rsss)
	fmt.Fprintf(os.Stderr, "   start-up %.1f ms, RSS %.1f MiB\n", t.StartupMS, t.RSSStartMiB)

	ctx := context.Background()
	for i, size := range p.sizes {
		srv := startServer(t)
		time.Sleep(2 * time.Second)
		before := rssMiB(srv.cmd.Process.Pid)
		if i == 0 {
			t.RSSIdleMiB = before
		}
		loadServer(ctx, srv.addr, p.cache, p.entries, size)
		time.Sleep(2 * time.Second)
		after := rssMiB(srv.cmd.Process.Pid)
		t.Memory = append(t.Memory, memory{ValueSize: size, Entries: p.entries, RSSMiB: after,
			BytesPerEntry: (after - before) * 1024 * 1024 / float64(p.entries)})
		fmt.Fprintf(os.Stderr, "   %d entries of %d B: RSS %.1f MiB\n", p.entries, size, after)
		srv.stop()
	}
}

func loadServer(ctx context.Context, addr, cacheName string, n, size int) {
	c, err := client.New(ctx, client.Options{Servers: []string{addr}, PoolSize: 4})
	check(err)
	defer c.Close()
	load(ctx, c.Cache(cacheName), n, bytes.Repeat([]byte("v"), size))
}

// throughput starts every target with the entries loaded, warms them up,
// then runs each op × conns × inflight combination repeat times, taking
// turns between the servers so that drift on a shared machine falls on
// both alike; it records the median run.
func (p plan) throughput(ts []*target) {
	ctx := context.Background()
	const size = 100
	keys := make([][]byte, p.entries)
	for i := range keys {
		keys[i] = key(i)
	}
	value := bytes.Repeat([]byte("v"), size)
	addrs := make([]string, len(ts))
	pids := make([]int, len(ts))
	for i, t := range ts {
		srv := startServer(t)
		defer srv.stop()
		addrs[i], pids[i] = srv.addr, srv.cmd.Process.Pid
		loadServer(ctx, srv.addr, p.cache, p.entries, size)
		if p.warm > 0 {
			fmt.Fprintf(os.Stderr, "== %s: warm-up %s\n", t.Name, p.warm)
			drive(ctx, srv.addr, p.cache, 16, 16, p.warm/2, keys, value, false)
			drive(ctx, srv.addr, p.cache, 16, 16, p.warm/2, keys, value, true)
		}
	}
	for _, op := range []string{"get", "put"} {
		for _, conns := range p.conns {
			for _, inflight := range p.inflight {
				samples := make([][]run, len(ts))
				for r := 0; r < p.repeat; r++ {
					for i := range ts {
						cpu0 := cpuSeconds(pids[i])
						r := drive(ctx, addrs[i], p.cache, conns, inflight, p.dur, keys, value, op == "put")
						r.ServerCPUus = (cpuSeconds(pids[i]) - cpu0) * 1e6 / float64(r.Ops)
						samples[i] = append(samples[i], r)
					}
				}
				for i, t := range ts {
					m := medianRun(samples[i])
					t.Runs = append(t.Runs, m)
					fmt.Fprintf(os.Stderr, "   %s %s %d×%d: %.0f ops/s p50 %.0f µs p99 %.0f µs, server CPU %.1f µs/op\n",
						t.Name, op, conns, inflight, m.OpsPerS, m.P50us, m.P99us, m.ServerCPUus)
				}
			}
		}
	}
}

// medianRun returns the run with the median throughput.
func medianRun(rs []run) run {
	s := slices.Clone(rs)
	slices.SortFunc(s, func(a, b run) int {
		switch {
		case a.OpsPerS < b.OpsPerS:
			return -1
		case a.OpsPerS > b.OpsPerS:
			return 1
		}
		return 0
	})
	return s[len(s)/2]
}

func check(err error) {
	if err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		os.Exit(1)
	}
}

func ints(s string) []int {
	var out []int
	for _, f := range strings.Split(s, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(f))
		check(err)
		out = append(out, n)
	}
	return out
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
func startupOnce(t *target) (ms, rss float64) {
	port := freePort()
	addr := fmt.Sprintf("127.0.0.1:%d", port)
	argv := t.argv(port)
	t0 := time.Now()
	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.Stdout, cmd.Stderr = io.Discard, io.Discard
	check(cmd.Start())
	defer func() {
		cmd.Process.Signal(syscall.SIGTERM)
		cmd.Wait()
	}()
	buf := make([]byte, 64)
	for time.Since(t0) < 60*time.Second {
		nc, err := net.DialTimeout("tcp", addr, time.Second)
		if err != nil {
			time.Sleep(200 * time.Microsecond)
			continue
		}
		nc.Write(ping)
		nc.SetReadDeadline(time.Now().Add(5 * time.Second))
		n, err := nc.Read(buf)
		nc.Close()
		if err == nil && n > 0 && buf[0] == 0xA1 {
			ms = float64(time.Since(t0).Microseconds()) / 1000
			return ms, rssMiB(cmd.Process.Pid)
		}
	}
	check(fmt.Errorf("%s did not answer within 60 s", t.Name))
	return 0, 0
}

// cpuSeconds reads the user and system CPU time of a process from /proc.
func cpuSeconds(pid int) float64 {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	check(err)
	// The command name (field 2) may hold spaces; count from its ')'.
	f := strings.Fields(string(data[bytes.LastIndexByte(data, ')')+2:]))
	utime, _ := strconv.ParseFloat(f[11], 64) // field 14
	stime, _ := strconv.ParseFloat(f[12], 64) // field 15
	return (utime + stime) / 100              // USER_HZ is 100 on Linux
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

func startServer(t *target) *server {
	port := freePort()
	s := &server{addr: fmt.Sprintf("127.0.0.1:%d", port)}
	argv := t.argv(port)
	s.cmd = exec.Command(argv[0], argv[1:]...)
	s.cmd.Stdout = io.Discard
	s.cmd.Stderr = os.Stderr
	if t.Name != "hotgrid" {
		s.cmd.Stderr = io.Discard // the JVM logs every start at INFO
	}
	check(s.cmd.Start())
	for i := 0; i < 3000; i++ {
		if nc, err := net.Dial("tcp", s.addr); err == nil {
			nc.Close()
			return s
		}
		time.Sleep(10 * time.Millisecond)
	}
	check(fmt.Errorf("%s did not start", t.Name))
	return nil
}

func (s *server) stop() {
	s.cmd.Process.Signal(syscall.SIGTERM)
	done := make(chan struct{})
	go func() { s.cmd.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(20 * time.Second):
		s.cmd.Process.Kill()
		<-done
	}
}

func key(i int) []byte { return []byte(fmt.Sprintf("key-%012d", i)) } // 16 bytes

// load writes n entries with putAll batches over several goroutines.
func load(ctx context.Context, c *client.Cache, n int, value []byte) {
	batch := max(1, min(1000, (1<<20)/len(value)))
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
					m[string(key(i))] = value
				}
				check(c.PutAll(ctx, m))
			}
		}()
	}
	wg.Wait()
}

// drive runs conns connections, each from one goroutine that keeps exactly
// inflight requests outstanding with the client's asynchronous calls, for
// d. Every request's latency is recorded (issue to callback).
func drive(ctx context.Context, addr, cacheName string, conns, inflight int, d time.Duration, keys [][]byte, value []byte, put bool) run {
	ctx, cancel := context.WithTimeout(ctx, d)
	defer cancel()
	lats := make([][]int32, conns) // microseconds, written by one connection's reader
	var errs atomic.Int64
	var wg sync.WaitGroup
	clients := make([]*client.Client, conns)
	for c := range clients {
		cl, err := client.New(context.Background(), client.Options{Servers: []string{addr}, PoolSize: 1})
		check(err)
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
				}
				tokens <- struct{}{}
			}
			for i := c * 7919; ; i++ {
				select {
				case <-tokens:
				case <-ctx.Done():
					// Take every token back so no callback is still writing.
					for j := 0; j < inflight; j++ {
						<-tokens
					}
					return
				}
				if ctx.Err() != nil {
					for j := 1; j < inflight; j++ {
						<-tokens
					}
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
	if errs.Load() > 0 {
		check(fmt.Errorf("%d requests failed", errs.Load()))
	}
	if len(all) == 0 {
		check(errors.New("no request completed"))
	}
	slices.Sort(all)
	op := "get"
	if put {
		op = "put"
	}
	return run{Op: op, Conns: conns, Inflight: inflight, Ops: int64(len(all)),
		OpsPerS: float64(len(all)) / elapsed.Seconds(),
		P50us:   float64(all[len(all)/2]), P99us: float64(all[len(all)*99/100])}
}
