#!/usr/bin/env bash
# Build the Python example plugin into a component: label.wasm.
# Needs componentize-py from PyPI (pip install componentize-py==0.25.1).
set -euo pipefail
cd "$(dirname "$0")"
componentize-py -d ../../../wit -w plugin componentize app -o "${1:-label.wasm}"
