// Package chart draws the grouped bar charts of docs/benchmarks.md as PNG:
// one group per measurement, one bar per server, each bar labelled with its
// value. It uses only the standard image packages and x/image's built-in
// bitmap font, so charts are reproducible byte for byte.
package chart

import (
	"errors"
	"fmt"
	"image"
	"image/color"
	"image/draw"
	"image/png"
	"io"
	"math"
	"os"
	"strings"

	"golang.org/x/image/font"
	"golang.org/x/image/font/basicfont"
	"golang.org/x/image/math/fixed"
)

// Chart is a horizontal grouped bar chart.
type Chart struct {
	Title  string
	Unit   string   // shown on the value axis, e.g. "ops/s"
	Series []string // legend, one colour each
	Groups []Group
	// Log draws the value axis logarithmically (for values that differ by
	// orders of magnitude, like start-up times).
	Log bool
	// Format renders a value for its label; nil uses Human.
	Format func(float64) string `json:"-"`
}

// Group is one measurement: a label and one value per series.
type Group struct {
	Label  string
	Values []float64
}

// palette is colour-blind friendly (Okabe–Ito).
var palette = []color.RGBA{
	{0xE6, 0x9F, 0x00, 0xFF}, // orange
	{0x00, 0x72, 0xB2, 0xFF}, // blue
	{0x00, 0x9E, 0x73, 0xFF}, // green
	{0xCC, 0x79, 0xA7, 0xFF}, // purple
	{0x56, 0xB4, 0xE9, 0xFF}, // sky
	{0xD5, 0x5E, 0x00, 0xFF}, // vermilion
}

// Layout constants, in pixels.
const (
	width      = 900
	margin     = 12
	labelWidth = 260 // group labels on the left
	valueRoom  = 80  // after the longest bar, for its label
	barHeight  = 16
	barGap     = 3
	groupGap   = 12
	lineHeight = 16
)

// Human formats v compactly: 1.2M, 340k, 5.1, 0.42.
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
		return fmt.Sprintf("%.2f", v)
	}
}

func (c *Chart) validate() error {
	if len(c.Series) == 0 || len(c.Groups) == 0 {
		return errors.New("chart: no series or no groups")
	}
	if len(c.Series) > len(palette) {
		return fmt.Errorf("chart: %d series, at most %d", len(c.Series), len(palette))
	}
	for _, g := range c.Groups {
		if len(g.Values) != len(c.Series) {
			return fmt.Errorf("chart: group %q has %d values for %d series", g.Label, len(g.Values), len(c.Series))
		}
		for _, v := range g.Values {
			if math.IsNaN(v) || math.IsInf(v, 0) || v < 0 {
				return fmt.Errorf("chart: group %q: value %v", g.Label, v)
			}
			if c.Log && v <= 0 {
				return fmt.Errorf("chart: group %q: %v on a logarithmic axis", g.Label, v)
			}
		}
	}
	return nil
}

// Image draws the chart.
func (c *Chart) Image() (*image.RGBA, error) {
	if err := c.validate(); err != nil {
		return nil, err
	}
	format := c.Format
	if format == nil {
		format = Human
	}
	top := margin + 2*lineHeight + lineHeight // title, legend, gap
	groupH := len(c.Series)*(barHeight+barGap) - barGap
	height := top + len(c.Groups)*(groupH+groupGap) + 2*lineHeight + margin
	img := image.NewRGBA(image.Rect(0, 0, width, height))
	draw.Draw(img, img.Bounds(), image.White, image.Point{}, draw.Src)

	text(img, margin, margin+lineHeight-4, c.Title, color.Black)
	x := margin
	for i, s := range c.Series {
		fill(img, x, margin+lineHeight+4, 12, 12, palette[i])
		text(img, x+16, margin+2*lineHeight, s, color.Black)
		x += 16 + textWidth(s) + 24
	}

	// Scale: the largest value spans the plot width.
	plotX := margin + labelWidth
	plotW := width - plotX - valueRoom - margin
	maxV, minV := 0.0, math.Inf(1)
	for _, g := range c.Groups {
		for _, v := range g.Values {
			maxV = math.Max(maxV, v)
			minV = math.Min(minV, v)
		}
	}
	scale := func(v float64) int {
		if c.Log {
			lo := math.Floor(math.Log10(minV))
			hi := math.Ceil(math.Log10(maxV))
			if hi <= lo {
				hi = lo + 1
			}
			return int(float64(plotW) * (math.Log10(v) - lo + 0.05) / (hi - lo + 0.05))
		}
		if maxV == 0 {
			return 0
		}
		return int(float64(plotW) * v / maxV)
	}
	grey := color.RGBA{0xCC, 0xCC, 0xCC, 0xFF}
	y := top
	for _, g := range c.Groups {
		text(img, margin, y+groupH/2+5, clip(g.Label, labelWidth-8), color.Black)
		for i, v := range g.Values {
			w := max(scale(v), 1)
			fill(img, plotX, y, w, barHeight, palette[i])
			text(img, plotX+w+4, y+barHeight-4, format(v), color.Black)
			y += barHeight + barGap
		}
		y += groupGap - barGap
	}
	fill(img, plotX-1, top-4, 1, y-top, grey)
	axis := c.Unit
	if c.Log {
		axis += " (logarithmic scale)"
	}
	text(img, plotX, y+lineHeight, axis, color.RGBA{0x55, 0x55, 0x55, 0xFF})
	return img, nil
}

// WritePNG encodes the chart as PNG.
func (c *Chart) WritePNG(w io.Writer) error {
	img, err := c.Image()
	if err != nil {
		return err
	}
	return png.Encode(w, img)
}

// SavePNG writes the chart to path.
func (c *Chart) SavePNG(path string) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	if err := c.WritePNG(f); err != nil {
		f.Close()
		return fmt.Errorf("chart %s: %w", path, err)
	}
	return f.Close()
}

func fill(img *image.RGBA, x, y, w, h int, c color.Color) {
	draw.Draw(img, image.Rect(x, y, x+w, y+h), &image.Uniform{c}, image.Point{}, draw.Src)
}

func text(img *image.RGBA, x, y int, s string, c color.Color) {
	d := font.Drawer{Dst: img, Src: &image.Uniform{c}, Face: basicfont.Face7x13, Dot: fixed.P(x, y)}
	d.DrawString(ascii(s))
}

// ascii spells the few non-ASCII characters labels use in ASCII: the
// bitmap font has no glyphs beyond it.
func ascii(s string) string {
	return strings.NewReplacer("×", "x", "µ", "u", "…", "...", "≤", "<=", "≥", ">=").Replace(s)
}

func textWidth(s string) int { return font.MeasureString(basicfont.Face7x13, ascii(s)).Round() }

// clip shortens s to fit w pixels.
func clip(s string, w int) string {
	r := []rune(s)
	for len(r) > 1 && textWidth(string(r)) > w {
		r = r[:len(r)-1]
	}
	if len(r) < len([]rune(s)) && len(r) > 1 {
		return string(r[:len(r)-1]) + "..."
	}
	return string(r)
}
