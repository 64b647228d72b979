package steps

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"testing"
	"time"
)

type recorder struct{ lines []string }

func (r *recorder) Step(i, n int, name string) {
	r.lines = append(r.lines, fmt.Sprintf("[%d/%d] %s", i, n, name))
}
func (r *recorder) Logf(format string, args ...any) {
	r.lines = append(r.lines, fmt.Sprintf(format, args...))
}

func TestRunNumbersLabelledStepsAndTimesEveryStep(t *testing.T) {
	rep := &recorder{}
	r := New(rep)
	made := ""
	time.Sleep(2 * time.Millisecond)
	r.Lap("preflight")
	err := r.Run(context.Background(),
		Step{Name: "reserve", Label: Fixed("reserving"), Do: func(context.Context) error { made = "tap7"; return nil }},
		Step{Name: "quiet", Do: func(context.Context) error { time.Sleep(5 * time.Millisecond); return nil }},
		Step{Name: "boot", Label: func() string { return "starting on " + made }, Do: func(context.Context) error { return nil }},
		Step{Name: "quiet", Do: func(context.Context) error { time.Sleep(5 * time.Millisecond); return nil }},
	)
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{"[1/2] reserving", "[2/2] starting on tap7"}; !reflect.DeepEqual(rep.lines, want) {
		t.Fatalf("progress = %q; want %q", rep.lines, want)
	}
	if sp := r.Spans(); len(sp) != 5 || sp[0].Name != "preflight" || !sp[0].Start.Equal(r.Start()) || sp[0].End.Sub(sp[0].Start) < 2*time.Millisecond {
		t.Fatalf("spans = %+v", r.Spans())
	}
	if got := r.TimeIn(time.Now())["quiet"]; got < 10*time.Millisecond {
		t.Fatalf("time in the two quiet steps = %s; want their sum", got)
	}
	if at, ok := r.StartOf("boot"); !ok || at.Before(r.Start()) {
		t.Fatalf("start of boot = %v %v", at, ok)
	}
}

func TestFailureUndoesDoneStepsLastFirst(t *testing.T) {
	var undone []string
	undo := func(name string) func() error { return func() error { undone = append(undone, name); return nil } }
	boom := errors.New("boom")
	ran := false
	r := New(&recorder{})
	err := r.Run(context.Background(),
		Step{Name: "a", Do: func(context.Context) error { return nil }, Undo: undo("a")},
		Step{Name: "b", Do: func(context.Context) error { return nil }},
		Step{Name: "c", Do: func(context.Context) error { return nil }, Undo: undo("c")},
		Step{Name: "d", Do: func(context.Context) error { return boom }, Undo: undo("d")},
		Step{Name: "e", Do: func(context.Context) error { ran = true; return nil }},
	)
	if !errors.Is(err, boom) || ran {
		t.Fatalf("err = %v, later step ran = %v", err, ran)
	}
	if want := []string{"c", "a"}; !reflect.DeepEqual(undone, want) {
		t.Fatalf("undone = %v; want %v (the failed step's own undo is not registered)", undone, want)
	}
}

func TestSuccessDropsUndo(t *testing.T) {
	undone := false
	r := New(&recorder{})
	if err := r.Run(context.Background(), Step{Name: "a", Do: func(context.Context) error { return nil },
		Undo: func() error { undone = true; return nil }}); err != nil || undone {
		t.Fatalf("err %v, undone %v", err, undone)
	}
}
