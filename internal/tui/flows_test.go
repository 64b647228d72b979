package tui

import (
	"errors"
	"fmt"
	"regexp"
	"strings"
	"testing"
	"time"

	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/lipgloss"
	"github.com/charmbracelet/x/exp/teatest"
	"github.com/muesli/termenv"
)

func TestCreateFlow(t *testing.T) {
	f := newFake(threeVMs()...)
	f.gate = make(chan struct{})
	tm := startSized(t, f, 80, 24, nil)
	waitOutput(t, tm, "build-box")
	tm.Type("c")
	waitOutput(t, tm, "Create VM", "‹ debian-12 ›")
	clearField(tm)
	typeText(tm, "Calm otter")
	press(tm, tea.KeyTab, tea.KeyRight, tea.KeyTab) // image: alpine-dev
	typeText(tm, "64")
	press(tm, tea.KeyTab)
	typeText(tm, "99")
	press(tm, tea.KeyTab)
	typeText(tm, "2X")
	press(tm, tea.KeyTab, tea.KeySpace, tea.KeyEnter)
	waitOutput(t, tm, "invalid memory 64 MiB: use 128 to 65536 MiB", "invalid vcpu count 99: use 1 to 32",
		`invalid size "2X"`, `invalid VM name "Calm otter"`)
	if f.called("CreateVM") {
		t.Fatal("an invalid form reached the daemon")
	}

	// Fix every field; the daemon's own refusal lands next to its field.
	press(tm, tea.KeyShiftTab, tea.KeyShiftTab, tea.KeyShiftTab, tea.KeyShiftTab, tea.KeyShiftTab)
	clearField(tm)
	typeText(tm, "calm-otter")
	for _, v := range []string{"2048", "4", "16G"} {
		press(tm, tea.KeyTab)
		if v == "2048" {
			press(tm, tea.KeyTab)
		}
		clearField(tm)
		typeText(tm, v)
	}
	f.setErr("CreateVM", errors.New(`no image named "alpine-dev"; see 'banger image list'`))
	press(tm, tea.KeyEnter)
	waitOutput(t, tm, `! no image named "alpine-dev"`)
	f.setErr("CreateVM", nil)
	press(tm, tea.KeyEnter)
	waitFor(t, "CreateVM", func() bool {
		return f.called("CreateVM calm-otter image=alpine-dev memory=2048 vcpus=4 disk=17179869184 nat=true")
	})
	// The form closes on the first step; the row and the status line show
	// the steps while the daemon works.
	waitOutput(t, tm, "creating 2/5", "creating calm-otter: [2/5] creating work disk and identity…")
	close(f.gate)
	waitOutput(t, tm, "created calm-otter: running at 172.16.0.9")
	tm.Send(tea.KeyMsg{Type: tea.KeyCtrlC})
	m := tm.FinalModel(t, teatest.WithFinalTimeout(5*time.Second)).(peekable).model
	if row := m.list.selected(); row == nil || row[0] != "calm-otter" {
		t.Errorf("cursor is not on the new VM: %v", row)
	}
}

func TestCreateGolden(t *testing.T) {
	f := newFake(threeVMs()...)
	f.gate = make(chan struct{})
	t.Cleanup(func() { close(f.gate) })
	tm := startSized(t, f, 80, 24, nil)
	waitOutput(t, tm, "build-box")
	tm.Type("c")
	waitOutput(t, tm, "‹ debian-12 ›")
	clearField(tm)
	typeText(tm, "calm-otter")
	press(tm, tea.KeyTab, tea.KeyTab)
	typeText(tm, "64")
	press(tm, tea.KeyEnter)
	waitOutput(t, tm, "invalid memory 64 MiB")
	clearField(tm)
	typeText(tm, "2048")
	press(tm, tea.KeyEnter)
	waitOutput(t, tm, "creating 2/5")
	requireGolden(t, "create_progress", finalView(t, tm), 80, 24)
}

func TestCreateFormGolden(t *testing.T) {
	tm := startSized(t, newFake(threeVMs()...), 80, 24, nil)
	waitOutput(t, tm, "build-box")
	tm.Type("c")
	waitOutput(t, tm, "‹ debian-12 ›")
	clearField(tm)
	typeText(tm, "calm-otter")
	press(tm, tea.KeyTab, tea.KeyTab)
	typeText(tm, "64")
	press(tm, tea.KeyEnter)
	waitOutput(t, tm, "invalid memory 64 MiB")
	requireGolden(t, "create_form", finalView(t, tm), 80, 24)
}

