package chart

import (
	"bytes"
	"errors"
	"image"
	"image/png"
	"math"
	"os"
	"path/filepath"
	"testing"
)

func sample() *Chart {
	return &Chart{
		Title:  "redis-benchmark, 50 clients, 32-byte values",
		Unit:   "requests/s",
		Series: []string{"redis-server", "hotgrid"},
		Groups: []Group{
			{"GET P1", []float64{84000, 54000}},
			{"GET P16", []float64{570000, 566000}},
			{"SET P1", []float64{81000, 52000}},
			{"SET P64", []float64{1210000, 980000}},
		},
	}
}

func TestValidate(t *testing.T) {
	one := []string{"a"}
	for _, tc := range []struct {
		name string
		c    Chart
	}{
		{"empty", Chart{}},
		{"no series", Chart{Groups: []Group{{"g", nil}}}},
		{"no groups", Chart{Series: one}},
		{"too few values", Chart{Series: []string{"a", "b"}, Groups: []Group{{"g", []float64{1}}}}},
		{"too many values", Chart{Series: one, Groups: []Group{{"g", []float64{1, 2}}}}},
		{"negative", Chart{Series: one, Groups: []Group{{"g", []float64{-1}}}}},
		{"NaN", Chart{Series: one, Groups: []Group{{"g", []float64{math.NaN()}}}}},
		{"infinite", Chart{Series: one, Groups: []Group{{"g", []float64{math.Inf(1)}}}}},
		{"zero on log", Chart{Series: one, Groups: []Group{{"g", []float64{0}}}, Log: true}},
		{"negative on log", Chart{Series: one, Groups: []Group{{"g", []float64{-5}}}, Log: true}},
		{"too many series", Chart{Series: make([]string, MaxSeries+1), Groups: []Group{{"g", make([]float64, MaxSeries+1)}}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if err := tc.c.Validate(); !errors.Is(err, ErrInvalid) {
				t.Fatalf("Validate = %v, want ErrInvalid", err)
			}
			if err := tc.c.WritePNG(&bytes.Buffer{}); !errors.Is(err, ErrInvalid) {
				t.Fatalf("WritePNG = %v, want ErrInvalid", err)
			}
		})
	}
	if err := sample().Validate(); err != nil {
		t.Fatal(err)
	}
	zero := Chart{Series: one, Groups: []Group{{"g", []float64{0}}}}
	if _, err := zero.Image(); err != nil {
		t.Fatalf("all zero, linear: %v", err)
	}
}

func TestSavePNGInvalidLeavesNoFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "c.png")
	if err := (&Chart{}).SavePNG(path); !errors.Is(err, ErrInvalid) {
		t.Fatalf("SavePNG = %v, want ErrInvalid", err)
	}
	if _, err := os.Stat(path); !os.IsNotExist(err) {
		t.Fatalf("stat after failed SavePNG: %v", err)
	}
}

func TestDimensions(t *testing.T) {
	heights := make([]int, 4)
	for n := range heights {
		c := sample()
		c.Groups = c.Groups[:n+1]
		var b bytes.Buffer
		if err := c.WritePNG(&b); err != nil {
			t.Fatal(err)
		}
		img, err := png.Decode(&b)
		if err != nil {
			t.Fatal(err)
		}
		if w := img.Bounds().Dx(); w != Width {
			t.Fatalf("%d groups: width %d, want %d", n+1, w, Width)
		}
		heights[n] = img.Bounds().Dy()
	}
	per := 2*barHeight + barGap + groupGap
	for n := 1; n < len(heights); n++ {
		if d := heights[n] - heights[n-1]; d != per {
			t.Errorf("group %d adds %d px, want %d", n+1, d, per)
		}
	}
	if h := heights[3]; h < 300 || h > 450 {
		t.Errorf("four groups of two: height %d, want about 400", h)
	}
}

// bars returns the length in pixels of each bar of series s, top to bottom:
// every block of barHeight consecutive rows holding that colour, measured by
// its longest horizontal run. Legend swatches are shorter than a bar.
func bars(t *testing.T, c *Chart, s int) []int {
	t.Helper()
	img, err := c.Image()
	if err != nil {
		t.Fatal(err)
	}
	var out []int
	rows, longest := 0, 0
	b := img.Bounds()
	for y := b.Min.Y; y <= b.Max.Y; y++ {
		run := 0
		if y < b.Max.Y {
			run = longestRun(img, y, s)
		}
		if run > 0 {
			rows, longest = rows+1, max(longest, run)
			continue
		}
		if rows == barHeight {
			out = append(out, longest)
		}
		rows, longest = 0, 0
	}
	return out
}

func longestRun(img *image.RGBA, y, s int) int {
	best, cur := 0, 0
	for x := img.Bounds().Min.X; x < img.Bounds().Max.X; x++ {
		if img.RGBAAt(x, y) == palette[s] {
			cur++
			best = max(best, cur)
		} else {
			cur = 0
		}
	}
	return best
}

