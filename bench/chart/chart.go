// Package chart draws the grouped bar charts of docs/benchmarks.md as PNG:
// one group per measurement, one horizontal bar per server, each bar labelled
// with its value, under a value axis with a few ticks. It uses only the
// standard image packages and x/image's built-in bitmap font, so the same
// chart always encodes to the same bytes.
package chart

import (
	"bytes"
	"errors"
	"fmt"
	"image"
	"image/color"
	"image/draw"
	"image/png"
	"io"
	"math"
	"os"
	"strconv"
	"strings"

	"golang.org/x/image/font"
	"golang.org/x/image/font/basicfont"
	"golang.org/x/image/math/fixed"
)

// Chart is a horizontal grouped bar chart. Its exported fields other than
// Format round-trip through encoding/json, which is how cmd/mkchart reads it.
type Chart struct {
	Title  string
	Unit   string   // names the value axis, e.g. "requests/s"
	Series []string // legend, one colour each, at most MaxSeries
	Groups []Group
	// Log draws the value axis logarithmically, for values that differ by
	// orders of magnitude (start-up in ms: 5 against 3000). Values must then
	// be positive.
	Log bool
	// Suffix is appended, after a space, to each bar's label when Format is
	// nil: "ms" labels 5.1 as "5.1 ms".
	Suffix string
	// Format renders a bar's value as its label; nil uses Human (and Suffix).
	Format func(float64) string `json:"-"`
}

// Group is one measurement: a label and one value per series, in the order
// of Chart.Series.
type Group struct {
	Label  string
	Values []float64
}

// ErrInvalid is wrapped by the errors for charts that cannot be drawn.
var ErrInvalid = errors.New("chart: invalid chart")

// Width is the width of every chart, in pixels; the height follows from the
// number of bars (about 400 for four groups of two).
const Width = 800

// MaxSeries is the number of distinct colours, hence of series.
const MaxSeries = 6

// palette is Okabe and Ito's colour-blind safe set, without its yellow and
// black (too faint and too close to the text on white).
var palette = [MaxSeries]color.RGBA{
	{0xE6, 0x9F, 0x00, 0xFF}, // orange
	{0x00, 0x72, 0xB2, 0xFF}, // blue
	{0x00, 0x9E, 0x73, 0xFF}, // bluish green
	{0xCC, 0x79, 0xA7, 0xFF}, // reddish purple
	{0x56, 0xB4, 0xE9, 0xFF}, // sky blue
	{0xD5, 0x5E, 0x00, 0xFF}, // vermilion
}

var (
	black    = color.RGBA{0x00, 0x00, 0x00, 0xFF}
	dark     = color.RGBA{0x22, 0x22, 0x22, 0xFF}
	mid      = color.RGBA{0x55, 0x55, 0x55, 0xFF}
	axisGrey = color.RGBA{0x88, 0x88, 0x88, 0xFF}
	gridGrey = color.RGBA{0xE4, 0xE4, 0xE4, 0xFF}
)

// Layout, in pixels. basicfont.Face7x13 is 7 px a character; capitals sit
// between 9 and 2 px above the baseline.
const (
	margin     = 16
	lineHeight = 16
	swatch     = 10 // legend square; not barHeight, so tests can tell them apart
	barHeight  = 16
	barGap     = 2
	groupGap   = 14
	maxLabelW  = 240 // group labels longer than this are cut
	maxValueW  = 160 // room right of the longest bar for its label
	tickLen    = 4
	maxTicks   = 6
)

// Human formats v compactly for a bar or tick label: 1.23M, 340k, 1.5k, 42,
// 5.1, 0.42.
func Human(v float64) string {
	a := math.Abs(v)
	switch {
	case a >= 1e9:
		return fmt.Sprintf("%.1fG", v/1e9)
	case a >= 1e6:
		return fmt.Sprintf("%.2fM", v/1e6)
	case a >= 1e4:
		return fmt.Sprintf("%.0fk", v/1e3)
	case a >= 1e3:
		return fmt.Sprintf("%.1fk", v/1e3)
	case a >= 10:
		return fmt.Sprintf("%.0f", v)
	case a >= 1:
		return fmt.Sprintf("%.1f", v)
	default:
		return strconv.FormatFloat(v, 'g', 2, 64)
	}
}

// HumanUnit returns a Format that writes Human(v), a space and unit:
// HumanUnit("ms")(5.1) is "5.1 ms".
func HumanUnit(unit string) func(float64) string {
	return func(v float64) string { return Human(v) + " " + unit }
}

