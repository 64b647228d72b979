#!/usr/bin/env bash
# The reliability suite (issue 8, part 2): runs each check, says what it
# ran, and prints every measured figure as "figure: NAME VALUE UNIT".
#   FUZZTIME=20s        how long each fuzz target runs
#   RELIABILITY_QUICK=1 skip the long real-VM checks (they run by default as
#                       root with a bundle in BANGER_TEST_RUNTIME or ./runtime)
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
  corpus=$(find "${pkg#./}/testdata/fuzz/$name" -type f 2>/dev/null | wc -l)
  figure "fuzz.$name.execs" "${execs:-0}" execs
  figure "fuzz.$name.seed-corpus" "$corpus" inputs
  rm -f "$log"
done

# Items 1-7 and 10 (docs/testing.md, "Reliability suite: what each check
# proves"): TestReliability* in internal/daemon and e2e. The long ones boot
# real VMs and need root, qemu and a bundle; BANGER_RELIABILITY=1 turns them
# on. Their figures are lifted from go test -v.
export BANGER_TEST_RUNTIME=${BANGER_TEST_RUNTIME:-$PWD/runtime}
if [ "$(id -u)" -eq 0 ] && [ -f "$BANGER_TEST_RUNTIME/bundle.json" ] && [ -z "${RELIABILITY_QUICK:-}" ]; then
  export BANGER_RELIABILITY=1
else
  say "vm-reliability: long real-VM checks skipped (need root and a bundle in $BANGER_TEST_RUNTIME; RELIABILITY_QUICK=1 also skips them)"
fi
log=$(mktemp /tmp/banger-reliability-XXXX.log)
if check vm-reliability bash -o pipefail -c "$GO test -count=1 -v -timeout 40m -run 'Reliability' ./internal/daemon/ ./e2e/ 2>&1 | tee '$log' | grep -E '^(--- |ok|FAIL|PASS)|figure:'"; then
  rm -f "$log"
else
  # What the failing checks said (without the daemons' debug logs).
  grep -v 'level=DEBUG' "$log" | grep -E -B2 -A12 '^\s+\S+_test\.go:[0-9]+:' | head -80
  say "vm-reliability: full output kept in $log"
fi

say "reliability: $([ $failed = 0 ] && echo PASS || echo FAIL)"
exit $failed
