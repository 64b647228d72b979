#!/usr/bin/env bash
# The reliability suite (issue 8, part 2): runs each check, says what it
# ran, and prints every measured figure as "figure: NAME VALUE UNIT".
#   FUZZTIME=20s        how long each fuzz target runs
#   RELIABILITY_VM=1    also run the real-VM checks (root, qemu, a bundle)
set -euo pipefail
cd "$(dirname "$0")/.."
GO=${GO:-go}
FUZZTIME=${FUZZTIME:-20s}
failed=0

say() { printf '\n== %s\n' "$*"; }
# figure NAME VALUE UNIT: one measured number, in the format docs/testing.md records.
figure() { printf 'figure: %s %s %s\n' "$1" "$2" "$3"; }
# check NAME CMD...: runs one check, reports its result and duration.
check() {
  local name=$1; shift
  say "$name: $*"
  local start=$SECONDS
  if "$@"; then
    echo "ok: $name"
  else
    echo "FAIL: $name"
    failed=1
  fi
  figure "$name.seconds" $((SECONDS - start)) s
}

# Check 8: tampered runtime bundles are refused and leave nothing behind.
check bundle-tamper "$GO" test -count=1 -run 'TestTamperedBundleRefused|TestTotalSizeCap|TestFetchFailuresKeepOldBundle' ./internal/bundle/
# One subtest per tampered archive and target state (new, replacing).
out=$("$GO" test -count=1 -v -run 'TestTamperedBundleRefused' ./internal/bundle/ || true)
figure bundle-tamper.archives "$(grep -c -- '--- [A-Z]*: TestTamperedBundleRefused/' <<<"$out" || true)" cases
figure bundle-tamper.refused-cleanly "$(grep -c -- '--- PASS: TestTamperedBundleRefused/' <<<"$out" || true)" cases

# Check 9: fuzz targets, each for FUZZTIME, seeded from testdata/fuzz/<Name>/.
# An input that breaks an invariant is written there by go test: commit it
# with the fix, it then runs in every plain `go test` as a regression case.
for target in ./internal/daemon:FuzzDecode ./internal/namegen:FuzzValidate ./internal/config:FuzzLoad ./internal/dns:FuzzHandler; do
  pkg=${target%%:*} name=${target##*:}
  log=$(mktemp)
  check "fuzz.$name" bash -o pipefail -c "$GO test -run '^$name\$' -fuzz '^$name\$' -fuzztime '$FUZZTIME' '$pkg' 2>&1 | tee '$log' | tail -3"
  execs=$(grep -o 'execs: [0-9]*' "$log" | tail -1 | awk '{print $2}')
  corpus=$(ls "${pkg#./}/testdata/fuzz/$name" 2>/dev/null | wc -l)
  figure "fuzz.$name.execs" "${execs:-0}" execs
  figure "fuzz.$name.seed-corpus" "$corpus" inputs
  rm -f "$log"
done

# ---------------------------------------------------------------------------
# Real-VM reliability checks (issue 8, part 2, items 1-7 and 10) go here.
# They live in e2e/ as tests named TestReliability* (root, qemu, a bundle in
# BANGER_TEST_RUNTIME) and print their figures with t.Logf("figure: NAME
# VALUE UNIT"); the grep below lifts those lines into this script's output.
# ---------------------------------------------------------------------------
if [ -n "${RELIABILITY_VM:-}" ]; then
  log=$(mktemp)
  check vm-reliability bash -o pipefail -c "$GO test -count=1 -v -timeout 30m -run 'Reliability' ./e2e/ 2>&1 | tee '$log' | grep -E '^(---|ok|FAIL|PASS)|figure:'"
  grep -o 'figure: .*' "$log" | sed 's/^/  /' || true
  rm -f "$log"
else
  say "vm-reliability: skipped (set RELIABILITY_VM=1; needs root, qemu and a runtime bundle)"
fi

say "reliability: $([ $failed = 0 ] && echo PASS || echo FAIL)"
exit $failed
