#!/usr/bin/env bash
# Build the JavaScript example plugin into a component: label.wasm (or the path in $1).
# Needs Node.js and npm; componentize-qjs comes from npm's @bytecodealliance/jco
# and is installed on first use into $SLUICE_TOOLS (default ~/.cache/sluice),
# outside the repository so that no node_modules ends up in the source tree.
set -euo pipefail
out="$(realpath -m "${1:-label.wasm}")"
cd "$(dirname "$0")"

JCO=1.35.0
# jco asks for componentize-qjs ^0.4.5; pin the release this example is known
# to build with, so that a new one cannot change the build behind our back.
QJS=0.4.5
tools="${SLUICE_TOOLS:-$HOME/.cache/sluice}/jco-$JCO"
qjs="$tools/node_modules/.bin/componentize-qjs"
if [[ ! -x $qjs ]]; then
    mkdir -p "$(dirname "$tools")"
    # Install beside the final directory and rename it into place, so that an
    # interrupted or concurrent install never leaves a half-filled tools dir.
    staging="$(mktemp -d "$tools.XXXXXX")"
    trap 'rm -rf "$staging"' EXIT
    npm install --prefix "$staging" --save-exact --no-audit --no-fund --loglevel=error \
        "@bytecodealliance/jco@$JCO" "componentize-qjs@$QJS"
    mv -T "$staging" "$tools" 2>/dev/null || [[ -x $qjs ]]
fi

# The contract comes from the sluice the plugin is built for.
"${SLUICE:-sluice}" plugin bindings --lang wit --out-dir wit >/dev/null
# --sync: the default runtime uses the component-model async ABI, which the
# router does not enable.
"$qjs" --wit wit --js app.js --sync -o "$out"
