// The sluice plugin API for AssemblyScript.
//
// A plugin is a WebAssembly component that implements the router's contract,
// the WIT world sluice:plugin/plugin@0.3.0 (wit/plugin.wit in the sluice
// repository). No bindings generator targets AssemblyScript, so this package
// is the generated glue written by hand: abi.ts exports the contract's
// functions with the canonical ABI and UTF-16 strings (AssemblyScript's own)
// and imports the router's log, clock and state; this file is what plugin
// code uses. A plugin extends Plugin, registers one instance at the top level
// of its module, and makes the contract's exports its own:
//
//   import { Plugin, register } from "sluice-plugin";
//   export * from "sluice-plugin/abi";
//   class MyPlugin extends Plugin { ... }
//   register("my-plugin", "1.0.0", new MyPlugin());
//
// The plugin's `reads` names the fields it reads ("agent.id"): the router
// locates them in every event with its own native parser, and `process`
// finds each one with Event.field, without scanning the event. It answers
// with an Outcome: keep, replace, edit (a few changes the router applies),
// emit, split, drop or fail. json.ts reads and writes JSON text.
//
// Build with `asc plugin.ts --path <dir holding sluice-plugin/> --runtime
// incremental --use abort=~lib/sluice-plugin/abi/abort -O3 -o core.wasm`,
// then make the component with
// `sluice plugin wrap core.wasm -o plugin.wasm --encoding utf16`.

import { takeBytes, takeString } from "./alloc";
import { parseString } from "./json";

/** The contract version this package implements. */
export const CONTRACT = "0.3.0";

/** A sluice plugin. One object serves one plugin instance, from configure to its end. */
export abstract class Plugin {
  /**
   * Receives the transform's `config` table as JSON text ("{}" when the
   * router's config has none). Returns null to accept it, or the reason to
   * refuse it: the plugin is then rejected when the router loads it, and the
   * reason is shown to the operator, so it should name the bad key.
   */
  abstract configure(config: string): string | null;

  /**
   * The dotted paths of the fields this plugin reads ("agent.id"), asked
   * once after configure accepted its config: Event.field numbers them in
   * this order. None by default: the plugin reads the whole event.
   */
  reads(): string[] {
    return [];
  }

  /** Handles one event. */
  abstract process(event: Event): Outcome;

  /**
   * Handles a whole batch; override it to share work across its events. It
   * must return exactly one outcome per event, in order.
   */
  processBatch(batch: Batch): Outcome[] {
    const outcomes = new Array<Outcome>(batch.length);
    for (let j = 0; j < batch.length; j++) outcomes[j] = this.process(batch.event(j));
    return outcomes;
  }
}

let registered: Plugin | null = null;
let registeredName = "";
let registeredVersion = "";

/**
 * Makes `plugin` the plugin that this module exports, under the name and
 * version (semver) that `sluice plugin check` and the router's log show.
 * Call it at the top level.
 */
export function register(name: string, version: string, plugin: Plugin): void {
  registered = plugin;
  registeredName = name;
  registeredVersion = version;
}

/** The registered plugin, for abi.ts. */
export function registeredPlugin(): Plugin | null {
  return registered;
}

/** The registered name and version, for abi.ts. */
export function registeredMetadata(): string[] {
  return [registeredName, registeredVersion];
}

/** The kind of a declared field's value, as the router reports it (see wit/plugin.wit). */
export enum Kind {
  /** The event does not have the field. */
  Absent,
  /** A string written without escapes: the text between its quotes is the string. */
  String,
  /** A string with escapes (\n, \", \u00e9 …), decoded by Field.text. */
  EscapedString,
  Number,
  Bool,
  Null,
  Object,
  Array,
}

/**
 * A batch of events as the router handed it over: their JSON texts (UTF-8)
 * in one buffer, where each ends, and where each declared field is. It lives
 * in memory that the glue frees when `process` returns: keep a string made
 * from it (Event.json, Field.text), never an Event or a Field.
 */
export class Batch {
  constructor(
    /** The address of the events' UTF-8 text. */
    readonly text: usize,
    readonly textLength: u32,
    /** The address of the u32 list of where each event ends. */
    readonly ends: usize,
    readonly count: u32,
    /** The address of the u32 list of the slots: (start, length, kind) per event and declared field. */
    readonly slots: usize,
    readonly reads: u32,
  ) {}

  get length(): i32 {
    return <i32>this.count;
  }

