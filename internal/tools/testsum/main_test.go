package main

import (
	"bytes"
	"strings"
	"testing"
)

// stream is `go test -json` output of two packages: one passes with a
// skipped test and a skipped subtest, one fails.
const stream = `{"Action":"start","Package":"x/a"}
{"Action":"run","Package":"x/a","Test":"TestOK"}
{"Action":"output","Package":"x/a","Test":"TestOK","Output":"=== RUN   TestOK\n"}
{"Action":"output","Package":"x/a","Test":"TestOK","Output":"    a_test.go:3: chatty log\n"}
{"Action":"pass","Package":"x/a","Test":"TestOK"}
{"Action":"output","Package":"x/a","Test":"TestDM","Output":"=== RUN   TestDM\n"}
{"Action":"output","Package":"x/a","Test":"TestDM","Output":"    a_test.go:4: dm-snapshot unavailable: no /dev/mapper/control\n"}
{"Action":"output","Package":"x/a","Test":"TestDM","Output":"--- SKIP: TestDM (0.00s)\n"}
{"Action":"skip","Package":"x/a","Test":"TestDM"}
{"Action":"output","Package":"x/a","Test":"TestSub/x","Output":"    a_test.go:5: needs root\n"}
{"Action":"skip","Package":"x/a","Test":"TestSub/x"}
{"Action":"output","Package":"x/a","Test":"TestVM","Output":"    a_test.go:6: -short: boots a VM\n"}
{"Action":"skip","Package":"x/a","Test":"TestVM"}
{"Action":"output","Package":"x/a","Output":"PASS\n"}
{"Action":"output","Package":"x/a","Output":"ok  \tx/a\t0.02s\n"}
{"Action":"pass","Package":"x/a"}
not json at all
{"Action":"output","Package":"x/b","Test":"TestFail","Output":"=== RUN   TestFail\n"}
{"Action":"output","Package":"x/b","Test":"TestFail","Output":"    b_test.go:3: boom\n"}
{"Action":"output","Package":"x/b","Test":"TestFail","Output":"--- FAIL: TestFail (0.00s)\n"}
{"Action":"fail","Package":"x/b","Test":"TestFail"}
{"Action":"output","Package":"x/b","Test":"TestHang","Output":"    b_test.go:9: still waiting\n"}
{"Action":"output","Package":"x/b","Output":"FAIL\tx/b\t0.01s\n"}
{"Action":"fail","Package":"x/b"}
`

func run(t *testing.T, in string, patterns []string, strict bool) (string, int) {
	t.Helper()
	var out bytes.Buffer
	s := newSummary(&out)
	if err := s.read(strings.NewReader(in)); err != nil {
		t.Fatal(err)
	}
	code := s.finish(patterns, strict)
	return out.String(), code
}

func TestSummary(t *testing.T) {
	got, code := run(t, stream, nil, false)
	want := "ok  \tx/a\t0.02s\n" +
		"not json at all\n" +
		"    b_test.go:3: boom\n--- FAIL: TestFail (0.00s)\n" +
		"    b_test.go:9: still waiting\n" +
		"FAIL\tx/b\t0.01s\n" +
		"skipped: 3\n" +
		"skip: TestDM: dm-snapshot unavailable: no /dev/mapper/control\n" +
		"skip: TestSub/x: needs root\n" +
		"skip: TestVM: -short: boots a VM\n" +
		"tests: 1 passed, 1 failed, 2 skipped\n" +
		"FAIL\n"
	if got != want || code != 1 {
		t.Errorf("exit %d, output:\n%s\nwant:\n%s", code, got, want)
	}
}

func TestStrictSkips(t *testing.T) {
	passing := strings.Split(stream, "not json")[0]
	if _, code := run(t, passing, []string{"TestDM", "TestSub/*"}, true); code != 0 {
		t.Errorf("all skips expected: exit %d", code)
	}
	out, code := run(t, passing, []string{"TestDM"}, true)
	if code != 1 || !strings.Contains(out, "unexpected skip: TestSub/x (x/a): needs root") {
		t.Errorf("exit %d, output:\n%s", code, out)
	}
	if _, code := run(t, passing, nil, false); code != 0 {
		t.Errorf("not strict: exit %d", code)
	}
}
