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
    # Minimizing a new input may take Go's default 60 s, during which the
    # target's runs are not counted: at 60 s, FuzzReadPair and FuzzLoad
    # spent most of theirs minimizing rather than fuzzing.
    go test -run='^$' -fuzz="^${target}\$" -fuzztime="$dur" -fuzzminimizetime=5s "$pkg"
  done
done
