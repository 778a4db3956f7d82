#!/usr/bin/env bash
# End-to-end latency of sluice at a fixed offered rate (the throughput runs of
# the shared harness measure how fast it can go; this measures how long each
# event takes at a rate it can sustain).
#
#   bench/latency.sh [PIPELINE] [RATE] [SECS]      defaults: P1 10000 10
#
# The tool bench/latency (std-only Rust, built into target/bench-latency) sends
# RATE events/s for SECS seconds from the shared harness corpus
# (gen_corpus.py --events 20000 --seed 42), octet-counted RFC 5424 over TCP
# exactly as the harness's loadgen frames them but with each event_id set to
# lat-<seq>, on a steady schedule (a burst of the due events every ~1 ms). It
# listens for sluice's LF-framed output, finds lat-<seq> in each line (P0: the
# JSON as sent, P1: externalId=lat-<seq> in the CEF line) and reports, per
# event, receive time − send time: p50/p90/p99/p99.9/max in ms, plus the rate
# asked/achieved and events sent/received/lost. sluice runs from
# bench/peer/start.sh (the harness's peer contract) in a temporary RUN_DIR on
# two free loopback ports and is stopped with SIGTERM afterwards.
#
# Exit status: the tool's (0 = every event arrived, 1 = some lost), else 1.
# sluice is built first (cargo build --release -p sluice: nothing to do when
# it is up to date), so the figures are always the tree's.
# Environment: BENCH_DIR (shared harness, default ../shared/bench),
# LATENCY_ARGS (extra tool options, e.g. "--settle-ms 2000 --wait-secs 20"),
# KEEP_RUN_DIR=1 (keep the temp dir with sluice's config and log).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
PIPELINE=${1:-P1}
RATE=${2:-10000}
SECS=${3:-10}
BENCH_DIR=$(cd "${BENCH_DIR:-$root/../shared/bench}" && pwd)
export BENCH_DIR
TARGET=$root/target/bench-latency
TOOL=$TARGET/release/latency
SLUICE=$root/target/release/sluice
log() { printf '[latency.sh %s] %s\n' "$(date +%T)" "$*" >&2; }

# ---- the tool, the router, the corpus
log "building the latency tool (target $TARGET)"
CARGO_TARGET_DIR=$TARGET cargo build --release -q --manifest-path "$root/bench/latency/Cargo.toml"
log "building sluice (cargo build --release -p sluice)"
cargo build --release -q -p sluice
CORPUS=$TARGET/corpus-20000-42.jsonl   # deterministic, so generated once and kept
if [ ! -s "$CORPUS" ]; then
  log "generating the corpus $CORPUS"
  python3 "$BENCH_DIR/corpus/gen_corpus.py" --events 20000 --seed 42 --out "$CORPUS.tmp"
  mv "$CORPUS.tmp" "$CORPUS"
fi

# ---- scratch dir, free ports
RUN_DIR=$(mktemp -d "${TMPDIR:-/tmp}/sluice-latency.XXXXXX")
SLUICE_PID="" TOOL_PID=""
stop_sluice() {  # SIGTERM, up to 10 s, then SIGKILL; only the process we started
  local pid=$SLUICE_PID i
  [ -n "$pid" ] || return 0
  SLUICE_PID=""
  kill -TERM "$pid" 2>/dev/null || return 0
  for ((i = 0; i < 100; i++)); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
  if kill -0 "$pid" 2>/dev/null; then
    log "sluice ($pid) ignored SIGTERM for 10 s: SIGKILL"
    kill -KILL "$pid" 2>/dev/null || true
  fi
  wait "$pid" 2>/dev/null || true
}
cleanup() {
  [ -n "$TOOL_PID" ] && kill -TERM "$TOOL_PID" 2>/dev/null || true
  stop_sluice
  if [ "${KEEP_RUN_DIR:-0}" = 1 ]; then log "kept $RUN_DIR"; else rm -rf "$RUN_DIR"; fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM
read -r IN_PORT OUT_PORT < <(python3 -c '
import socket
s = [socket.socket() for _ in range(2)]
for x in s: x.bind(("127.0.0.1", 0))
print(*(x.getsockname()[1] for x in s))')

# ---- run: the tool listens on OUT_PORT first, then sluice starts
log "$PIPELINE at $RATE events/s for $SECS s; $("$SLUICE" --version 2>/dev/null || echo '?'); in :$IN_PORT out :$OUT_PORT; run dir $RUN_DIR"
# shellcheck disable=SC2086  # LATENCY_ARGS is a list of options
"$TOOL" --corpus "$CORPUS" --in-port "$IN_PORT" --out-port "$OUT_PORT" --rate "$RATE" --secs "$SECS" \
  --label "sluice $PIPELINE, $RATE events/s, $SECS s" ${LATENCY_ARGS:-} &
TOOL_PID=$!
for ((i = 0; i < 100; i++)); do  # until the listener is up (at most 10 s)
  ss -Hltn "sport = :$OUT_PORT" 2>/dev/null | grep -q . && break
  kill -0 "$TOOL_PID" 2>/dev/null || break
  sleep 0.1
done
(IN_PORT=$IN_PORT OUT_PORT=$OUT_PORT PIPELINE=$PIPELINE RUN_DIR=$RUN_DIR \
   exec "$root/bench/peer/start.sh") > "$RUN_DIR/sluice.log" 2>&1 &
SLUICE_PID=$!

# Wait for the tool; if sluice dies first, say so and stop the tool.
while kill -0 "$TOOL_PID" 2>/dev/null; do
  if ! kill -0 "$SLUICE_PID" 2>/dev/null; then
    wait "$SLUICE_PID" && rc=0 || rc=$?
    SLUICE_PID=""
    log "sluice exited early (status $rc); its log:"
    tail -20 "$RUN_DIR/sluice.log" >&2
    kill -TERM "$TOOL_PID" 2>/dev/null || true
    wait "$TOOL_PID" 2>/dev/null || true
    TOOL_PID=""
    exit 1
  fi
  sleep 0.2
done
wait "$TOOL_PID" && status=0 || status=$?
TOOL_PID=""
stop_sluice
if [ "$status" != 0 ]; then
  log "the tool exited with status $status; the end of sluice's log:"
  tail -20 "$RUN_DIR/sluice.log" >&2
fi
exit "$status"
