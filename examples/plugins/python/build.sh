#!/usr/bin/env bash
# Build the Python example plugin into a component: label.wasm (or the path in $1).
# Needs componentize-py from PyPI (pip install componentize-py==0.25.1), and
# sluice (or $SLUICE) for the contract it is built against.
set -euo pipefail
out="$(realpath -m "${1:-label.wasm}")"
cd "$(dirname "$0")"
"${SLUICE:-sluice}" plugin bindings --lang wit --out-dir wit >/dev/null
componentize-py -d wit -w plugin componentize app -o "$out"
