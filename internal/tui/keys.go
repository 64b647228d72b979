package tui

import (
	"github.com/charmbracelet/bubbles/key"
	"github.com/charmbracelet/bubbles/table"
)

// keyMap holds every binding of the TUI; it feeds the help view.
type keyMap struct {
	Up, Down, Top, Bottom key.Binding
	Details, Back         key.Binding
	Start, Stop, Restart  key.Binding
	NAT, Delete, SSH      key.Binding
	Images, Help, Quit    key.Binding
	Yes, No               key.Binding
	Power, More           key.Binding // hint-only summaries of s/S and ?
}

func newKeyMap(sshEnabled bool) keyMap {
	k := keyMap{
		Up:      key.NewBinding(key.WithKeys("up", "k"), key.WithHelp("↑/k", "up")),
		Down:    key.NewBinding(key.WithKeys("down", "j"), key.WithHelp("↓/j", "down")),
		Top:     key.NewBinding(key.WithKeys("home", "g"), key.WithHelp("g/home", "first")),
		Bottom:  key.NewBinding(key.WithKeys("end", "G"), key.WithHelp("G/end", "last")),
		Details: key.NewBinding(key.WithKeys("enter"), key.WithHelp("enter", "details")),
		Back:    key.NewBinding(key.WithKeys("esc", "backspace"), key.WithHelp("esc", "back")),
		Start:   key.NewBinding(key.WithKeys("s"), key.WithHelp("s", "start")),
		Stop:    key.NewBinding(key.WithKeys("S"), key.WithHelp("S", "stop")),
		Restart: key.NewBinding(key.WithKeys("r"), key.WithHelp("r", "restart")),
		NAT:     key.NewBinding(key.WithKeys("n"), key.WithHelp("n", "NAT on/off")),
		Delete:  key.NewBinding(key.WithKeys("d"), key.WithHelp("d", "delete")),
		SSH:     key.NewBinding(key.WithKeys("x"), key.WithHelp("x", "ssh")),
		Images:  key.NewBinding(key.WithKeys("i"), key.WithHelp("i", "images")),
		Help:    key.NewBinding(key.WithKeys("?"), key.WithHelp("?", "help")),
		Quit:    key.NewBinding(key.WithKeys("q", "ctrl+c"), key.WithHelp("q", "quit")),
		Yes:     key.NewBinding(key.WithKeys("y", "Y"), key.WithHelp("y", "yes")),
		No:      key.NewBinding(key.WithKeys("n", "N", "esc"), key.WithHelp("n", "no")),
	}
	k.Power = key.NewBinding(key.WithKeys("s", "S"), key.WithHelp("s/S", "start/stop"))
	k.More = key.NewBinding(key.WithKeys("?"), key.WithHelp("?", "more"))
	k.SSH.SetEnabled(sshEnabled)
	return k
}

// ShortHelp is the one-line hint under the status line.
func (k keyMap) ShortHelp() []key.Binding {
	return []key.Binding{k.Details, k.Power, k.Restart, k.Delete, k.SSH, k.More, k.Quit}
}

// FullHelp is the ? view, one column per group.
func (k keyMap) FullHelp() [][]key.Binding {
	return [][]key.Binding{
		{k.Up, k.Down, k.Top, k.Bottom, k.Details, k.Back},
		{k.Start, k.Stop, k.Restart, k.NAT, k.Delete, k.SSH},
		{k.Images, k.Help, k.Quit},
	}
}

// tableKeyMap keeps only the table's movement keys that do not collide with
// the TUI's letter commands (the default map uses d, u, f, b and space).
func tableKeyMap(k keyMap) table.KeyMap {
	none := key.NewBinding(key.WithDisabled())
	return table.KeyMap{
		LineUp:       k.Up,
		LineDown:     k.Down,
		PageUp:       key.NewBinding(key.WithKeys("pgup")),
		PageDown:     key.NewBinding(key.WithKeys("pgdown")),
		HalfPageUp:   none,
		HalfPageDown: none,
		GotoTop:      k.Top,
		GotoBottom:   k.Bottom,
	}
}
