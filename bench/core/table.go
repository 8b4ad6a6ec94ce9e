package main

import (
	"fmt"
	"io"
)

// printTable writes the results as a Markdown table: one row per
// measurement, one column per server and, with two servers, the ratio
// hotgrid / peer.
func printTable(w io.Writer, ts []*target, p plan) {
	fmt.Fprint(w, "| measurement |")
	for _, t := range ts {
		fmt.Fprintf(w, " %s |", t.Name)
	}
	sep := "|---|"
	if len(ts) == 2 {
		fmt.Fprint(w, " hotgrid / infinispan |")
		sep += "---|"
	}
	for range ts {
		sep += "---|"
	}
	fmt.Fprintln(w)
	fmt.Fprintln(w, sep)

	row := func(name, unit string, get func(t *target) float64) {
		fmt.Fprintf(w, "| %s |", name)
		for _, t := range ts {
			fmt.Fprintf(w, " %s |", format(get(t), unit))
		}
		if len(ts) == 2 {
			if a, b := get(ts[1]), get(ts[0]); b != 0 {
				fmt.Fprintf(w, " %s |", ratio(a/b))
			} else {
				fmt.Fprint(w, " – |")
			}
		}
		fmt.Fprintln(w)
	}
	row(fmt.Sprintf("exec to first served request, median of %d", p.runs), "ms", func(t *target) float64 { return t.StartupMS })
	row("RSS at first served request", "MiB", func(t *target) float64 { return t.RSSStartMiB })
	row("RSS idle (2 s after start, empty)", "MiB", func(t *target) float64 { return t.RSSIdleMiB })
	row("… of which anonymous (heap, stacks; not the executable's pages)", "MiB", func(t *target) float64 { return t.AnonIdleMiB })
	for i, size := range p.sizes {
		row(fmt.Sprintf("RSS with %d entries, %d-byte values", p.entries, size), "MiB",
			func(t *target) float64 { return t.Memory[i].RSSMiB })
		row(fmt.Sprintf("bytes per entry (16 + %d payload)", size), "B",
			func(t *target) float64 { return t.Memory[i].BytesPerEntry })
	}
	for i, r := range ts[0].Runs {
		label := fmt.Sprintf("%s, %d conn × %d in flight", r.Op, r.Conns, r.Inflight)
		row(label+": throughput", "ops/s", func(t *target) float64 { return t.Runs[i].OpsPerS })
		row(label+": p50 latency", "µs", func(t *target) float64 { return t.Runs[i].P50us })
		row(label+": p99 latency", "µs", func(t *target) float64 { return t.Runs[i].P99us })
		row(label+": server CPU per op", "µs", func(t *target) float64 { return t.Runs[i].ServerCPUus })
	}
}

func format(v float64, unit string) string {
	switch unit {
	case "ms":
		return fmt.Sprintf("%.1f ms", v)
	case "MiB":
		return fmt.Sprintf("%.1f MiB", v)
	case "B":
		return fmt.Sprintf("%.0f B", v)
	case "µs":
		if v < 10 {
			return fmt.Sprintf("%.1f µs", v)
		}
		return fmt.Sprintf("%.0f µs", v)
	default:
		return fmt.Sprintf("%.0f %s", v, unit)
	}
}

func ratio(r float64) string {
	switch {
	case r < 0.01:
		return fmt.Sprintf("%.4f", r)
	case r < 0.1:
		return fmt.Sprintf("%.3f", r)
	default:
		return fmt.Sprintf("%.2f", r)
	}
}
