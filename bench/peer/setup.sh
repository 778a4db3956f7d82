#!/usr/bin/env bash
# Build the release binary that start.sh runs (idempotent: cargo does nothing
# when it is up to date).
set -euo pipefail
cd "$(dirname "$0")/../.."
cargo build --release -p sluice
