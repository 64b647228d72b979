#!/usr/bin/env bash
# make bench: create->SSH through banger vs the same qemu booted by a script
# (median of RUNS runs each, and their ratio), and `vm list` CLI latency
# with 100 VMs in the state database. Needs root and a runtime bundle.
set -euo pipefail
cd "$(dirname "$0")/.."
RUNS=${RUNS:-5}
export BANGER_TEST_RUNTIME=${BANGER_TEST_RUNTIME:-$PWD/runtime}
go test -run '^$' -bench 'BenchmarkVMList100' -benchtime=50x -count=1 ./e2e/
go test -run '^$' -bench 'BenchmarkCreateToSSH' -benchtime="${RUNS}x" -count=1 -timeout 60m ./e2e/
