#!/usr/bin/env bash
# make bench: boot and host-path figures, printed as `figure: NAME VALUE UNIT`
# lines (see BENCHMARKS.md). Needs root and a runtime bundle.
#   RUNS=N       boots per figure (default 3; the machine is noisy, few runs)
#   BENCH_CACHE  bundle-build cache for the stock baseline image
#                (default /var/cache/banger-ci when it exists, else ~/.cache/banger)
#   ONLY=regex   run only the matching benchmarks
#   BENCH_KERNEL_FRAGMENT  fragment the stock bundle's kernel is built from
#                (default kernel/microvm.fragment; must be the one the
#                runtime bundle was built with, so both boot the same kernel)
set -euo pipefail
cd "$(dirname "$0")/.."
RUNS=${RUNS:-3}
export BANGER_TEST_RUNTIME=${BANGER_TEST_RUNTIME:-$PWD/runtime}
cache=${BENCH_CACHE:-}
if [ -z "$cache" ]; then
  if [ -d /var/cache/banger-ci ]; then cache=/var/cache/banger-ci; else cache=$HOME/.cache/banger; fi
fi

# The stock baseline: the same package list bootstrapped with only the
# guest files banger needs (e2e/testdata/stock-guest: identity, label mount
# with fsck, resize every boot, stock sshd ordering) and no unit masks.
# Rebuilt when the package list or those files change; the kernel and the
# debootstrap tarball come from the cache.
stock=$cache/bench-stock
frag=${BENCH_KERNEL_FRAGMENT:-kernel/microvm.fragment}
want=$(cat packages.apt e2e/testdata/stock-guest/* "$frag" | sha256sum | cut -c1-16)
if [ "$(cat "$stock/.bench-key" 2>/dev/null)" != "$want" ]; then
  echo "building the stock baseline bundle in $stock" >&2
  ./banger bundle build --dir "$stock" --cache-dir "$cache" --kernel microvm \
    --kernel-fragment "$frag" --guest-dir e2e/testdata/stock-guest --untuned >&2
  echo "$want" >"$stock/.bench-key"
fi
if ! cmp -s "$stock/bzImage" "$BANGER_TEST_RUNTIME/bzImage"; then
  echo "bench: the stock bundle's kernel differs from $BANGER_TEST_RUNTIME's: set BENCH_KERNEL_FRAGMENT to the fragment the runtime was built with" >&2
  exit 1
fi
export BANGER_BENCH_STOCK_RUNTIME=$stock

log=$(mktemp /tmp/banger-bench-XXXX.log)
echo "full output: $log" >&2
run() { # run BENCH BENCHTIME
  if [ -n "${ONLY:-}" ] && ! [[ $1 =~ $ONLY ]]; then return 0; fi
  if ! go test -run '^$' -bench "^$1\$" -benchtime="$2" -count=1 -timeout 90m ./e2e/ >>"$log" 2>&1; then
    tail -40 "$log" >&2
    return 1
  fi
  # go test runs a benchmark once with N=1 before the N runs asked for:
  # keep the last value of each figure.
  # go test may print a benchmark's name and its first output line
  # together ("BenchmarkX-2   figure: ..."), so match anywhere in the line.
  grep -o 'figure: .*' "$log" | tail -n +$(( $(cat "$log.n" 2>/dev/null || echo 0) + 1 )) |
    awk '{ if (!($2 in v)) order[n++] = $2; v[$2] = $0 } END { for (i = 0; i < n; i++) print v[order[i]] }'
  grep -c 'figure: ' "$log" >"$log.n" || true
}
run BenchmarkVMList100 50x
run BenchmarkBoot "${RUNS}x"
run BenchmarkCreateToSSH "${RUNS}x"
run BenchmarkIdleRSS 1x
# Suspend/resume: figure: resume_ratio and figure: suspend_s (1 GiB guest).
run BenchmarkResume "${RUNS}x"
run BenchmarkDockerImageBoot "${RUNS}x"
rm -f "$log.n"