  /** Event `j`, from 0. */
  event(j: i32): Event {
    const start = j > 0 ? load<u32>(this.ends + ((<usize>j - 1) << 2)) : 0;
    const end = load<u32>(this.ends + (<usize>j << 2));
    const slots = this.slots + <usize>j * <usize>this.reads * 12;
    return new Event(this, start, end, slots);
  }
}

/**
 * Why the contract's three lists do not fit together, or null when they do
 * (the router always sends lists that do): every read is then in bounds.
 */
export function checkBatch(
  textLength: u32,
  ends: usize,
  count: u32,
  slots: usize,
  slotCount: u32,
  reads: u32,
): string | null {
  let last: u32 = 0;
  for (let j: u32 = 0; j < count; j++) {
    const end = load<u32>(ends + (<usize>j << 2));
    if (end < last || end > textLength) {
      return "the batch's event ends are not in order within its " + textLength.toString() + " bytes";
    }
    last = end;
  }
  if (<u64>slotCount != <u64>count * <u64>reads * 3) {
    return "the batch has " + slotCount.toString() + " slot numbers for " + count.toString() + " events and " +
      reads.toString() + " declared paths";
  }
  for (let k: u32 = 0; k < slotCount; k += 3) {
    const at = slots + (<usize>k << 2);
    if (<u64>load<u32>(at) + <u64>load<u32>(at, 4) > <u64>textLength) {
      return "a slot of the batch points past its " + textLength.toString() + " bytes";
    }
  }
  return null;
}

/** One event of a batch: its JSON text and the fields the plugin declared. */
export class Event {
  constructor(
    readonly batch: Batch,
    readonly start: u32,
    readonly end: u32,
    /** The address of this event's slots. */
    readonly slots: usize,
  ) {}

  /** The event's JSON text (an object), decoded from UTF-8. */
  json(): string {
    return String.UTF8.decodeUnsafe(this.batch.text + this.start, this.end - this.start);
  }

  /** Declared field `i`, in the order `reads` gave the paths; Absent past them. */
  field(i: i32): Field {
    if (i < 0 || <u32>i >= this.batch.reads) return new Field(0, 0, Kind.Absent);
    const at = this.slots + <usize>i * 12;
    return new Field(this.batch.text + load<u32>(at), load<u32>(at, 4), <Kind>load<u32>(at, 8));
  }
}

/** One declared field of an event, where the router found it. */
export class Field {
  constructor(
    /** The address of the value's UTF-8 JSON text in the batch. */
    readonly at: usize,
    /** Its length in bytes. */
    readonly byteLength: u32,
    readonly kind: Kind,
  ) {}

  /** The value's JSON text, quotes included; "" when absent. */
  json(): string {
    return String.UTF8.decodeUnsafe(this.at, this.byteLength);
  }

  /**
   * The value as a string, when it is one: the text between its quotes,
   * decoded as JSON only when it was written with escapes; null otherwise.
   */
  text(): string | null {
    if (this.kind == Kind.String) return String.UTF8.decodeUnsafe(this.at + 1, this.byteLength - 2);
    if (this.kind == Kind.EscapedString) return parseString(this.json());
    return null;
  }
}

// The case numbers of the WIT variant `outcome`, in its order.
export const KEEP: u8 = 0;
export const REPLACE: u8 = 1;
export const EDIT: u8 = 2;
export const EMIT: u8 = 3;
export const SPLIT: u8 = 4;
export const DROP: u8 = 5;
export const FAIL: u8 = 6;

/** What happens to one event after this plugin. */
// @ts-ignore: decorator
@final
export class Outcome {
  constructor(
    /** The WIT case (KEEP … FAIL). */
    readonly kind: u8,
    /** The replacement event, line or reason. */
    readonly text: string | null = null,
    /** The events of split. */
    readonly events: string[] | null = null,
    /** The changes of edit. */
    readonly edits: Edit[] | null = null,
  ) {}

  /** Passes the event on exactly as it came in: nothing is copied back to the router. */
  static keep(): Outcome {
    return KEPT;
  }

  /** Passes on this JSON text, which must be an object, instead of the event. */
  static replace(json: string): Outcome {
    return new Outcome(REPLACE, json);
  }

  /** Passes the event on with these changes, which the router applies in order. */
  static edit(edits: Edit[]): Outcome {
    return new Outcome(EDIT, null, null, edits);
  }

  /** Passes the event on with a formatted line (CEF, LEEF …) that sinks write instead of its JSON. */
  static emit(line: string): Outcome {
    return new Outcome(EMIT, line);
  }

