#!/usr/bin/env bash
# Build the AssemblyScript example plugin into a component: label.wasm.
# Needs Node.js (18 or later) and npm; asc comes from npm's assemblyscript and
# is installed on first use into $SLUICE_TOOLS (default ~/.cache/sluice),
# outside the repository so that no node_modules ends up in the source tree.
# Needs sluice too, whose `plugin wrap` makes the component.
set -euo pipefail
out="${1:-$(dirname "$0")/label.wasm}"
[[ $out == /* ]] || out="$PWD/$out"
cd "$(dirname "$0")"

# The sluice-plugin package: the repository's own for its example, the copy
# `sluice plugin new` vendors into a new project.
sdk=../../../plugins/sdk-assemblyscript

AS=0.28.20
tools="${SLUICE_TOOLS:-$HOME/.cache/sluice}/assemblyscript-$AS"
asc="$tools/node_modules/.bin/asc"
if [[ ! -x $asc ]]; then
    command -v npm >/dev/null || { echo "the AssemblyScript example needs Node.js and npm" >&2; exit 1; }
    mkdir -p "$(dirname "$tools")"
    # Install beside the final directory and rename it into place, so that an
    # interrupted or concurrent install never leaves a half-filled tools dir.
    staging="$(mktemp -d "$tools.XXXXXX")"
    trap 'rm -rf "$staging"' EXIT
    npm install --prefix "$staging" --save-exact --no-audit --no-fund --loglevel=error "assemblyscript@$AS"
    mv -T "$staging" "$tools" 2>/dev/null || [[ -x $asc ]]
fi

core="$(mktemp -d)"
trap 'rm -rf "$core" "${staging:-}"' EXIT
# asc finds a package in a directory of its own name on its --path, as in
# node_modules: give it one.
mkdir "$core/lib"
cp -R "$sdk" "$core/lib/sluice-plugin"
# incremental: the plugin keeps state across calls, so memory must be
# collected (the stub runtime never frees). The package's abort replaces the
# `env.abort` import, which the contract does not provide.
"$asc" plugin.ts --path "$core/lib" -O3 --runtime incremental --use abort=~lib/sluice-plugin/abi/abort \
    -o "$core/label.core.wasm"
# AssemblyScript strings are UTF-16: the router transcodes at the boundary.
"${SLUICE:-sluice}" plugin wrap "$core/label.core.wasm" -o "$out" --encoding utf16
