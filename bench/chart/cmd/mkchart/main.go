// Command mkchart writes a chart.Chart given as JSON (on stdin, or in the
// file named by -in) to a PNG file, for shell benchmark scripts.
//
//	echo '{"Title":"…","Unit":"ops/s","Series":["a","b"],"Groups":[{"Label":"x","Values":[1,2]}]}' | mkchart -o x.png
package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"

	"github.com/hotgrid/hotgrid/bench/chart"
)

func main() {
	in := flag.String("in", "", "JSON file (default stdin)")
	out := flag.String("o", "", "PNG file to write")
	flag.Parse()
	if err := run(*in, *out); err != nil {
		fmt.Fprintln(os.Stderr, "mkchart:", err)
		os.Exit(1)
	}
}

func run(in, out string) error {
	if out == "" {
		return fmt.Errorf("-o is required")
	}
	var r io.Reader = os.Stdin
	if in != "" {
		f, err := os.Open(in)
		if err != nil {
			return err
		}
		defer f.Close()
		r = f
	}
	var c chart.Chart
	if err := json.NewDecoder(r).Decode(&c); err != nil {
		return fmt.Errorf("chart JSON: %w", err)
	}
	return c.SavePNG(out)
}
