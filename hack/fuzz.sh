#!/usr/bin/env bash
# Runs every Go fuzz target of the main module for DURATION each (default 60s),
# or for N inputs each when given as Nx (make test: 10000x).
# `make test` runs them briefly; `make fuzz` for minutes. Fuzz targets live next
# to the code they fuzz, with a seed corpus in testdata/fuzz/.
set -euo pipefail
cd "$(dirname "$0")/.."
dur=${1:-60s}
for pkg in $(go list ./... | grep -v /test/); do
  # A package whose tests do not build fails here, rather than being skipped as one without targets.
  list=$(go test -list '^Fuzz' "$pkg") || { echo "fuzz: cannot list the fuzz targets of $pkg" >&2; exit 1; }
  for target in $(grep '^Fuzz' <<<"$list" || true); do
    echo "fuzz: $pkg $target for $dur"
    go test -run='^$' -fuzz="^${target}\$" -fuzztime="$dur" "$pkg"
  done
done
