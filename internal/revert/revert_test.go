package revert

import (
	"errors"
	"reflect"
	"testing"
)

func TestFailRunsUndoInReverse(t *testing.T) {
	var got []string
	r := New()
	r.Add("a", func() error { got = append(got, "a"); return nil })
	r.Add("b", func() error { got = append(got, "b"); return errors.New("boom") })
	r.Add("c", func() error { got = append(got, "c"); return nil })
	if err := r.Fail(); err == nil || err.Error() != "boom" {
		t.Fatalf("Fail() = %v, want boom", err)
	}
	if !reflect.DeepEqual(got, []string{"c", "b", "a"}) {
		t.Fatalf("undo order = %v", got)
	}
	if err := r.Fail(); err != nil || len(got) != 3 {
		t.Fatalf("second Fail ran undo again: %v %v", err, got)
	}
}

func TestSuccessSkipsUndo(t *testing.T) {
	ran := false
	r := New()
	r.Add("a", func() error { ran = true; return nil })
	r.Success()
	r.Fail()
	if ran {
		t.Fatal("undo ran after Success")
	}
}
