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
      # patterns (redact), format CEF (cef), forward one line per event.
    cat >> "$config" <<TOML

# The corpus's JSON shape -> the canonical agent event.
[transforms.normalise]
type = "wasm"
plugin = "agent-event"
inputs = ["in"]
[transforms.normalise.config.mapping]
"time" = "ts"
"event.id" = "event_id"
"event.kind" = "kind"
"event.action" = "name"
"event.severity" = "severity"
"tenant.id" = "tenant"
"delegation.on_behalf_of" = "on_behalf_of"
"session.id" = "session_id"
"trace.id" = "trace_id"
"destination.host" = "dest.host"
"destination.url" = "dest.url"
"tool.arguments" = "tool.args"
"prompt.text" = "text"

# Exactly the four P1 patterns, each match -> [REDACTED]; no built-in detectors.
[transforms.redact]
type = "wasm"
plugin = "redact"
inputs = ["normalise"]
[transforms.redact.config]
defaults = false
mode = "mask"
replacement = "[REDACTED]"
[transforms.redact.config.rules]
p1_aws = { pattern = 'AKIA[0-9A-Z]{16}' }
p1_openai = { pattern = 'sk-[A-Za-z0-9]{32,}' }
p1_email = { pattern = '[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}' }
p1_card = { pattern = '[0-9]{16}' }

# The reference CEF: header AgentSec|AgentRouter|1.0|kind|name|severity and
# exactly the P1 extension keys (the defaults that P1 does not list are off).
[transforms.cef]
type = "wasm"
plugin = "cef"
inputs = ["redact"]
[transforms.cef.config]
vendor = "AgentSec"
product = "AgentRouter"
version = "1.0"
signature_id = "event.kind"
name = "event.action"
severity = "event.severity"
time_format = "rfc3339"                 # rt = the event's ts as written
[transforms.cef.config.mapping]
suid = false
suser = "agent.id"
outcome = "authz.decision"
msg = "prompt.text"
app = false
destinationServiceName = false
reason = false
cs6 = false
cs6Label = false
spriv = false
flexString1 = false
flexString1Label = false
cn1 = false
cn1Label = false

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
