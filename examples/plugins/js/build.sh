#!/usr/bin/env bash
# Build the JavaScript example plugin into a component: label.wasm (or the path in $1).
# Needs Node.js and npm; componentize-js (the StarlingMonkey engine) comes
# from npm's @bytecodealliance/componentize-js and is installed on first use
# into $SLUICE_TOOLS (default ~/.cache/sluice), outside the repository so that
# no node_modules ends up in the source tree.
#
# Not componentize-qjs (QuickJS, a tenth of the size): its 0.4.5 composes its
# output with wasm-compose, which re-encodes a world's types that refer to
# other types (the contract's `outcome` holds `edit`, which holds `field`) as
# unnamed copies, and the router refuses the result ("type not valid to be
# used as import").
set -euo pipefail
out="$(realpath -m "${1:-label.wasm}")"
cd "$(dirname "$0")"

CJS=0.22.0
tools="${SLUICE_TOOLS:-$HOME/.cache/sluice}/componentize-js-$CJS"
cjs="$tools/node_modules/.bin/componentize-js"
if [[ ! -x $cjs ]]; then
    command -v npm >/dev/null || { echo "the JavaScript example needs Node.js and npm" >&2; exit 1; }
    mkdir -p "$(dirname "$tools")"
    # Install beside the final directory and rename it into place, so that an
    # interrupted or concurrent install never leaves a half-filled tools dir.
    staging="$(mktemp -d "$tools.XXXXXX")"
    trap 'rm -rf "$staging"' EXIT
    npm install --prefix "$staging" --save-exact --no-audit --no-fund --loglevel=error \
        "@bytecodealliance/componentize-js@$CJS"
    mv -T "$staging" "$tools" 2>/dev/null || [[ -x $cjs ]]
fi

# The contract comes from the sluice the plugin is built for.
"${SLUICE:-sluice}" plugin bindings --lang wit --out-dir wit >/dev/null
# -d: the router's sandbox grants no HTTP, stdio, randomness or clocks
# (plugins get the contract's own clock); without them the component imports
# nothing but the contract.
"$cjs" app.js --wit wit -d http fetch-event stdio random clocks -o "$out" >/dev/null
