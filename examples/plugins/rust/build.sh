#!/usr/bin/env bash
# Build the Rust example plugin into a component: label.wasm (or the path in $1).
# Needs Rust with the wasm32-wasip2 target (rustup target add wasm32-wasip2).
set -euo pipefail
out="$(realpath -m "${1:-label.wasm}")"
cd "$(dirname "$0")"
rustup target list --installed 2>/dev/null | grep -qx wasm32-wasip2 || rustup target add wasm32-wasip2
crate="$(sed -n 's/^name = "\(.*\)"$/\1/p' Cargo.toml | head -n1 | tr - _)"
cargo build --quiet --release --target wasm32-wasip2 --target-dir target
cp "target/wasm32-wasip2/release/$crate.wasm" "$out"
