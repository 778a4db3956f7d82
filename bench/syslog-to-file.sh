#!/usr/bin/env bash
# Quick throughput check of the syslog source: the shared harness's loadgen
# sends N octet-counted RFC 5424 messages over one TCP connection to sluice,
# which writes one event per line to a file (no plugins). Prints events/s per
# run and the median. Usage: bench/syslog-to-file.sh [N] [RUNS]
set -euo pipefail
cd "$(dirname "$0")/.."
N=${1:-500000}
RUNS=${2:-3}
BENCH=${BENCH_DIR:-../shared/bench}
WORK=$(mktemp -d)
trap 'kill "${SLUICE_PID:-}" 2>/dev/null || true; rm -rf "$WORK"' EXIT

cargo build --release -q
(cd "$BENCH/tools" && CARGO_TARGET_DIR="$WORK/tools" cargo build --release -q)
python3 "$BENCH/corpus/gen_corpus.py" --events 20000 --seed 42 --out "$WORK/corpus.txt" >/dev/null

rates=()
for run in $(seq "$RUNS"); do
  port=$((15150 + run))
  rm -rf "$WORK/data" "$WORK/out.jsonl"
  cat > "$WORK/sluice.toml" <<TOML
data_dir = "$WORK/data"
[sources.in]
type = "syslog"
mode = "tcp"
address = "127.0.0.1:$port"
framing = "octet-counting"
[sinks.out]
type = "file"
inputs = ["in"]
path = "$WORK/out.jsonl"
TOML
  RUST_LOG=warn target/release/sluice run --config "$WORK/sluice.toml" & SLUICE_PID=$!
  until (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; do sleep 0.05; done
  start=$(date +%s.%N)
  "$WORK/tools/release/loadgen" --corpus "$WORK/corpus.txt" --port "$port" --count "$N" >/dev/null 2>&1
  while [ "$(wc -l < "$WORK/out.jsonl" 2>/dev/null || echo 0)" -lt "$N" ]; do sleep 0.1; done
  end=$(date +%s.%N)
  kill -TERM "$SLUICE_PID"; wait "$SLUICE_PID" || true
  rate=$(python3 -c "print(int($N / ($end - $start)))")
  echo "run $run: $N events in $(python3 -c "print(round($end - $start, 2))") s = $rate events/s"
  rates+=("$rate")
done
printf '%s\n' "${rates[@]}" | sort -n | awk '{a[NR]=$1} END {print "median: " a[int((NR+1)/2)] " events/s"}'
