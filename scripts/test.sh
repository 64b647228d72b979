#!/usr/bin/env bash
# The test command: make sure the host packages and a runtime bundle exist
# (both cached, fast when present), then vet and run every test, including
# the end-to-end tests that boot real VMs. go test's output goes through
# internal/tools/testsum: failing tests and go test's own ok/FAIL lines as
# usual, then "skipped: N" and one "skip: TestName: reason" line per skip.
#   CACHE=/var/cache/banger-ci  where bootstrap tarballs and kernels are kept
#   TESTFLAGS="-run X"           extra go test flags
#   CI=true                      a skip not in testdata/expected-skips.txt fails
set -euo pipefail
cd "$(dirname "$0")/.."
CACHE=${CACHE:-$HOME/.cache/banger}

./scripts/install-deps.sh
make build
if [ ! -f runtime/bundle.json ] || [ -n "${REBUILD_BUNDLE:-}" ]; then
  ./banger bundle build --dir runtime --cache-dir "$CACHE" --kernel both
fi
export BANGER_TEST_RUNTIME=$PWD/runtime
go vet ./...
unformatted=$(gofmt -l . | grep -v '^vendor/' || true)
if [ -n "$unformatted" ]; then
  echo "gofmt needed: $unformatted" >&2
  exit 1
fi
# shellcheck disable=SC2086
./scripts/gotest.sh -count=1 -timeout 45m ${TESTFLAGS:-} ./...