// Validate reports why the chart cannot be drawn, or nil.
func (c *Chart) Validate() error {
	switch {
	case len(c.Series) == 0:
		return fmt.Errorf("%w: no series", ErrInvalid)
	case len(c.Series) > MaxSeries:
		return fmt.Errorf("%w: %d series, at most %d", ErrInvalid, len(c.Series), MaxSeries)
	case len(c.Groups) == 0:
		return fmt.Errorf("%w: no groups", ErrInvalid)
	}
	for _, g := range c.Groups {
		if len(g.Values) != len(c.Series) {
			return fmt.Errorf("%w: group %q has %d values for %d series", ErrInvalid, g.Label, len(g.Values), len(c.Series))
		}
		for i, v := range g.Values {
			switch {
			case math.IsNaN(v) || math.IsInf(v, 0):
				return fmt.Errorf("%w: group %q, series %q: %v", ErrInvalid, g.Label, c.Series[i], v)
			case v < 0:
				return fmt.Errorf("%w: group %q, series %q: negative value %v", ErrInvalid, g.Label, c.Series[i], v)
			case c.Log && v == 0:
				return fmt.Errorf("%w: group %q, series %q: 0 on a logarithmic axis", ErrInvalid, g.Label, c.Series[i])
			}
		}
	}
	return nil
}

// Image draws the chart.
func (c *Chart) Image() (*image.RGBA, error) {
	if err := c.Validate(); err != nil {
		return nil, err
	}
	format := c.Format
	if format == nil {
		format = Human
		if c.Suffix != "" {
			format = HumanUnit(c.Suffix)
		}
	}

	// Columns: group labels, plot, room for the longest value label.
	labelW, valueW := 0, 0
	for _, g := range c.Groups {
		labelW = max(labelW, textWidth(g.Label))
		for _, v := range g.Values {
			valueW = max(valueW, textWidth(format(v)))
		}
	}
	labelW = min(max(labelW, 40), maxLabelW)
	valueW = min(max(valueW+6, 30), maxValueW)
	plotX := margin + labelW + 10
	plotW := Width - plotX - valueW - margin
	ax := newAxis(c)

	// Rows: title, legend (wrapping), bars, axis, unit.
	type item struct{ x, y int }
	legend := make([]item, len(c.Series))
	x, y := margin, margin+lineHeight+4
	for i, s := range c.Series {
		w := swatch + 5 + textWidth(s)
		if x > margin && x+w > Width-margin {
			x, y = margin, y+lineHeight
		}
		legend[i] = item{x, y}
		x += w + 18
	}
	top := y + lineHeight + 10
	groupH := len(c.Series)*(barHeight+barGap) - barGap
	axisY := top + len(c.Groups)*(groupH+groupGap) - groupGap + 6
	height := axisY + tickLen + 2*lineHeight + 4 + margin

	img := image.NewRGBA(image.Rect(0, 0, Width, height))
	draw.Draw(img, img.Bounds(), image.White, image.Point{}, draw.Src)

	// Bold title: the bitmap font has no bold face, so draw it twice.
	title := clip(c.Title, Width-2*margin-1)
	text(img, margin, margin+11, title, black)
	text(img, margin+1, margin+11, title, black)
	for i, s := range c.Series {
		fill(img, legend[i].x, legend[i].y+2, swatch, swatch, palette[i])
		text(img, legend[i].x+swatch+5, legend[i].y+11, s, dark)
	}

	// Grid and ticks first, so bars cover the grid.
	for _, t := range ax.ticks() {
		tx := plotX + ax.scale(t, plotW)
		fill(img, tx, top-4, 1, axisY-top+4, gridGrey)
		fill(img, tx, axisY, 1, tickLen, axisGrey)
		l := tickLabel(t)
		lx := min(max(tx-textWidth(l)/2, 0), Width-textWidth(l))
		text(img, lx, axisY+tickLen+12, l, mid)
	}
	fill(img, plotX, axisY, plotW+1, 1, axisGrey)
	fill(img, plotX-1, top-4, 1, axisY-top+5, axisGrey)

	y = top
	for _, g := range c.Groups {
		text(img, margin, y+groupH/2+4, clip(g.Label, labelW), dark)
		for i, v := range g.Values {
			w := ax.scale(v, plotW)
			if v > 0 {
				w = max(w, 1)
			}
			fill(img, plotX, y, w, barHeight, palette[i])
			text(img, plotX+w+4, y+12, format(v), dark)
			y += barHeight + barGap
		}
		y += groupGap - barGap
	}

	unit := c.Unit
	if c.Log {
		unit = strings.TrimSpace(unit + " (logarithmic scale)")
	}
	unit = clip(unit, plotW)
	text(img, plotX+(plotW-textWidth(unit))/2, axisY+tickLen+12+lineHeight+2, unit, mid)
	return img, nil
}