  /** Passes on these events (JSON objects) in place of this one, in this order; none is drop. */
  static split(events: string[]): Outcome {
    return new Outcome(SPLIT, null, events);
  }

  /** Filters the event out on purpose: counted and acknowledged, not dead-lettered. */
  static drop(): Outcome {
    return DROPPED;
  }

  /** Sends the event to the dead-letter output with this reason; the rest of the batch goes on. */
  static fail(reason: string): Outcome {
    return new Outcome(FAIL, reason);
  }
}

// keep() and drop() carry nothing, so one object each serves every event.
const KEPT = new Outcome(KEEP);
const DROPPED = new Outcome(DROP);

// The case numbers of the WIT variant `edit`, in its order.
export const SET: u8 = 0;
export const REMOVE: u8 = 1;
export const RENAME: u8 = 2;

/** One change to an event, for Outcome.edit; paths are dotted ("agent.id"). */
// @ts-ignore: decorator
@final
export class Edit {
  constructor(
    /** The WIT case (SET, REMOVE or RENAME). */
    readonly kind: u8,
    /** set: the path; remove: the path; rename: from. */
    readonly a: string,
    /** set: the value's JSON text; rename: to. */
    readonly b: string = "",
  ) {}

  /** Sets the value at `path` to `json` (JSON text), creating the objects along it. */
  static set(path: string, json: string): Edit {
    return new Edit(SET, path, json);
  }

  /** Removes the member at `path`, if it is there. */
  static remove(path: string): Edit {
    return new Edit(REMOVE, path);
  }

  /** Moves the value at `from` to `to`, if there is one. */
  static rename(from: string, to: string): Edit {
    return new Edit(RENAME, from, to);
  }
}

/** How important a log line is; the router's log filter applies to it. */
export enum Level {
  Trace,
  Debug,
  Info,
  Warn,
  Error,
}

// The contract's imports. Their module and field names hold ':', '@', '/'
// and '-', which only @external can spell. The canonical ABI flattens each
// call: strings are (ptr, length in UTF-16 code units), byte lists (ptr,
// length), and results larger than one value are written to the address
// given last.
// @ts-ignore: decorator
@external("sluice:plugin/log@0.3.0", "log")
declare function hostLog(level: i32, message: usize, messageLength: i32, fields: usize, fieldCount: i32): void;

// @ts-ignore: decorator
@external("sluice:plugin/clock@0.3.0", "now")
declare function hostNow(ret: usize): void;

// @ts-ignore: decorator
@external("sluice:plugin/clock@0.3.0", "monotonic")
declare function hostMonotonic(): u64;

// @ts-ignore: decorator
@external("sluice:plugin/state@0.3.0", "get")
declare function hostStateGet(key: usize, keyLength: i32, ret: usize): void;

// @ts-ignore: decorator
@external("sluice:plugin/state@0.3.0", "set")
declare function hostStateSet(key: usize, keyLength: i32, value: usize, valueLength: i32, ret: usize): void;

// @ts-ignore: decorator
@external("sluice:plugin/state@0.3.0", "delete")
declare function hostStateDelete(key: usize, keyLength: i32, ret: usize): void;

// @ts-ignore: decorator
@external("sluice:plugin/state@0.3.0", "compare-and-swap")
declare function hostStateCompareAndSwap(
  key: usize,
  keyLength: i32,
  hasExpected: i32,
  expected: usize,
  expectedLength: i32,
  hasNew: i32,
  next: usize,
  nextLength: i32,
  ret: usize,
): void;

/**
 * Writes one line into the router's log, with key-value fields given as
 * alternating keys and values: log(Level.Info, "ready", ["labels", "3"]).
 * Call it from configure or process only: the component model forbids
 * calling the router at any other time.
 */
export function log(level: Level, message: string, fields: string[] = []): void {
  if (fields.length & 1) throw new Error("log: fields must be key, value pairs");
  // list<tuple<string, string>>: per field, key (ptr, length) then value
  // (ptr, length), 16 bytes. Raw memory that the garbage collector ignores;
  // the strings themselves stay referenced by `message` and `fields`, and
  // nothing can collect them during the call, which never re-enters.
  const list = heap.alloc(<usize>fields.length << 3);
  for (let i = 0; i < fields.length; i++) {
    const s = fields[i];
    store<usize>(list + (<usize>i << 3), changetype<usize>(s));
    store<u32>(list + (<usize>i << 3), s.length, 4);
  }
  hostLog(level, changetype<usize>(message), message.length, list, fields.length >> 1);
  heap.free(list);
}

