package chart_test

import (
	"fmt"
	"image/png"
	"log"
	"os"
	"path/filepath"

	"github.com/hotgrid/hotgrid/bench/chart"
)

// A start-up comparison spans three orders of magnitude, so it uses a
// logarithmic axis and labels each bar in milliseconds.
func ExampleChart_SavePNG() {
	dir, err := os.MkdirTemp("", "chart")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)

	c := &chart.Chart{
		Title:  "Exec to first served request (median)",
		Unit:   "milliseconds",
		Series: []string{"infinispan", "hotgrid"},
		Groups: []chart.Group{{Label: "start-up", Values: []float64{3000, 5}}},
		Log:    true,
		Format: chart.HumanUnit("ms"),
	}
	path := filepath.Join(dir, "startup.png")
	if err := c.SavePNG(path); err != nil {
		log.Fatal(err)
	}

	f, err := os.Open(path)
	if err != nil {
		log.Fatal(err)
	}
	defer f.Close()
	cfg, err := png.DecodeConfig(f)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Printf("%dx%d\n", cfg.Width, cfg.Height)
	// Output: 800x158
}