func TestBarLengths(t *testing.T) {
	c := &Chart{Series: []string{"a", "b"}, Unit: "x", Groups: []Group{
		{"g1", []float64{10, 20}},
		{"g2", []float64{40, 5}},
		{"g3", []float64{0, 40}},
	}}
	a, b := bars(t, c, 0), bars(t, c, 1)
	if len(a) != 2 || len(b) != 3 { // a zero value draws no bar
		t.Fatalf("found %d and %d bars, want 2 and 3", len(a), len(b))
	}
	near := func(got, want int) bool { return got >= want-1 && got <= want+1 }
	if !near(a[1], 4*a[0]) || !near(b[0], 2*a[0]) || !near(b[1], a[0]/2) || b[2] != a[1] {
		t.Fatalf("linear bars for 10, 40 | 20, 5, 40 are %v | %v px: not proportional", a, b)
	}

	c = &Chart{Series: []string{"a"}, Log: true, Groups: []Group{
		{"10", []float64{10}}, {"100", []float64{100}}, {"1000", []float64{1000}}, {"5000", []float64{5000}},
	}}
	l := bars(t, c, 0)
	if len(l) != 4 {
		t.Fatalf("found %d bars, want 4", len(l))
	}
	if l[0] <= 0 || !near(l[2]-l[1], l[1]-l[0]) || l[3] <= l[2] {
		t.Fatalf("log bars for 10, 100, 1000, 5000 are %v px: decades not equal", l)
	}
}

func TestDeterministic(t *testing.T) {
	for _, log := range []bool{false, true} {
		var out [2]bytes.Buffer
		for i := range out {
			c := sample() // a fresh chart each time: nothing may carry over
			c.Log = log
			if err := c.WritePNG(&out[i]); err != nil {
				t.Fatal(err)
			}
		}
		if !bytes.Equal(out[0].Bytes(), out[1].Bytes()) {
			t.Fatalf("log=%v: same chart, different bytes", log)
		}
	}
}

func TestSavePNG(t *testing.T) {
	path := filepath.Join(t.TempDir(), "c.png")
	if err := sample().SavePNG(path); err != nil {
		t.Fatal(err)
	}
	got, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var want bytes.Buffer
	if err := sample().WritePNG(&want); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want.Bytes()) {
		t.Fatal("file differs from WritePNG")
	}
}

func TestHuman(t *testing.T) {
	for _, tc := range []struct {
		v           float64
		human, tick string
	}{
		{1234567, "1.23M", "1.23M"},
		{1e6, "1.00M", "1M"},
		{2.5e9, "2.5G", "2.5G"},
		{340000, "340k", "340k"},
		{34000, "34k", "34k"},
		{1500, "1.5k", "1.5k"},
		{2000, "2.0k", "2k"},
		{42, "42", "42"},
		{5.1, "5.1", "5.1"},
		{1, "1.0", "1"},
		{0.42, "0.42", "0.42"},
		{0.001, "0.001", "0.001"},
		{0, "0", "0"},
	} {
		if got := Human(tc.v); got != tc.human {
			t.Errorf("Human(%v) = %s, want %s", tc.v, got, tc.human)
		}
		if got := tickLabel(tc.v); got != tc.tick {
			t.Errorf("tickLabel(%v) = %s, want %s", tc.v, got, tc.tick)
		}
	}
	if got := HumanUnit("ms")(5.1); got != "5.1 ms" {
		t.Errorf(`HumanUnit("ms")(5.1) = %s`, got)
	}
}

func TestTicks(t *testing.T) {
	for _, tc := range []struct {
		log    bool
		values []float64
		want   []float64
	}{
		{false, []float64{40}, []float64{0, 10, 20, 30, 40}},
		{false, []float64{570000}, []float64{0, 200000, 400000, 600000}},
		{false, []float64{1210000, 980000}, []float64{0, 250000, 500000, 750000, 1000000, 1250000}},
		{false, []float64{0}, []float64{0, 0.2, 0.4, 0.6, 0.8, 1}},
		{true, []float64{8.5, 1809}, []float64{1, 10, 100, 1000, 10000}},
		{true, []float64{100, 250}, []float64{10, 100, 1000}},
		{true, []float64{0.01, 1e9}, []float64{0.001, 1, 1000, 1e6, 1e9}}, // 12 decades, a tick every 3
	} {
		c := &Chart{Log: tc.log, Series: []string{"a"}}
		for _, v := range tc.values {
			c.Groups = append(c.Groups, Group{"g", []float64{v}})
		}
		got := newAxis(c).ticks()
		ok := len(got) == len(tc.want)
		for i := 0; ok && i < len(got); i++ {
			ok = math.Abs(got[i]-tc.want[i]) <= 1e-9*math.Max(1, tc.want[i])
		}
		if !ok {
			t.Errorf("log=%v %v: ticks %v, want %v", tc.log, tc.values, got, tc.want)
		}
	}
}

func TestClip(t *testing.T) {
	if got := clip("short", 100); got != "short" {
		t.Errorf("clip kept %q", got)
	}
	got := clip("a label far too long for its column", 70)
	if textWidth(got) > 70 || got != "a label..." {
		t.Errorf("clip = %q (%d px)", got, textWidth(got))
	}
}