// Where the imports that answer with more than one value write it: 16 bytes,
// 8-aligned for the clock's u64.
const IMPORT_AREA: usize = memory.data(16, 8);

/** A point in wall-clock time, UTC. */
export class Datetime {
  constructor(
    /** Whole seconds since 1970-01-01T00:00:00Z. */
    readonly seconds: u64,
    /** Nanoseconds past `seconds`. */
    readonly nanoseconds: u32,
  ) {}

  /** Milliseconds since 1970-01-01T00:00:00Z, as Date takes them. */
  get millis(): i64 {
    return <i64>this.seconds * 1000 + <i64>(this.nanoseconds / 1_000_000);
  }
}

/**
 * The router's wall-clock time. Use it rather than Date.now: the sandbox's
 * WASI clocks stand still at zero. The router's config can freeze this clock
 * ([plugins] frozen_clock) so that tests of a time-dependent plugin repeat
 * exactly. Call it from configure or process only.
 */
export function now(): Datetime {
  hostNow(IMPORT_AREA);
  return new Datetime(load<u64>(IMPORT_AREA), load<u32>(IMPORT_AREA, 8));
}

/**
 * Nanoseconds on a clock that never goes back, from an arbitrary start fixed
 * for the router's process: subtract two readings for a duration.
 */
export function monotonic(): u64 {
  return hostMonotonic();
}

/** Why the router refused a change to the state. */
export enum StateErrorKind {
  /** The key is longer than the router's limit (1 KiB). */
  KeyTooLong,
  /** The value is larger than the router's limit. */
  ValueTooLarge,
  /** The change would take the transform's state past its limit. */
  Full,
}

/** A change to the state that the router refused; `message` gives the sizes or figures. */
export class StateError {
  constructor(
    readonly kind: StateErrorKind,
    readonly message: string,
  ) {}
}

/** The result of state.compareAndSwap: whether it swapped, or why it could not. */
export class Swap {
  constructor(
    readonly swapped: bool,
    readonly error: StateError | null,
  ) {}
}

/** The error of a result<_, error> or result<bool, error> in IMPORT_AREA, if it is one. */
function stateError(): StateError | null {
  if (load<u8>(IMPORT_AREA) == 0) return null;
  const message = takeString(load<usize>(IMPORT_AREA, 8), load<u32>(IMPORT_AREA, 12));
  return new StateError(<StateErrorKind>load<u8>(IMPORT_AREA, 4), message);
}

/**
 * The transform's key-value state: the router keeps it across a replaced
 * instance, a hot reload and a restart, shares it between the transform's
 * workers, and bounds it. Keys are strings of at most 1 KiB, values bytes.
 * Workers run in parallel: to change a value without losing another
 * worker's change, read it, compute, and compareAndSwap, reading again when
 * that does not swap. Call these from configure or process only.
 */
export namespace state {
  /** The value stored under `key`, or null. */
  export function get(key: string): Uint8Array | null {
    hostStateGet(changetype<usize>(key), key.length, IMPORT_AREA);
    if (load<u8>(IMPORT_AREA) == 0) return null;
    return takeBytes(load<usize>(IMPORT_AREA, 4), load<u32>(IMPORT_AREA, 8));
  }

  /** Stores `value` under `key`, replacing what was there; null, or why the router refused. */
  export function set(key: string, value: Uint8Array): StateError | null {
    hostStateSet(changetype<usize>(key), key.length, value.dataStart, value.length, IMPORT_AREA);
    return stateError();
  }

  /** Removes `key` (the contract's `delete`); removing a missing key is not an error. */
  export function remove(key: string): StateError | null {
    hostStateDelete(changetype<usize>(key), key.length, IMPORT_AREA);
    return stateError();
  }

  /**
   * Replaces the value under `key` with `next` only if it is still
   * `expected` (null: the key is absent); a null `next` removes the key.
   */
  export function compareAndSwap(key: string, expected: Uint8Array | null, next: Uint8Array | null): Swap {
    hostStateCompareAndSwap(
      changetype<usize>(key),
      key.length,
      expected !== null ? 1 : 0,
      expected !== null ? expected.dataStart : 0,
      expected !== null ? expected.length : 0,
      next !== null ? 1 : 0,
      next !== null ? next.dataStart : 0,
      next !== null ? next.length : 0,
      IMPORT_AREA,
    );
    const error = stateError();
    return new Swap(error === null && load<u8>(IMPORT_AREA, 4) != 0, error);
  }
}
