#!/usr/bin/env bash
# Peer contract of the shared harness (../shared/bench/README.md): env IN_PORT,
# OUT_PORT, PIPELINE, RUN_DIR, BENCH_DIR. Writes a sluice config into RUN_DIR
# and execs the release binary in the foreground, so the harness's PID is sluice.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
bin=$here/../../target/release/sluice
[ -x "$bin" ] || { echo "sluice: $bin is missing (run $here/setup.sh)" >&2; exit 1; }
config=$RUN_DIR/sluice.toml
mkdir -p "$RUN_DIR/data"

case "$PIPELINE" in
  P0) # Pass the RFC 5424 MSG (the JSON payload) through unchanged, one per line.
    cat > "$config" <<TOML
data_dir = "$RUN_DIR/data"

[sources.in]
type = "syslog"
mode = "tcp"
address = "127.0.0.1:$IN_PORT"
framing = "octet-counting"
max_message_bytes = 65536            # the corpus's events are 340–900 bytes

[sinks.out]
type = "tcp"
inputs = ["in"]
address = "127.0.0.1:$OUT_PORT"
encoding = "message"                 # the syslog MSG as it came, not the event JSON
TOML
    ;;
  *) echo "sluice: unsupported pipeline $PIPELINE" >&2; exit 64 ;;
esac

exec "$bin" run --config "$config"