func TestSetFlow(t *testing.T) {
	f := newFake(threeVMs()...)
	tm := startSized(t, f, 80, 24, nil)
	waitOutput(t, tm, "build-box")
	selectVM(tm, names, "db")
	tm.Type("e")
	waitOutput(t, tm, "Change db")
	clearField(tm)
	typeText(tm, "2048")
	press(tm, tea.KeyTab, tea.KeyTab)
	clearField(tm)
	typeText(tm, "2G")
	press(tm, tea.KeyEnter)
	waitOutput(t, tm, "! work disk of db is 4G; shrinking to 2G is not supported")
	clearField(tm)
	typeText(tm, "16G")
	press(tm, tea.KeyEnter)
	waitOutput(t, tm, "db now has 1 vCPU, 2 GiB memory, 16 GiB disk, NAT off")
	if !f.called("SetVM db memory=2048 disk=17179869184") {
		t.Errorf("SetVM not called with the changed fields only: %v", f.calls)
	}

	// A running VM: resources are locked, NAT is not.
	selectVM(tm, []string{"db"}, "web")
	tm.Send(tea.KeyMsg{Type: tea.KeyDown})
	tm.Type("e")
	waitOutput(t, tm, "Change web", "stop the VM first")
	press(tm, tea.KeyEnter)
	waitOutput(t, tm, "nothing to change")
	press(tm, tea.KeySpace)
	requireGolden(t, "set_running", viewNow(t, tm), 80, 24)
	press(tm, tea.KeyEnter)
	waitOutput(t, tm, "web now has 2 vCPU, 1 GiB memory, 8 GiB disk, NAT off")
	if !f.called("SetVM web nat=false") {
		t.Errorf("NAT change not sent: %v", f.calls)
	}
}

func TestConsoleFollowAndSearch(t *testing.T) {
	f := newFake(threeVMs()...)
	var b strings.Builder
	for i := 1; i <= 40; i++ {
		fmt.Fprintf(&b, "[    %d.%03d] boot message %d\r\n", i/10, i%10*100, i)
	}
	b.WriteString("\x1b[0;32m  OK  \x1b[0m] Reached target multi-user.target\r\n\r\nDebian GNU/Linux 12 web ttyS0\r\n\r\nweb login: ")
	f.console["web"] = b.String()
	tm := startSized(t, f, 80, 24, nil)
	waitOutput(t, tm, "build-box")
	selectVM(tm, names, "web")
	tm.Type("l")
	waitOutput(t, tm, "console of web", "following", "web login:")
	f.consoleMore <- "root\r\nLast login: never\r\n"
	waitOutput(t, tm, "Last login: never")
	tm.Type("/")
	typeText(tm, "message 4")
	press(tm, tea.KeyEnter)
	// The search starts at the top of the view, then wraps around.
	waitOutput(t, tm, `"message 4": match 2 of 2 (line 40)`)
	tm.Type("n")
	waitOutput(t, tm, "line 2 of 47", "match 1 of 2 (line 4)")
	requireGolden(t, "console_search", viewNow(t, tm), 80, 24)
	tm.Type("G")
	waitOutput(t, tm, "following │")
	press(tm, tea.KeyEsc)
	waitOutput(t, tm, "s/S start/stop")
	if !f.called("Logs web follow=true") {
		t.Errorf("console did not follow the log: %v", f.calls)
	}
	finalView(t, tm)
}

func TestDetailsChartsGolden(t *testing.T) {
	f := newFake(threeVMs()...)
	tm := startSized(t, f, 80, 24, func(m *model) {
		m.refresh = time.Hour // ticks come from the test only
		m.clock = stepClock(2 * time.Second)
	})
	waitOutput(t, tm, "build-box")
	selectVM(tm, names, "web")
	press(tm, tea.KeyEnter)
	for _, cpu := range cpuSeq {
		waitOutput(t, tm, fmt.Sprintf("%.1f%%", cpu))
		time.Sleep(20 * time.Millisecond)
		tm.Send(tickMsg{})
	}
	waitFor(t, "9 stats calls", func() bool {
		f.mu.Lock()
		defer f.mu.Unlock()
		return f.statsN["web"] >= 9
	})
	waitOutput(t, tm, "12.5%", "charts: last 16s")
	requireGolden(t, "details_charts", finalView(t, tm), 80, 24)
}

func TestImagesFlow(t *testing.T) {
	f := newFake(threeVMs()...)
	f.gate = make(chan struct{})
	tm := startSized(t, f, 80, 24, nil)
	waitOutput(t, tm, "build-box")
	tm.Type("i")
	waitOutput(t, tm, "alpine-dev", "bundle", "web,db")
	requireGolden(t, "images", viewNow(t, tm), 80, 24)
	press(tm, tea.KeyDown, tea.KeyEnter)
	waitOutput(t, tm, "image debian-12", "used by   web, db")
	tm.Type("dy")
	// The daemon's refusal, wrapped onto a second status line.
	waitOutput(t, tm, `error: delete image debian-12: image "debian-12" is used by web, db; delete`, "those VMs first")
	press(tm, tea.KeyEsc)

	tm.Type("b")
	waitOutput(t, tm, "Build image")
	typeText(tm, "tools")
	press(tm, tea.KeyTab, tea.KeySpace, tea.KeyTab)
	typeText(tm, "ripgrep bad;pkg")
	press(tm, tea.KeyEnter)
	waitOutput(t, tm, `! invalid package name "bad;pkg"`)
	clearField(tm)
	typeText(tm, "ripgrep jq")
	press(tm, tea.KeyEnter)
	waitOutput(t, tm, "build of image tools", "apt-get install -y ripgrep jq")
	close(f.gate)
	waitOutput(t, tm, "done: image tools is ready", "built image tools")
	requireGolden(t, "build_log", viewNow(t, tm), 80, 24)
	press(tm, tea.KeyEsc)
	waitOutput(t, tm, "tools ")
	if !f.called("BuildImage tools docker=true packages=ripgrep,jq") {
		t.Errorf("build request: %v", f.calls)
	}
	finalView(t, tm)
}

