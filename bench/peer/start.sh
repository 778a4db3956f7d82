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

# Both pipelines read the harness's octet-counted RFC 5424 over TCP.
cat > "$config" <<TOML
data_dir = "$RUN_DIR/data"

[sources.in]
type = "syslog"
mode = "tcp"
address = "127.0.0.1:$IN_PORT"
framing = "octet-counting"
max_message_bytes = 65536            # the corpus's events are 340–900 bytes
TOML

case "$PIPELINE" in
  P0) # Pass the RFC 5424 MSG (the JSON payload) through unchanged, one per line.
    cat >> "$config" <<TOML

[sinks.out]
type = "tcp"
inputs = ["in"]
address = "127.0.0.1:$OUT_PORT"
encoding = "message"                 # the syslog MSG as it came, not the event JSON
TOML
    ;;
  P1) # Parse syslog, normalise the JSON (agent-event), mask the four P1 secret
      # patterns (redact), format CEF (cef), forward one line per event. The
      # source parses the agent's JSON once, natively (a key of [sources.in]).
    echo 'decoding = "json"' >> "$config"
    # SLUICE_BENCH_WORKERS=N runs each stage on N workers (default: sluice's own).
    if [ -n "${SLUICE_BENCH_WORKERS:-}" ]; then
      sed "s/^plugin = .*/&\nworkers = $SLUICE_BENCH_WORKERS/" "$here/P1.toml" >> "$config"
    else
      cat "$here/P1.toml" >> "$config"
    fi
    cat >> "$config" <<TOML

[sinks.out]
type = "tcp"
inputs = ["cef"]
address = "127.0.0.1:$OUT_PORT"
encoding = "body"                    # the CEF line the cef plugin emitted
TOML
    ;;
  *) echo "sluice: unsupported pipeline $PIPELINE" >&2; exit 64 ;;
esac

exec "$bin" run --config "$config"
