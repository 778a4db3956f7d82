#!/usr/bin/env bash
# Build the Zig example plugin into a component: label.wasm.
# Needs Zig 0.17 as PyPI ships it (pip install ziglang==0.17.0, run as
# `python3 -m ziglang`) and sluice, which writes the C bindings
# (`plugin bindings --lang c`) and makes the component out of the core module
# (`plugin wrap`).
set -euo pipefail
out="${1:-$(dirname "$0")/label.wasm}"
[[ $out == /* ]] || out="$PWD/$out"
cd "$(dirname "$0")"
sluice="${SLUICE:-sluice}"
zig=(python3 -m ziglang)

# Fresh bindings on every build, so that they always match this sluice's contract.
rm -rf gen
"$sluice" plugin bindings --lang c --out-dir gen >/dev/null
# Zig 0.17 has no @cImport: translate the header into a Zig file once per build.
"${zig[@]}" translate-c -target wasm32-wasi -lc gen/plugin.h >gen/plugin.zig.tmp
mv gen/plugin.zig.tmp gen/plugin.zig
# reactor without an entry point: a library the router calls into, not a program.
# plugin.c holds the canonical ABI glue; plugin_component_type.o carries the
# contract, which `plugin wrap` then finds.
# --stack: Zig's default 16 MiB stack would be most of every instance's memory.
"${zig[@]}" build-exe -target wasm32-wasi -fno-entry -mexec-model=reactor -O ReleaseSmall -lc \
    --stack 1048576 --cache-dir .zig-cache -femit-bin=core.wasm \
    plugin.zig gen/plugin.c gen/plugin_component_type.o
"$sluice" plugin wrap core.wasm -o "$out"
