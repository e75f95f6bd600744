package htmlreport

import (
	"bytes"
	"encoding/xml"
	"math"
	"sort"
	"strconv"
	"strings"
	"testing"
)

// node is an element of a page parsed as XML.
type node struct {
	XMLName  xml.Name
	Attrs    []xml.Attr `xml:",any,attr"`
	Children []*node    `xml:",any"`
	Text     string     `xml:",chardata"`
}

// parsePage parses a page as XML: the page must be well-formed.
func parsePage(t *testing.T, page []byte) *node {
	t.Helper()
	d := xml.NewDecoder(bytes.NewReader(page))
	d.Strict = true
	var root node
	if err := d.Decode(&root); err != nil {
		t.Fatalf("the page is not well-formed: %v", err)
	}
	return &root
}

func (n *node) attr(name string) string {
	for _, a := range n.Attrs {
		if a.Name.Local == name {
			return a.Value
		}
	}
	return ""
}

// num returns a numeric attribute, failing on a missing or non-finite one.
func (n *node) num(t *testing.T, name string) float64 {
	t.Helper()
	v, err := strconv.ParseFloat(n.attr(name), 64)
	if err != nil || math.IsNaN(v) || math.IsInf(v, 0) {
		t.Fatalf("<%s %s=%q>: not a finite number", n.XMLName.Local, name, n.attr(name))
	}
	return v
}

// all returns the elements under n (n included) that match.
func (n *node) all(match func(*node) bool) []*node {
	var out []*node
	if match(n) {
		out = append(out, n)
	}
	for _, c := range n.Children {
		out = append(out, c.all(match)...)
	}
	return out
}

// textOf returns the text of n and all under it.
func textOf(n *node) string {
	s := n.Text
	for _, c := range n.Children {
		s += textOf(c)
	}
	return s
}

func named(local string) func(*node) bool {
	return func(n *node) bool { return n.XMLName.Local == local }
}

func classed(local, class string) func(*node) bool {
	return func(n *node) bool {
		return n.XMLName.Local == local && strings.Contains(" "+n.attr("class")+" ", " "+class+" ")
	}
}

// svgByID returns the svg element of that id.
func svgByID(t *testing.T, root *node, id string) *node {
	t.Helper()
	found := root.all(func(n *node) bool { return n.XMLName.Local == "svg" && n.attr("id") == id })
	if len(found) != 1 {
		t.Fatalf("want one svg with id %q, found %d", id, len(found))
	}
	return found[0]
}

// points parses a polyline's points.
func points(t *testing.T, n *node) [][2]float64 {
	t.Helper()
	var out [][2]float64
	for _, f := range strings.Fields(n.attr("points")) {
		x, y, ok := strings.Cut(f, ",")
		px, err1 := strconv.ParseFloat(x, 64)
		py, err2 := strconv.ParseFloat(y, 64)
		if !ok || err1 != nil || err2 != nil || math.IsNaN(px+py) || math.IsInf(px+py, 0) {
			t.Fatalf("polyline point %q: not two finite numbers", f)
		}
		out = append(out, [2]float64{px, py})
	}
	return out
}

// logAxisValue reads the value at height y off the svg's y ticks, on a
// log scale: it inverts the drawing from the labels the reader sees.
func logAxisValue(t *testing.T, svg *node, y float64) float64 {
	t.Helper()
	ticks := svg.all(classed("text", "ytick"))
	if len(ticks) < 2 {
		t.Fatalf("svg %s: %d y ticks, want at least 2", svg.attr("id"), len(ticks))
	}
	sort.Slice(ticks, func(i, j int) bool { return ticks[i].num(t, "y") > ticks[j].num(t, "y") })
	lo, hi := ticks[0], ticks[len(ticks)-1]
	// The labels sit 4 units below their grid line.
	ylo, yhi := lo.num(t, "y")-4, hi.num(t, "y")-4
	frac := (y - ylo) / (yhi - ylo)
	l0, l1 := math.Log(lo.num(t, "data-v")), math.Log(hi.num(t, "data-v"))
	return math.Exp(l0 + frac*(l1-l0))
}
