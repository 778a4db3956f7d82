#!/usr/bin/env bash
# Each HTTP sink's throughput into a local receiver (bench/http_receiver.py,
# which answers as each vendor does on success): N events from a file source
# straight to the sink (no transform, so the figure is the sink's own), timed
# from the router's start to the receiver's count reaching N.
#
#   bench/http-sinks.sh            # N=200000 (webhook: N/40, one request per event)
#   N=500000 bench/http-sinks.sh http elasticsearch
#
# Release build of this checkout; prints one line per sink, with the load
# average, so figures are compared within one invocation only.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
bin=$here/../target/release/sluice
[ -x "$bin" ] || (cd "$here/.." && cargo build --release -p sluice)
n=${N:-200000}
sinks=("$@")
[ ${#sinks[@]} -gt 0 ] || sinks=(http elasticsearch splunk_hec azure_monitor_logs webhook)
work=$(mktemp -d)
trap 'kill $(jobs -p) 2>/dev/null; rm -rf "$work"' EXIT
port=$((20000 + RANDOM % 20000))

corpus() { # $1 events, cycling the shared sample
  python3 - "$1" "$here/peer/corpus-sample.jsonl" > "$2" <<'PY'
import sys
lines = open(sys.argv[2]).read().splitlines()
n = int(sys.argv[1])
out = sys.stdout
for i in range(n):
    out.write(lines[i % len(lines)] + "\n")
PY
}

sink_keys() { # $1 sink type → its keys
  local uri=http://127.0.0.1:$port
  case $1 in
    http) echo "uri = \"$uri/ingest\"" ;;
    elasticsearch) echo "uri = \"$uri\"
data_stream = \"logs-sluice-bench\"" ;;
    splunk_hec) echo "uri = \"$uri\"
token = \"bench\"" ;;
    azure_monitor_logs) echo "endpoint = \"$uri\"
dcr_immutable_id = \"dcr-00000000000000000000000000000000\"
stream_name = \"Custom-SluiceBench\"
tenant_id = \"00000000-0000-0000-0000-000000000000\"
client_id = \"bench\"
client_secret = \"bench\"
token_endpoint = \"$uri/token\"" ;;
    webhook) echo "uri = \"$uri/webhook\"
secret = \"bench-secret-of-sixteen-bytes\"" ;;
  esac
}

echo "load average: $(cut -d' ' -f1-3 /proc/loadavg); N=$n; $(git -C "$here" rev-parse --short HEAD)"
printf '%-20s %10s %12s %18s %20s\n' sink events events/s "router CPU µs/ev" "receiver CPU µs/ev"
for sink in "${sinks[@]}"; do
  events=$n
  [ "$sink" = webhook ] && events=$((n / 40))
  dir=$work/$sink && mkdir -p "$dir/logs"
  corpus "$events" "$dir/logs/events.log"
  echo 0 > "$dir/count"
  python3 "$here/http_receiver.py" "$port" "$dir/count" & receiver=$!
  sleep 0.5
  cat > "$dir/sluice.toml" <<TOML
data_dir = "$dir/data"
[sources.in]
type = "file"
include = ["$dir/logs/*.log"]
decoding = "json"
[sinks.out]
type = "$sink"
inputs = ["in"]
$(sink_keys "$sink")
TOML
  start=$(date +%s.%N)
  "$bin" run --config "$dir/sluice.toml" 2> "$dir/sluice.log" & router=$!
  while [ "$(cat "$dir/count")" -lt "$events" ]; do  # the receiver replaces the file whole
    kill -0 $router 2>/dev/null || { echo "$sink: the router stopped; see its log:"; tail "$dir/sluice.log"; exit 1; }
    sleep 0.05
  done
  end=$(date +%s.%N)
  # utime + stime of each, in clock ticks: who was the bottleneck.
  ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }
  router_cpu=$(ticks $router) receiver_cpu=$(ticks $receiver) hz=$(getconf CLK_TCK)
  kill $router; wait $router 2>/dev/null || true
  kill $receiver; wait $receiver 2>/dev/null || true
  printf '%-20s %10d %12.0f %18.1f %20.1f\n' "$sink" "$events" "$(echo "$events / ($end - $start)" | bc -l)" \
    "$(echo "$router_cpu / $hz * 1000000 / $events" | bc -l)" "$(echo "$receiver_cpu / $hz * 1000000 / $events" | bc -l)"
  port=$((port + 1))
done
