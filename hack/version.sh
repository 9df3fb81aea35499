#!/usr/bin/env bash
# Prints the version `make build` stamps into certctl (cmd.version): `git describe` of the
# checkout (a tag when there is one, else the commit, "-dirty" with uncommitted changes), or
# "dev" outside a git checkout. internal/testcluster stamps the certctl it builds the same way.
cd "$(dirname "$0")/.." && git describe --tags --always --dirty 2>/dev/null || echo dev
