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
 * Build: ./build.sh  (componentize-qjs turns this file into a component)
 */

// componentize-qjs exposes each imported interface as a module named after it.
import log from "sluice:plugin/log@0.2.0";

// The module is instantiated once per plugin instance, so its state lives here.
// A Map, not a plain object, so that an agent id such as `constructor` or
// `__proto__` is not found on Object.prototype.
let labels = new Map();
let dropKind = null;

const isObject = (value) => typeof value === "object" && value !== null && !Array.isArray(value);

// componentize-qjs turns a thrown value into the `err` of `result<_, string>`;
// returning `{tag: "err", …}` would count as success.
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
  log.log("info", "js plugin ready", [["labels", String(labels.size)]]);
}

export function process(batch) {
  return batch.map(one);
}

function one(text) {
  let event;
  try {
    event = JSON.parse(text);
  } catch {
    event = null;
  }
  if (!isObject(event)) {
    return { tag: "fail", val: "event is not a JSON object" };
  }
  const agent = event.agent?.id;
  if (typeof agent !== "string") {
    return { tag: "fail", val: "event has no agent.id: run the agent-event plugin before this one" };
  }
  if (dropKind !== null && event.event?.kind === dropKind) {
    return { tag: "drop" };
  }
  const label = labels.get(agent);
  if (label === undefined) {
    // `null` is `none`: the router keeps its own copy, nothing crosses back.
    return { tag: "keep", val: null };
  }
  // JSON.parse reads every number as a double, so integers beyond 2^53 in an
  // event lose precision when it is rewritten; events left unchanged are not
  // affected.
  event.labels = [...(Array.isArray(event.labels) ? event.labels : []), label];
  return { tag: "keep", val: JSON.stringify(event) };
}
