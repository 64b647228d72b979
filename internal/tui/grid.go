package tui

import (
	"strings"

	"github.com/charmbracelet/lipgloss"
	"github.com/charmbracelet/x/ansi"
)

// column is one column of a grid: its title and width in cells.
type column struct {
	title string
	width int
}

// gutter is the width of the cursor/mark cells in front of every row.
const gutter = 2

// grid is a scrolling table with a cursor and marks. It draws the cursor
// row with ">" and marked rows with "*" as well as in reverse video, so it
// reads the same when NO_COLOR strips every style.
type grid struct {
	cols   []column
	rows   [][]string
	cursor int
	offset int
	height int // rows shown, header excluded
}

// setRows replaces the rows and keeps the cursor in range.
func (g *grid) setRows(rows [][]string) {
	g.rows = rows
	g.setCursor(g.cursor)
}

// setCursor moves the cursor to i (clamped) and scrolls it into view.
func (g *grid) setCursor(i int) {
	g.cursor = max(min(i, len(g.rows)-1), 0)
	h := max(g.height, 1)
	if g.cursor < g.offset {
		g.offset = g.cursor
	}
	if g.cursor >= g.offset+h {
		g.offset = g.cursor - h + 1
	}
	g.offset = max(min(g.offset, len(g.rows)-h), 0)
}

// move moves the cursor by delta rows.
func (g *grid) move(delta int) { g.setCursor(g.cursor + delta) }

// selected returns the cursor row, or nil when the grid is empty.
func (g *grid) selected() []string {
	if g.cursor < 0 || g.cursor >= len(g.rows) {
		return nil
	}
	return g.rows[g.cursor]
}

// view renders the header and the visible rows; marked reports whether a
// row is marked (nil: none are).
func (g *grid) view(marked func(i int) bool) string {
	lines := []string{titleStyle.Render(g.line(strings.Repeat(" ", gutter), func(i int) string { return g.cols[i].title }))}
	end := min(g.offset+max(g.height, 1), len(g.rows))
	for i := g.offset; i < end; i++ {
		pre := []byte("  ")
		if i == g.cursor {
			pre[0] = '>'
		}
		if marked != nil && marked(i) {
			pre[1] = '*'
		}
		row := g.rows[i]
		l := g.line(string(pre), func(c int) string {
			if c < len(row) {
				return row[c]
			}
			return ""
		})
		if i == g.cursor {
			l = selectedStyle.Render(l)
		}
		lines = append(lines, l)
	}
	return strings.Join(lines, "\n")
}

// line lays out one row: prefix, then every cell cut or padded to its
// column and followed by one space.
func (g *grid) line(prefix string, cell func(int) string) string {
	var b strings.Builder
	b.WriteString(prefix)
	for i, c := range g.cols {
		v := ansi.Truncate(cell(i), c.width, "…")
		b.WriteString(v + strings.Repeat(" ", c.width-lipgloss.Width(v)+cellPad))
	}
	return strings.TrimRight(b.String(), " ")
}

// width is the number of cells a full row takes.
func (g *grid) width() int {
	n := gutter
	for _, c := range g.cols {
		n += c.width + cellPad
	}
	return n
}

// fitColumns sizes columns to their titles and cells, then shrinks the
// columns in shrink (widest first, never below 6 cells) until the grid fits
// in width.
func fitColumns(titles []string, rows [][]string, width int, shrink ...int) []column {
	w := make([]int, len(titles))
	for i, t := range titles {
		w[i] = lipgloss.Width(t)
	}
	for _, r := range rows {
		for i, v := range r {
			if i < len(w) {
				w[i] = max(w[i], lipgloss.Width(v))
			}
		}
	}
	total := func() int {
		n := gutter
		for _, x := range w {
			n += x + cellPad
		}
		return n
	}
	for total() > width {
		best := -1
		for _, i := range shrink {
			if w[i] > 6 && (best < 0 || w[i] > w[best]) {
				best = i
			}
		}
		if best < 0 {
			break
		}
		w[best]--
	}
	cols := make([]column, len(titles))
	for i, t := range titles {
		cols[i] = column{title: t, width: w[i]}
	}
	return cols
}
