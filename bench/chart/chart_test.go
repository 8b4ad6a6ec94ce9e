package chart

import (
	"bytes"
	"image/color"
	"path/filepath"
	"testing"
)

func sample() *Chart {
	return &Chart{
		Title: "GET requests/s, 50 clients", Unit: "requests/s", Series: []string{"redis-server", "hotgrid"},
		Groups: []Group{{"pipeline 1", []float64{84000, 54000}}, {"pipeline 16", []float64{570000, 566000}}},
	}
}

func TestErrors(t *testing.T) {
	for name, c := range map[string]*Chart{
		"empty":           {},
		"length":          {Series: []string{"a", "b"}, Groups: []Group{{"g", []float64{1}}}},
		"negative":        {Series: []string{"a"}, Groups: []Group{{"g", []float64{-1}}}},
		"zero on log":     {Series: []string{"a"}, Groups: []Group{{"g", []float64{0}}}, Log: true},
		"too many series": {Series: []string{"1", "2", "3", "4", "5", "6", "7"}, Groups: []Group{{"g", make([]float64, 7)}}},
	} {
		if _, err := c.Image(); err == nil {
			t.Errorf("%s: no error", name)
		}
	}
}

// countColour counts the pixels of one series' colour in a row band.
func countColour(t *testing.T, c *Chart, series int) []int {
	img, err := c.Image()
	if err != nil {
		t.Fatal(err)
	}
	want := palette[series]
	var rows []int
	b := img.Bounds()
	for y := b.Min.Y; y < b.Max.Y; y++ {
		n := 0
		for x := b.Min.X + margin + labelWidth; x < b.Max.X; x++ {
			if img.At(x, y) == color.Color(want) {
				n++
			}
		}
		if n > 0 {
			rows = append(rows, n)
		}
	}
	return rows
}

func TestBarsScale(t *testing.T) {
	c := &Chart{Series: []string{"a"}, Unit: "x", Groups: []Group{{"small", []float64{10}}, {"large", []float64{40}}}}
	rows := countColour(t, c, 0)
	if len(rows) < 2*barHeight {
		t.Fatalf("found %d bar rows", len(rows))
	}
	small, large := rows[len(rows)-2*barHeight], rows[len(rows)-1]
	if large < 3*small || large > 5*small {
		t.Fatalf("bar for 40 is %d px, for 10 is %d px", large, small)
	}
	c.Log = true
	rows = countColour(t, c, 0)
	if small, large := rows[len(rows)-2*barHeight], rows[len(rows)-1]; large <= small {
		t.Fatalf("log scale: %d vs %d", large, small)
	}
}

func TestDeterministic(t *testing.T) {
	var a, b bytes.Buffer
	if err := sample().WritePNG(&a); err != nil {
		t.Fatal(err)
	}
	sample().WritePNG(&b)
	if !bytes.Equal(a.Bytes(), b.Bytes()) {
		t.Fatal("same chart, different bytes")
	}
	if err := sample().SavePNG(filepath.Join(t.TempDir(), "c.png")); err != nil {
		t.Fatal(err)
	}
}

func TestHuman(t *testing.T) {
	for v, want := range map[float64]string{1234567: "1.23M", 34000: "34k", 1500: "1.5k", 42: "42", 5.1: "5.1", 0.42: "0.42"} {
		if got := Human(v); got != want {
			t.Errorf("Human(%v) = %s, want %s", v, got, want)
		}
	}
}
