#!/usr/bin/env bash
# Hot-reload swap pause: the release router (target/release/sluice) under a
# steady file stream of 100,000 events, its plugin renamed into place 10
# times (version-one and version-two of the test plugins, from the plugin
# build in target/plugins). Prints every worker's `pause_us` from the log,
# sorted, then the number of events delivered.
#
#   bench/swap-pause.sh
set -euo pipefail
d=$(mktemp -d)
cd "$(dirname "$0")/.."

p=target/plugins/wasm32-wasip2/plugin
mkdir -p $d/plugins $d/logs
cp $p/sluice_plugin_version_one.wasm $d/plugins/stamp.wasm
cat > $d/sluice.toml <<TOML
data_dir = "$d/data"
[plugins]
dir = "$d/plugins"
[sources.agents]
type = "file"
include = ["$d/logs/*.jsonl"]
[transforms.stamp]
type = "wasm"
plugin = "stamp"
inputs = ["agents"]
[sinks.out]
type = "file"
inputs = ["stamp"]
path = "$d/out.jsonl"
TOML
RUST_LOG=info target/release/sluice run --config $d/sluice.toml > $d/log 2>&1 &
pid=$!
sleep 3
( for i in $(seq 1 400); do for j in $(seq 1 250); do echo "{\"n\":$i$j}"; done >> $d/logs/a.jsonl; sleep 0.02; done ) &
w=$!
for s in $(seq 1 10); do
  sleep 0.6
  if [ $((s % 2)) = 1 ]; then cp $p/sluice_plugin_version_two.wasm $d/plugins/.tmp; else cp $p/sluice_plugin_version_one.wasm $d/plugins/.tmp; fi
  mv $d/plugins/.tmp $d/plugins/stamp.wasm
done
wait $w; sleep 2; kill $pid; wait $pid || true
grep -o 'pause_us=[0-9]*' $d/log | cut -d= -f2 | sort -n | tr '\n' ' '; echo
grep -c '' $d/out.jsonl
