/**
 * A sluice plugin in JavaScript: label events from a lookup table, drop a kind.
 *
 * Config (JSON, from the transform's `config` table):
 *   {"labels": {"<agent id>": "<label>", ...}, "drop_kind": "reasoning"}
 *
 * Each event whose `agent.id` is in `labels` gets that label appended to its
 * `labels` list; events of `drop_kind` are dropped; an event without `agent.id`
 * (one that did not go through agent-event first) fails: it goes to the
 * dead-letter output with the reason.
 *
 * The plugin declares the three fields it reads (`configure` returns their
 * paths), so the router finds them in each event: `process` reads them where
 * the router located them and never parses a whole event, and answers a
 * labelled event with one edit, which the router applies.
 * Build: ./build.sh  (componentize-js turns this file into a component)
 */

// componentize-js exposes each imported interface as a module named after
// it, with one export per function.
import { log } from "sluice:plugin/log@0.3.0";

// Who the plugin is (`metadata`): `sluice plugin check` and the router's log show it.
const NAME = "label";
const VERSION = "0.1.0";
// The contract that build.sh builds against.
const CONTRACT = "0.3.0";

const NO_AGENT_ID = "event has no agent.id: run the agent-event plugin before this one";

// The fields `process` reads, in slot order.
const READS = ["agent.id", "event.kind", "labels"];
const AGENT_ID = 0;
const EVENT_KIND = 1;
const LABELS = 2;

// The module is instantiated once per plugin instance, so its state lives here.
// A Map, not a plain object, so that an agent id such as `constructor` or
// `__proto__` is not found on Object.prototype.
let labels = new Map();
let dropKind = null;

// Reading a batch: the helpers below are this file's part of the contract,
// and fit any plugin that declares the fields it reads.

// The kinds of a slot's value, as wit/plugin.wit numbers them.
const ABSENT = 0;
const STRING = 1;
const ESCAPED_STRING = 2;
const ARRAY = 7;

const utf8 = new TextDecoder();

/** One event of a batch: its JSON text, and the fields declared at `configure`. */
class Event {
  /**
   * @param batch the batch as it crossed: `text` (a Uint8Array of UTF-8),
   *   `ends` and `slots` (Uint32Arrays)
   * @param slot where this event's slots begin in `batch.slots`
   */
  constructor(batch, slot, start, end) {
    this.batch = batch;
    this.slot = slot;
    this.start = start;
    this.end = end;
  }

  /** The kind of declared field `i` (ABSENT when the event lacks it). */
  kind(i) {
    return this.batch.slots[this.slot + 3 * i + 2];
  }

  /** The JSON text of declared field `i` ("" when absent). */
  raw(i) {
    const at = this.slot + 3 * i;
    const start = this.batch.slots[at];
    return utf8.decode(this.batch.text.subarray(start, start + this.batch.slots[at + 1]));
  }

  /** Declared field `i` when it is a string; only one written with escapes is parsed as JSON. */
  string(i) {
    switch (this.kind(i)) {
      case STRING: {
        const at = this.slot + 3 * i;
        const start = this.batch.slots[at];
        return utf8.decode(this.batch.text.subarray(start + 1, start + this.batch.slots[at + 1] - 1));
      }
      case ESCAPED_STRING:
        return JSON.parse(this.raw(i));
      default:
        return null;
    }
  }

  /** Declared field `i` parsed as JSON; undefined when absent. */
  value(i) {
    return this.kind(i) === ABSENT ? undefined : JSON.parse(this.raw(i));
  }

  /** The whole event's JSON text. */
  text() {
    return utf8.decode(this.batch.text.subarray(this.start, this.end));
  }
}

/**
 * The events of `batch`, for a plugin that declared `declared` fields; null
 * when the batch does not have the three slot numbers per event and field
 * that the router sends (anything else would be misread).
 */
function events(batch, declared) {
  if (batch.slots.length !== 3 * declared * batch.ends.length) {
    return null;
  }
  const out = [];
  let start = 0;
  batch.ends.forEach((end, j) => {
    out.push(new Event(batch, 3 * declared * j, start, end));
    start = end;
  });
  return out;
}

const isObject = (value) => typeof value === "object" && value !== null && !Array.isArray(value);

export function metadata() {
  return { name: NAME, version: VERSION, contract: CONTRACT };
}

// A thrown value becomes the `err` of `result<list<string>, string>`.
export function configure(config) {
  let settings;
  try {
    settings = JSON.parse(config || "{}");
  } catch (err) {
    throw `config is not JSON: ${err.message}`;
  }
  if (!isObject(settings)) {
    throw "config must be a table";
  }
  const table = settings.labels ?? {};
  if (!isObject(table) || !Object.values(table).every((label) => typeof label === "string")) {
    throw "config key `labels` must be a table of agent id = label";
  }
  const kind = settings.drop_kind ?? null;
  if (kind !== null && typeof kind !== "string") {
    throw "config key `drop_kind` must be a string";
  }
  labels = new Map(Object.entries(table));
  dropKind = kind;
  log("info", "js plugin ready", [["labels", String(labels.size)]]);
  return READS;
}

export function process(batch) {
  const all = events(batch, READS.length);
  if (all === null) {
    const reason = "the batch's slots do not match the three fields this plugin declared";
    return Array.from(batch.ends, () => ({ tag: "fail", val: reason }));
  }
  return all.map(one);
}

function one(event) {
  const agent = event.string(AGENT_ID);
  if (agent === null) {
    return { tag: "fail", val: NO_AGENT_ID };
  }
  if (dropKind !== null && event.string(EVENT_KIND) === dropKind) {
    return { tag: "drop" };
  }
  const label = labels.get(agent);
  if (label === undefined) {
    // Unchanged: nothing crosses back.
    return { tag: "keep" };
  }
  // Only the labels array is parsed; anything but an array becomes a list of
  // this one label. (JSON.parse reads numbers as doubles: an integer beyond
  // 2^53 in the array would lose precision; the rest of the event is not
  // touched.)
  const current = event.kind(LABELS) === ARRAY ? event.value(LABELS) : [];
  const value = JSON.stringify([...current, label]);
  return { tag: "edit", val: [{ tag: "set", val: { path: "labels", value } }] };
}
