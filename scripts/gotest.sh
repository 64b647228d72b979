#!/usr/bin/env bash
# go test with a skip summary: runs `go test -json ARGS` and pipes it
# through internal/tools/testsum, which prints failing tests and go test's
# ok/FAIL lines, then "skipped: N" and "skip: TestName: reason" lines. Under
# CI=true a skip not listed in testdata/expected-skips.txt fails the run.
# The exit status is go test's, or 1 for an unexpected skip. A package
# whose test binary a panic killed is run again (by testsum, with the same
# flags and -skip for the tests that already ended) so the tests after the
# panicking one still report.
set -euo pipefail
cd "$(dirname "$0")/.."
GO=${GO:-go}
bin=$(mktemp -d)
trap 'rm -rf "$bin"' EXIT
$GO build -o "$bin/testsum" ./internal/tools/testsum
export GO
$GO test -json "$@" | "$bin/testsum" -expected testdata/expected-skips.txt -- "$@"
