package main

import (
	"fmt"
	"path/filepath"

	"github.com/hotgrid/hotgrid/bench/chart"
)

// writeCharts draws the comparison as PNG files in dir.
func writeCharts(dir string, ts []*target, p plan) error {
	series := make([]string, len(ts))
	for i, t := range ts {
		series[i] = t.Name
	}
	group := func(label string, get func(*target) float64) chart.Group {
		g := chart.Group{Label: label}
		for _, t := range ts {
			g.Values = append(g.Values, get(t))
		}
		return g
	}
	ms := func(v float64) string { return fmt.Sprintf("%.1f ms", v) }
	mib := func(v float64) string { return fmt.Sprintf("%.0f MiB", v) }
	charts := map[string]*chart.Chart{
		"core-startup.png": {Title: "Exec to first served Hot Rod request (median)", Unit: "milliseconds", Log: true,
			Series: series, Format: ms, Groups: []chart.Group{group("start-up", func(t *target) float64 { return t.StartupMS })}},
	}
	mem := &chart.Chart{Title: "Resident memory", Unit: "MiB", Series: series, Format: mib, Groups: []chart.Group{
		group("idle (RSS)", func(t *target) float64 { return t.RSSIdleMiB }),
		group("idle (anonymous)", func(t *target) float64 { return t.AnonIdleMiB }),
	}}
	for i, size := range p.sizes {
		mem.Groups = append(mem.Groups, group(fmt.Sprintf("%dk entries x %d B", p.entries/1000, size),
			func(t *target) float64 { return t.Memory[i].RSSMiB }))
	}
	charts["core-memory.png"] = mem
	thr := &chart.Chart{Title: "Hot Rod throughput (same Go client for both)", Unit: "operations/s", Series: series}
	lat := &chart.Chart{Title: "Hot Rod p99 latency", Unit: "microseconds", Log: true, Series: series}
	for i, r := range ts[0].Runs {
		label := fmt.Sprintf("%s %d conn x %d", r.Op, r.Conns, r.Inflight)
		thr.Groups = append(thr.Groups, group(label, func(t *target) float64 { return t.Runs[i].OpsPerS }))
		lat.Groups = append(lat.Groups, group(label, func(t *target) float64 { return max(t.Runs[i].P99us, 1) }))
	}
	charts["core-throughput.png"] = thr
	charts["core-latency.png"] = lat
	for name, c := range charts {
		if err := c.SavePNG(filepath.Join(dir, name)); err != nil {
			return err
		}
	}
	return nil
}
