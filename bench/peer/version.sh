#!/usr/bin/env bash
# One line: the version of the sluice binary start.sh runs, and the commit.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
bin=$here/../../target/release/sluice
[ -x "$bin" ] || { echo "sluice not built (run $here/setup.sh)" >&2; exit 1; }
hash=$(git -C "$here" rev-parse --short HEAD 2>/dev/null || echo unknown)
git -C "$here" diff --quiet HEAD 2>/dev/null || hash=$hash+dirty
echo "$("$bin" --version) ($hash)"
