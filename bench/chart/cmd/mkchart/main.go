// Command mkchart draws one chart.Chart, given as JSON on stdin or in the
// file named by -in, as a PNG file, for the shell benchmark scripts:
//
//	echo '{"Title":"GET","Unit":"requests/s","Series":["redis-server","hotgrid"],
//	       "Groups":[{"Label":"P1","Values":[84000,54000]}]}' | mkchart -o get.png
//
// The JSON fields are those of chart.Chart: Title, Unit, Series, Groups
// (Label, Values), Log and Suffix. Unknown fields are an error, so a typo
// does not silently drop data.
package main

import (
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"

	"github.com/hotgrid/hotgrid/bench/chart"
)

func main() {
	in := flag.String("in", "", "JSON file to read (default stdin)")
	out := flag.String("o", "", "PNG file to write (required)")
	flag.Parse()
	if err := run(os.Stdin, *in, *out); err != nil {
		fmt.Fprintln(os.Stderr, "mkchart:", err)
		os.Exit(1)
	}
}

// run reads the chart from the file in, or from stdin when in is empty, and
// writes it to out.
func run(stdin io.Reader, in, out string) error {
	if out == "" {
		return errors.New("-o is required")
	}
	r := stdin
	if in != "" {
		f, err := os.Open(in)
		if err != nil {
			return err
		}
		defer f.Close()
		r = f
	}
	c, err := decode(r)
	if err != nil {
		return err
	}
	return c.SavePNG(out)
}

// decode reads exactly one chart.
func decode(r io.Reader) (*chart.Chart, error) {
	dec := json.NewDecoder(r)
	dec.DisallowUnknownFields()
	var c chart.Chart
	if err := dec.Decode(&c); err != nil {
		return nil, fmt.Errorf("chart JSON: %w", err)
	}
	if dec.More() {
		return nil, errors.New("chart JSON: more than one value; mkchart draws one chart")
	}
	return &c, nil
}
