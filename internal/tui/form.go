package tui

import (
	"fmt"
	"strings"

	"github.com/charmbracelet/bubbles/cursor"
	"github.com/charmbracelet/bubbles/textinput"
	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/lipgloss"
	"github.com/charmbracelet/x/ansi"

	"github.com/bangerdev/banger/internal/api"
)

// fieldKind is how a form field is edited.
type fieldKind int

const (
	fieldText   fieldKind = iota // free text
	fieldChoice                  // one of choices, picked with ←/→
	fieldToggle                  // on/off, flipped with space or ←/→
)

// field is one labelled input of a form.
type field struct {
	key     string // identifies the field for validation and daemon errors
	label   string
	kind    fieldKind
	input   textinput.Model
	choices []string
	choice  int
	on      bool
	hint    string // shown after the input
	off     string // non-empty: the field is disabled, and this says why
	err     string // inline validation or daemon error
}

// value is the text of a text field or the picked choice.
func (f *field) value() string {
	switch f.kind {
	case fieldChoice:
		if f.choice < len(f.choices) {
			return f.choices[f.choice]
		}
		return ""
	case fieldToggle:
		return onOff(f.on)
	}
	return strings.TrimSpace(f.input.Value())
}

// formKind says what a form does on submit.
type formKind int

const (
	formCreate formKind = iota
	formSet
	formBuild
)

// form is a modal list of fields with inline errors. While submitting it
// waits for the daemon's first answer so a refusal lands next to the field.
type form struct {
	kind       formKind
	title      string
	target     string // VM the form edits (set)
	vm         api.VM // that VM as it was when the form opened
	note       string // one line under the title
	fields     []field
	focus      int
	err        string // error that belongs to no single field
	submitting bool
}

// textField returns a text field prefilled with value.
func textField(key, label, value, placeholder, hint string) field {
	in := textinput.New()
	in.Prompt = ""
	in.Placeholder = placeholder
	in.CharLimit = 256
	in.Width = 20
	in.Cursor.SetMode(cursor.CursorStatic)
	in.SetValue(value)
	return field{key: key, label: label, kind: fieldText, input: in, hint: hint}
}

// get returns the field with key.
func (f *form) get(key string) *field {
	for i := range f.fields {
		if f.fields[i].key == key {
			return &f.fields[i]
		}
	}
	return nil
}

// setFocus focuses field i (skipping disabled ones in direction dir).
func (f *form) setFocus(i, dir int) {
	n := len(f.fields)
	for range n {
		i = (i + n) % n
		if f.fields[i].off == "" {
			break
		}
		i += dir
	}
	for j := range f.fields {
		if f.fields[j].kind != fieldText {
			continue
		}
		if j == i {
			f.fields[j].input.Focus()
		} else {
			f.fields[j].input.Blur()
		}
	}
	f.focus = i
}

// clearErrors drops every error before a new validation.
func (f *form) clearErrors() {
	f.err = ""
	for i := range f.fields {
		f.fields[i].err = ""
	}
}

// hasErrors reports whether any field or the form has an error.
func (f *form) hasErrors() bool {
	if f.err != "" {
		return true
	}
	for _, fl := range f.fields {
		if fl.err != "" {
			return true
		}
	}
	return false
}

// update handles a key that is not submit or cancel.
func (f *form) update(msg tea.KeyMsg) tea.Cmd {
	switch msg.String() {
	case "tab", "down":
		f.setFocus(f.focus+1, 1)
		return nil
	case "shift+tab", "up":
		f.setFocus(f.focus-1, -1)
		return nil
	}
	fl := &f.fields[f.focus]
	switch fl.kind {
	case fieldChoice:
		switch msg.String() {
		case "left", "h":
			fl.choice = (fl.choice - 1 + len(fl.choices)) % max(len(fl.choices), 1)
		case "right", "l", " ":
			fl.choice = (fl.choice + 1) % max(len(fl.choices), 1)
		}
		return nil
	case fieldToggle:
		switch msg.String() {
		case " ", "left", "right", "h", "l", "y", "n":
			fl.on = !fl.on
		}
		return nil
	}
	var cmd tea.Cmd
	fl.input, cmd = fl.input.Update(msg)
	return cmd
}

// placeDaemonError puts a daemon refusal next to the field it is about,
// recognised by the daemon's wording, or under the title.
func (f *form) placeDaemonError(msg string, fieldOf func(string) string) {
	if key := fieldOf(msg); key != "" {
		if fl := f.get(key); fl != nil && fl.off == "" {
			fl.err = msg
			f.setFocus(f.indexOf(key), 1)
			return
		}
	}
	f.err = msg
}

func (f *form) indexOf(key string) int {
	for i, fl := range f.fields {
		if fl.key == key {
			return i
		}
	}
	return 0
}

// view renders the form to width.
func (f *form) view(width int) string {
	var b strings.Builder
	b.WriteString(headingStyle.Render(f.title) + "\n")
	if f.note != "" {
		b.WriteString(labelStyle.Render(f.note) + "\n")
	}
	b.WriteString("\n")
	for i, fl := range f.fields {
		mark := "  "
		if i == f.focus {
			mark = "> "
		}
		label := fmt.Sprintf("%-8s", fl.label)
		var val string
		switch {
		case fl.off != "":
			val = labelStyle.Render(fl.value() + "  (" + fl.off + ")")
		case fl.kind == fieldChoice:
			val = fmt.Sprintf("‹ %s ›", fl.value())
			if len(fl.choices) > 1 {
				val += labelStyle.Render(fmt.Sprintf("  %d of %d", fl.choice+1, len(fl.choices)))
			}
		case fl.kind == fieldToggle:
			box := "[ ]"
			if fl.on {
				box = "[x]"
			}
			val = box + " " + fl.value()
		default:
			v := fl.input.View()
			val = "[" + v + strings.Repeat(" ", max(fl.input.Width+1-lipgloss.Width(v), 0)) + "]"
		}
		if fl.hint != "" && fl.off == "" {
			val += " " + labelStyle.Render(fl.hint)
		}
		line := mark + label + " " + val
		if i == f.focus {
			line = focusStyle.Render(line)
		}
		b.WriteString(line + "\n")
		if fl.err != "" {
			b.WriteString(wrapIndent(errorStyle.Render("! "+fl.err), width, 11) + "\n")
		}
	}
	b.WriteString("\n")
	switch {
	case f.submitting:
		b.WriteString("  waiting for bangerd…\n")
	case f.err != "":
		b.WriteString(wrapIndent(errorStyle.Render("error: "+f.err), width, 2) + "\n")
	}
	return b.String()
}

// wrapIndent wraps s to width with every line indented by indent cells.
func wrapIndent(s string, width, indent int) string {
	pad := strings.Repeat(" ", indent)
	w := max(width-indent, 20)
	var out []string
	for _, l := range strings.Split(ansi.Wrap(s, w, ""), "\n") {
		out = append(out, pad+l)
	}
	return strings.Join(out, "\n")
}
