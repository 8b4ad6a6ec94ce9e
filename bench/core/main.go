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
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/hotgrid/hotgrid/bench/internal/harness"
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
	charts := flag.String("charts", "", "write PNG charts to this directory")
	flag.Parse()

	abs, err := filepath.Abs(*bin)
	harness.Check(err)
	cfgAbs, err := filepath.Abs(*cfg)
	harness.Check(err)
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
	if *charts != "" {
		harness.Check(writeCharts(*charts, targets, p))
	}
	if *jsonOut != "" {
		data, err := json.MarshalIndent(targets, "", "  ")
		harness.Check(err)
		harness.Check(os.WriteFile(*jsonOut, data, 0o644))
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
	AnonIdleMiB float64 // its anonymous part (heap, stacks)
	Memory      []memory
	Runs        []harness.Run
}

type memory struct {
	ValueSize     int
	Entries       int
	RSSMiB        float64
	BytesPerEntry float64
}

type plan struct {
	cache           string
	runs, entries   int
	sizes           []int
	dur, warm       time.Duration
	repeat          int
	conns, inflight []int
}

// start runs a target's server on a free port.
func (t *target) start() *harness.Server {
	port := harness.FreePort()
	var stderr io.Writer = os.Stderr
	if t.Name != "hotgrid" {
		stderr = io.Discard // the JVM logs every start at INFO
	}
	srv, err := harness.Start(t.argv(port), port, stderr, 60*time.Second)
	harness.Check(err)
	return srv
}

// measureAlone takes the measurements that need a server to itself:
// start-up, idle RSS and RSS with entries.
func (p plan) measureAlone(t *target) {
	var startups, rsss []float64
	for i := 0; i < p.runs; i++ {
		srv := t.start()
		startups = append(startups, float64(srv.Ready.Microseconds())/1000)
		rsss = append(rsss, srv.RSSMiB())
		srv.Stop()
	}
	t.StartupMS, t.StartupMin, t.StartupMax = harness.Median(startups), slices.Min(startups), slices.Max(startups)
	t.RSSStartMiB = harness.Median(rsss)
	fmt.Fprintf(os.Stderr, "   start-up %.1f ms, RSS %.1f MiB\n", t.StartupMS, t.RSSStartMiB)

	ctx := context.Background()
	for i, size := range p.sizes {
		srv := t.start()
		time.Sleep(2 * time.Second)
		before := srv.RSSMiB()
		if i == 0 {
			t.RSSIdleMiB, t.AnonIdleMiB = before, srv.AnonMiB()
		}
		harness.Load(ctx, srv.Addr, p.cache, p.entries, bytes.Repeat([]byte("v"), size))
		time.Sleep(2 * time.Second)
		after := srv.RSSMiB()
		t.Memory = append(t.Memory, memory{ValueSize: size, Entries: p.entries, RSSMiB: after,
			BytesPerEntry: (after - before) * 1024 * 1024 / float64(p.entries)})
		fmt.Fprintf(os.Stderr, "   %d entries of %d B: RSS %.1f MiB\n", p.entries, size, after)
		srv.Stop()
	}
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
		keys[i] = harness.Key(i)
	}
	value := bytes.Repeat([]byte("v"), size)
	srvs := make([]*harness.Server, len(ts))
	for i, t := range ts {
		srv := t.start()
		defer srv.Stop()
		srvs[i] = srv
		harness.Load(ctx, srv.Addr, p.cache, p.entries, value)
		if p.warm > 0 {
			fmt.Fprintf(os.Stderr, "== %s: warm-up %s\n", t.Name, p.warm)
			harness.Drive(srv.Addr, p.cache, 16, 16, p.warm/2, keys, value, false)
			harness.Drive(srv.Addr, p.cache, 16, 16, p.warm/2, keys, value, true)
		}
	}
	for _, op := range []string{"get", "put"} {
		for _, conns := range p.conns {
			for _, inflight := range p.inflight {
				samples := make([][]harness.Run, len(ts))
				for r := 0; r < p.repeat; r++ {
					for i, srv := range srvs {
						cpu0 := srv.CPUSeconds()
						r := harness.Drive(srv.Addr, p.cache, conns, inflight, p.dur, keys, value, op == "put")
						r.ServerCPUus = (srv.CPUSeconds() - cpu0) * 1e6 / float64(r.Ops)
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
func medianRun(rs []harness.Run) harness.Run {
	s := slices.Clone(rs)
	slices.SortFunc(s, func(a, b harness.Run) int {
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

func ints(s string) []int {
	var out []int
	for _, f := range strings.Split(s, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(f))
		harness.Check(err)
		out = append(out, n)
	}
	return out
}
