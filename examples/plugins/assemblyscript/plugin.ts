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
// The plugin declares the three fields it reads (`reads`), so the router
// finds them in each event: `process` reads them with Event.field and never
// parses a whole event, and answers a labelled event with one edit, which
// the router applies.
//
// Build: ./build.sh  (asc compiles this file with the sluice-plugin package,
// and `sluice plugin wrap --encoding utf16` makes the component)

import { Edit, Event, Kind, Level, Outcome, Plugin, log, register } from "sluice-plugin";
import { JsonType, appendString, parseObject } from "sluice-plugin/json";

// The contract's functions, which the package implements: this line makes
// them this module's exports.
export * from "sluice-plugin/abi";

// Who the plugin is: `sluice plugin check` and the router's log show it.
const NAME = "label";
const VERSION = "0.1.0";

const NO_AGENT_ID = "event has no agent.id: run the agent-event plugin before this one";
const BAD_LABELS = "config key `labels` must be a table of agent id = label";
const BAD_DROP_KIND = "config key `drop_kind` must be a string";

// The fields `process` reads, in the order Event.field numbers them.
const AGENT_ID = 0;
const EVENT_KIND = 1;
const LABELS = 2;

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

  reads(): string[] {
    return ["agent.id", "event.kind", "labels"];
  }

  process(event: Event): Outcome {
    // text() decodes a string only when it was written with escapes.
    const agent = event.field(AGENT_ID).text();
    if (agent === null) return Outcome.fail(NO_AGENT_ID);

    const dropKind = this.dropKind;
    if (dropKind !== null) {
      const kind = event.field(EVENT_KIND).text();
      if (kind !== null && kind == dropKind) return Outcome.drop();
    }

    // Unchanged: nothing crosses back.
    if (!this.labels.has(agent)) return Outcome.keep();
    // The event's labels array with the label appended, its own text kept
    // as it came; anything but an array becomes a list of this one label.
    const current = event.field(LABELS);
    const labels = appendString(current.kind == Kind.Array ? current.json() : null, this.labels.get(agent));
    return Outcome.edit([Edit.set("labels", labels)]);
  }
}

register(NAME, VERSION, new Label());