// WritePNG encodes the chart as PNG to w.
func (c *Chart) WritePNG(w io.Writer) error {
	img, err := c.Image()
	if err != nil {
		return err
	}
	return png.Encode(w, img)
}

// SavePNG writes the chart as a PNG file at path. An invalid chart leaves no
// file behind.
func (c *Chart) SavePNG(path string) error {
	var b bytes.Buffer
	if err := c.WritePNG(&b); err != nil {
		return fmt.Errorf("chart %s: %w", path, err)
	}
	return os.WriteFile(path, b.Bytes(), 0o644)
}

// axis maps values to bar lengths: linear from 0 to a round maximum, or
// logarithmic over whole decades.
type axis struct {
	log    bool
	lo, hi float64 // linear: values; log: exponents of 10
	step   float64 // between ticks, in the same terms as lo and hi
}

func newAxis(c *Chart) axis {
	lo, hi := math.Inf(1), 0.0
	for _, g := range c.Groups {
		for _, v := range g.Values {
			lo, hi = min(lo, v), max(hi, v)
		}
	}
	if !c.Log {
		if hi == 0 {
			hi = 1
		}
		step := niceStep(hi / (maxTicks - 1))
		return axis{lo: 0, hi: math.Ceil(hi/step-1e-9) * step, step: step}
	}
	// Start a decade lower when the smallest value sits just above a power of
	// ten, so its bar stays visible.
	a := axis{log: true, lo: math.Floor(math.Log10(lo) - 0.2), hi: math.Ceil(math.Log10(hi))}
	a.hi = max(a.hi, a.lo+1)
	a.step = math.Ceil((a.hi - a.lo) / (maxTicks - 1))
	a.hi = a.lo + math.Ceil((a.hi-a.lo)/a.step)*a.step
	return a
}

// scale returns the length in pixels of a bar for v on a plot w wide.
func (a axis) scale(v float64, w int) int {
	if a.log {
		v = math.Log10(v)
	}
	return int(math.Round(float64(w) * (v - a.lo) / (a.hi - a.lo)))
}

// ticks returns the values at which the axis is marked.
func (a axis) ticks() []float64 {
	var t []float64
	for i := 0; ; i++ {
		v := a.lo + float64(i)*a.step
		if v > a.hi+a.step/2 {
			return t
		}
		if a.log {
			v = math.Pow(10, v)
		}
		t = append(t, v)
	}
}

// niceStep returns the smallest of 1, 2, 2.5 or 5 times a power of ten that
// is at least raw.
func niceStep(raw float64) float64 {
	mag := math.Pow(10, math.Floor(math.Log10(raw)))
	for _, m := range []float64{1, 2, 2.5, 5} {
		if m*mag >= raw*(1-1e-9) {
			return m * mag
		}
	}
	return 10 * mag
}

// tickLabel is Human without trailing zeros: 1M, not 1.00M.
func tickLabel(v float64) string {
	s := Human(v)
	i := strings.IndexByte(s, '.')
	if i < 0 {
		return s
	}
	j := i + 1
	for j < len(s) && s[j] >= '0' && s[j] <= '9' {
		j++
	}
	return strings.TrimSuffix(strings.TrimRight(s[:j], "0"), ".") + s[j:]
}

func fill(img *image.RGBA, x, y, w, h int, c color.RGBA) {
	draw.Draw(img, image.Rect(x, y, x+w, y+h), &image.Uniform{c}, image.Point{}, draw.Src)
}

// text draws s with its baseline at y.
func text(img *image.RGBA, x, y int, s string, c color.RGBA) {
	d := font.Drawer{Dst: img, Src: &image.Uniform{c}, Face: basicfont.Face7x13, Dot: fixed.P(x, y)}
	d.DrawString(s)
}

func textWidth(s string) int { return font.MeasureString(basicfont.Face7x13, s).Round() }

// clip shortens s to at most w pixels, ending it with "..." when cut (the
// bitmap font has no ellipsis character).
func clip(s string, w int) string {
	if textWidth(s) <= w {
		return s
	}
	r := []rune(s)
	for len(r) > 0 && textWidth(string(r)+"...") > w {
		r = r[:len(r)-1]
	}
	return string(r) + "..."
}