func TestFilterSortSelect(t *testing.T) {
	f := newFake(threeVMs()...)
	tm := startSized(t, f, 80, 24, nil)
	waitOutput(t, tm, "build-box")
	tm.Type("/")
	typeText(tm, "debian")
	press(tm, tea.KeyEnter)
	waitOutput(t, tm, `/debian: 2 shown`)
	tm.Type("oO") // sort by STATE, descending
	waitOutput(t, tm, "STATE↓")
	press(tm, tea.KeySpace, tea.KeySpace)
	waitOutput(t, tm, "2 selected")
	requireGolden(t, "list_filtered", viewNow(t, tm), 80, 24)
	tm.Type("d")
	waitOutput(t, tm, "force delete running 2 VMs (db, web)? (y/n)")
	tm.Type("y")
	waitFor(t, "both deleted", func() bool {
		return f.called("DeleteVM web force=true") && f.called("DeleteVM db force=true")
	})
	press(tm, tea.KeyEsc)
	waitOutput(t, tm, "1 VM: 1 running")
	finalView(t, tm)
}

func TestHelpListsEveryKey(t *testing.T) {
	m := newModel(t.Context(), newFake(), Options{Now: func() time.Time { return epoch }}, true)
	m.loaded = true
	m.screen = screenHelp
	view := m.View()
	requireGolden(t, "help", view, 80, 24)
	for _, g := range m.keys.helpGroups() {
		for _, b := range g.keys {
			h := b.Help()
			if !strings.Contains(view, fmt.Sprintf("%-6s %s", h.Key, h.Desc)) {
				t.Errorf("help lacks %q %q", h.Key, h.Desc)
			}
		}
	}
}

// viewNow is the current screen as the model renders it.
func viewNow(t *testing.T, tm *teatest.TestModel) string {
	t.Helper()
	reply := make(chan string, 1)
	tm.Send(peekMsg{reply})
	select {
	case v := <-reply:
		return v
	case <-time.After(5 * time.Second):
		t.Fatal("model did not answer a peek")
		return ""
	}
}

func TestEveryScreenReflows(t *testing.T) {
	f := newFake(threeVMs()...)
	f.console["web"] = "Debian GNU/Linux 12 web ttyS0\n\nweb login: "
	tm := startSized(t, f, 80, 24, nil)
	waitOutput(t, tm, "build-box")
	screens := []struct {
		name string
		keys func()
		want string
	}{
		{"list", func() {}, "NAME↑"},
		{"details", func() { selectVM(tm, names, "web"); press(tm, tea.KeyEnter) }, "received"},
		{"console", func() { tm.Type("l") }, "web login:"},
		{"help", func() { press(tm, tea.KeyEsc); tm.Type("?") }, "sort column"},
		{"images", func() { press(tm, tea.KeyEsc); tm.Type("i") }, "USED BY"},
		{"build form", func() { tm.Type("b") }, "Build image"},
		{"create form", func() { press(tm, tea.KeyEsc); tm.Type("ic") }, "Create VM"},
	}
	for _, s := range screens {
		s.keys()
		waitFor(t, s.name, func() bool { return strings.Contains(viewNow(t, tm), s.want) })
		for _, size := range [][2]int{{60, 20}, {120, 40}, {80, 24}} {
			tm.Send(tea.WindowSizeMsg{Width: size[0], Height: size[1]})
			checkFits(t, fmt.Sprintf("%s at %dx%d", s.name, size[0], size[1]), viewNow(t, tm), size[0], size[1])
		}
	}
	finalView(t, tm)
}

func TestNoColor(t *testing.T) {
	t.Setenv("NO_COLOR", "1")
	lipgloss.SetColorProfile(termenv.TrueColor)
	t.Cleanup(func() { lipgloss.SetColorProfile(termenv.Ascii) })
	f := newFake(threeVMs()...)
	f.setErr("StopVM", errors.New("guest did not power off"))
	w, out, done := runAsync(t, t.Context(), f, Options{})
	if _, err := w.Write([]byte("S")); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the error", func() bool { return strings.Contains(out.String(), "guest did not power off") })
	if _, err := w.Write([]byte("q")); err != nil {
		t.Fatal(err)
	}
	w.Close()
	if err := wait(t, done); err != nil {
		t.Fatal(err)
	}
	if sgr := regexp.MustCompile(`\x1b\[[0-9;]*m`).FindString(out.String()); sgr != "" {
		t.Errorf("NO_COLOR output has a style sequence %q", sgr)
	}
	if !strings.Contains(out.String(), "> build-box") {
		t.Errorf("the cursor row has no text marker without colour")
	}
}
