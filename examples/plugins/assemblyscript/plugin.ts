// A sluice plugin in AssemblyScript: label events from a lookup table, drop a kind.
//
// Config (JSON, from the transform's `config` table):
//   {"labels": {"<agent id>": "<label>", ...}, "drop_kind": "reasoning"}
//
// Each event whose `agent.id` is in `labels` gets that label appended to its
// `labels` list; events of `drop_kind` are dropped; an event without
// `agent.id` (one that did not go through agent-event first) fails: it goes
// to the dead-letter output with the reason.
//
// Build: ./build.sh  (asc compiles this file with the glue in sluice/, and
// `sluice plugin wrap --encoding utf16` makes the component)

import { Level, Outcome, Plugin, log, register } from "./sluice";
import { JsonType, appendToArray, parseObject } from "./sluice/json";

const NOT_AN_OBJECT = "event is not a JSON object";
const NO_AGENT_ID = "event has no agent.id: run the agent-event plugin before this one";
const BAD_LABELS = "config key `labels` must be a table of agent id = label";
const BAD_DROP_KIND = "config key `drop_kind` must be a string";

class Label extends Plugin {
  // The state of this instance, set by configure (the router makes one
  // instance per worker, and configure runs in each).
  labels: Map<string, string> = new Map<string, string>();
  dropKind: string | null = null;

  configure(config: string): string | null {
    // The router sends {} when there is no config, but be lenient.
    const settings = parseObject(config.length ? config : "{}");
    if (settings === null) return "config must be a JSON object";

    const labels = new Map<string, string>();
    const table = settings.get("labels");
    if (table !== null) {
      if (table.type != JsonType.Object) return BAD_LABELS;
      const members = table.members();
      for (let i = 0; i < members.length; i++) {
        const value = members[i].value;
        if (value.type != JsonType.String) return BAD_LABELS;
        // A repeated agent id: the last one counts, as in JSON objects.
        labels.set(members[i].key, value.decodeString());
      }
    }
    // `drop_kind = null` (possible in JSON, not in TOML) means no drop_kind.
    let dropKind: string | null = null;
    const kind = settings.get("drop_kind");
    if (kind !== null && kind.type != JsonType.Null) {
      if (kind.type != JsonType.String) return BAD_DROP_KIND;
      dropKind = kind.decodeString();
    }

    // Only a config that passed every check replaces the current one.
    this.labels = labels;
    this.dropKind = dropKind;
    log(Level.Info, "assemblyscript plugin ready", ["labels", labels.size.toString()]);
    return null;
  }

  process(text: string): Outcome {
    const event = parseObject(text);
    if (event === null) return Outcome.fail(NOT_AN_OBJECT);
    // get() is null for a missing member and for a parent that is not an object.
    const agent = event.get("agent");
    const id = agent !== null ? agent.get("id") : null;
    if (id === null || id.type != JsonType.String) return Outcome.fail(NO_AGENT_ID);

    const dropKind = this.dropKind;
    if (dropKind !== null) {
      const ev = event.get("event");
      const kind = ev !== null ? ev.get("kind") : null;
      if (kind !== null && kind.stringEquals(dropKind)) return Outcome.drop();
    }

    const agentId = id.decodeString();
    // keep(): the router passes its own copy on; nothing crosses back.
    if (!this.labels.has(agentId)) return Outcome.keep();
    return Outcome.replace(appendToArray(event, "labels", this.labels.get(agentId)));
  }
}

register(new Label());
