#!/usr/bin/env bash
# Build the C example plugin into a component: label.wasm.
# Needs Debian's clang-16, lld-16, libclang-rt-16-dev-wasm32 and wasi-libc
# (apt-get install clang-16 lld-16 libclang-rt-16-dev-wasm32 wasi-libc), and
# sluice, which writes the C bindings (`plugin bindings --lang c`) and makes
# the component out of the core module (`plugin wrap`).
set -euo pipefail
out="${1:-$(dirname "$0")/label.wasm}"
[[ $out == /* ]] || out="$PWD/$out"
cd "$(dirname "$0")"
sluice="${SLUICE:-sluice}"

# Fresh bindings on every build, so that they always match this sluice's contract.
rm -rf gen
"$sluice" plugin bindings --lang c --out-dir gen >/dev/null
# --sysroot=/usr: Debian's wasi-libc lives in /usr/{include,lib}/wasm32-wasi.
# reactor: a library the router calls into, not a program with a main.
# plugin_component_type.o carries the contract, which `plugin wrap` then finds.
# --strip-debug: Debian's wasi-libc ships with debug info, 2/3 of the module.
clang-16 --target=wasm32-wasi --sysroot=/usr -O2 -mexec-model=reactor -Wall -Wextra -Wl,--strip-debug \
    gen/plugin.c plugin.c json.c gen/plugin_component_type.o -o core.wasm
"$sluice" plugin wrap core.wasm -o "$out"
