package tui

import (
	"github.com/charmbracelet/bubbles/key"
)

// keyMap holds every binding of the TUI; it feeds the footer hints and the
// help overlay. A new verb (suspend, snapshot) is one more field here, one
// entry in helpGroups and one case in the screen's key handler.
type keyMap struct {
	Up, Down, Top, Bottom, PageUp, PageDown key.Binding
	Details, Back                           key.Binding
	Create, Edit, Console                   key.Binding
	Start, Stop, Restart                    key.Binding
	NAT, Delete, SSH                        key.Binding
	Filter, Sort, Reverse, Mark             key.Binding
	Images, Build, BuildLog, ShowImage      key.Binding
	Search, Next, Prev, Follow              key.Binding
	Help, Quit                              key.Binding
	Yes, No                                 key.Binding
	Power, More, Open, NextPrev             key.Binding // hint-only summaries
	Submit, Field, Choose, Cancel           key.Binding // forms
}

func newKeyMap(sshEnabled bool) keyMap {
	b := func(keys []string, help, desc string) key.Binding {
		return key.NewBinding(key.WithKeys(keys...), key.WithHelp(help, desc))
	}
	k := keyMap{
		Up:        b([]string{"up", "k"}, "↑/k", "up"),
		Down:      b([]string{"down", "j"}, "↓/j", "down"),
		Top:       b([]string{"home", "g"}, "g", "first"),
		Bottom:    b([]string{"end", "G"}, "G", "last"),
		PageUp:    b([]string{"pgup"}, "pgup", "page up"),
		PageDown:  b([]string{"pgdown"}, "pgdn", "page down"),
		Details:   b([]string{"enter"}, "enter", "details"),
		Back:      b([]string{"esc", "backspace"}, "esc", "back"),
		Create:    b([]string{"c"}, "c", "create"),
		Edit:      b([]string{"e"}, "e", "edit"),
		Console:   b([]string{"l"}, "l", "console"),
		Start:     b([]string{"s"}, "s", "start"),
		Stop:      b([]string{"S"}, "S", "stop"),
		Restart:   b([]string{"r"}, "r", "restart"),
		NAT:       b([]string{"n"}, "n", "NAT on/off"),
		Delete:    b([]string{"d"}, "d", "delete"),
		SSH:       b([]string{"x"}, "x", "ssh"),
		Filter:    b([]string{"/"}, "/", "filter"),
		Sort:      b([]string{"o"}, "o", "sort column"),
		Reverse:   b([]string{"O"}, "O", "reverse"),
		Mark:      b([]string{" "}, "space", "select"),
		Images:    b([]string{"i"}, "i", "images"),
		Build:     b([]string{"b"}, "b", "build"),
		BuildLog:  b([]string{"L"}, "L", "build log"),
		ShowImage: b([]string{"enter"}, "enter", "show"),
		Search:    b([]string{"/"}, "/", "search"),
		Next:      b([]string{"n"}, "n", "next match"),
		Prev:      b([]string{"N"}, "N", "prev match"),
		Follow:    b([]string{"end", "G"}, "G", "follow"),
		Help:      b([]string{"?"}, "?", "help"),
		Quit:      b([]string{"q", "ctrl+c"}, "q", "quit"),
		Yes:       b([]string{"y", "Y"}, "y", "yes"),
		No:        b([]string{"n", "N", "esc"}, "n", "no"),
		Submit:    b([]string{"enter"}, "enter", "submit"),
		Field:     b([]string{"tab", "shift+tab"}, "tab", "next field"),
		Choose:    b([]string{"left", "right", " "}, "←/→", "choose"),
		Cancel:    b([]string{"esc"}, "esc", "cancel"),
	}
	k.Power = b([]string{"s", "S"}, "s/S", "start/stop")
	k.More = b([]string{"?"}, "?", "more")
	k.Open = b([]string{"enter"}, "enter", "open")
	k.NextPrev = b([]string{"n", "N"}, "n/N", "next/prev")
	k.SSH.SetEnabled(sshEnabled)
	return k
}

// helpGroup is one titled column of the help overlay.
type helpGroup struct {
	title string
	keys  []key.Binding
}

// helpGroups lists every key of the TUI by where it works.
func (k keyMap) helpGroups() []helpGroup {
	return []helpGroup{
		{"move", []key.Binding{k.Up, k.Down, k.Top, k.Bottom, k.PageUp, k.PageDown, k.Details, k.Back, k.Help, k.Quit}},
		{"VMs", []key.Binding{k.Create, k.Edit, k.Start, k.Stop, k.Restart, k.NAT, k.Delete, k.SSH, k.Console}},
		{"VM list", []key.Binding{k.Filter, k.Sort, k.Reverse, k.Mark, k.Images}},
		{"images", []key.Binding{k.ShowImage, k.Build, k.Delete, k.BuildLog}},
		{"console", []key.Binding{k.Search, k.Next, k.Prev, k.Follow}},
		{"forms", []key.Binding{k.Field, k.Choose, k.Submit, k.Cancel}},
	}
}

// listHints are the footer hints of the VM list; the rest is under ?.
func (k keyMap) listHints() []key.Binding {
	return []key.Binding{k.Create, k.Open, k.Power, k.Console, k.Filter, k.More, k.Quit}
}
