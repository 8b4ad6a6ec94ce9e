package main

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/hotgrid/hotgrid/bench/chart"
)

const startup = `{"Title":"Start-up","Unit":"milliseconds","Log":true,"Suffix":"ms",
	"Series":["infinispan","hotgrid"],"Groups":[{"Label":"start-up","Values":[3000,5]}]}`

func TestRun(t *testing.T) {
	dir := t.TempDir()
	want := chart.Chart{Title: "Start-up", Unit: "milliseconds", Log: true, Suffix: "ms",
		Series: []string{"infinispan", "hotgrid"}, Groups: []chart.Group{{Label: "start-up", Values: []float64{3000, 5}}}}
	var wantPNG bytes.Buffer
	if err := want.WritePNG(&wantPNG); err != nil {
		t.Fatal(err)
	}

	fromStdin := filepath.Join(dir, "stdin.png")
	if err := run(strings.NewReader(startup), "", fromStdin); err != nil {
		t.Fatal(err)
	}
	in := filepath.Join(dir, "c.json")
	if err := os.WriteFile(in, []byte(startup), 0o644); err != nil {
		t.Fatal(err)
	}
	fromFile := filepath.Join(dir, "file.png")
	if err := run(strings.NewReader("not read"), in, fromFile); err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{fromStdin, fromFile} {
		got, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got, wantPNG.Bytes()) {
			t.Errorf("%s differs from the chart drawn directly", filepath.Base(p))
		}
	}
}

func TestRunErrors(t *testing.T) {
	dir := t.TempDir()
	for _, tc := range []struct{ name, json, in, out string }{
		{"no -o", startup, "", ""},
		{"missing file", "", filepath.Join(dir, "absent.json"), "x.png"},
		{"syntax", `{"Title":`, "", "x.png"},
		{"unknown field", `{"Series":["a"],"Group":[{"Label":"g","Values":[1]}]}`, "", "x.png"},
		{"two charts", startup + startup, "", "x.png"},
		{"invalid chart", `{"Series":["a"],"Groups":[{"Label":"g","Values":[1,2]}]}`, "", "x.png"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			out := tc.out
			if out != "" {
				out = filepath.Join(dir, out)
			}
			if err := run(strings.NewReader(tc.json), tc.in, out); err == nil {
				t.Fatal("no error")
			}
			if out != "" {
				if _, err := os.Stat(out); !errors.Is(err, os.ErrNotExist) {
					t.Fatalf("%s written despite the error", out)
				}
			}
		})
	}
}
