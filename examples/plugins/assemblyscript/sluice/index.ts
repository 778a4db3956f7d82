// The sluice plugin API for AssemblyScript.
//
// A plugin is a WebAssembly component that implements the router's contract,
// the WIT world sluice:plugin/plugin@0.2.0 (wit/plugin.wit in the sluice
// repository). No bindings generator targets AssemblyScript, so this folder is
// the generated glue written by hand: sluice/abi.ts exports the contract's
// functions with the canonical ABI and UTF-16 strings (AssemblyScript's own),
// and this file is what plugin code uses. A plugin extends Plugin and
// registers one instance at the top level of its module:
//
//   class MyPlugin extends Plugin { ... }
//   register(new MyPlugin());
//
// Build with `asc plugin.ts sluice/abi.ts --runtime incremental
// --use abort=sluice/abi/abort -O3 -o core.wasm` (sluice/abi.ts must be an
// entry file: its exports are the module's), then make the component with
// `sluice plugin wrap core.wasm -o plugin.wasm --encoding utf16`.

/** A sluice plugin. One object serves one plugin instance, from configure to its end. */
export abstract class Plugin {
  /**
   * Receives the transform's `config` table as JSON text ("{}" when the
   * router's config has none). Returns null to accept it, or the reason to
   * refuse it: the plugin is then rejected when the router loads it, and the
   * reason is shown to the operator, so it should name the bad key.
   */
  abstract configure(config: string): string | null;

  /** Handles one event, given as the JSON text of an object. */
  abstract process(event: string): Outcome;

  /**
   * Handles a whole batch; override it to share work across its events. It
   * must return exactly one outcome per event, in order.
   */
  processBatch(batch: string[]): Outcome[] {
    const outcomes = new Array<Outcome>(batch.length);
    for (let i = 0; i < batch.length; i++) outcomes[i] = this.process(batch[i]);
    return outcomes;
  }
}

let registered: Plugin | null = null;

/** Makes `plugin` the plugin that this module exports. Call it at the top level. */
export function register(plugin: Plugin): void {
  registered = plugin;
}

/** The registered plugin, for sluice/abi.ts. */
export function registeredPlugin(): Plugin | null {
  return registered;
}

// The case numbers of the WIT variant `outcome`, in its order.
export const KEEP: u8 = 0;
export const DROP: u8 = 1;
export const EMIT: u8 = 2;
export const FAIL: u8 = 3;

/** What happens to one event after this plugin. */
// @ts-ignore: decorator
@final
export class Outcome {
  /** The WIT case (KEEP, DROP, EMIT or FAIL). */
  readonly kind: u8;
  /** The replacement event, line or reason; null for keep() and drop(). */
  readonly text: string | null;

  constructor(kind: u8, text: string | null) {
    this.kind = kind;
    this.text = text;
  }

  /**
   * Passes the event on exactly as it came in. Cheaper than replace() with
   * the same text: nothing is copied back to the router.
   */
  static keep(): Outcome {
    return KEPT;
  }

  /** Passes on this JSON text, which must be an object, instead of the event. */
  static replace(json: string): Outcome {
    return new Outcome(KEEP, json);
  }

  /** Filters the event out on purpose: counted and acknowledged, not dead-lettered. */
  static drop(): Outcome {
    return DROPPED;
  }

  /** Passes the event on with a formatted line (CEF, LEEF …) that sinks write instead of its JSON. */
  static emit(line: string): Outcome {
    return new Outcome(EMIT, line);
  }

  /** Sends the event to the dead-letter output with this reason; the rest of the batch goes on. */
  static fail(reason: string): Outcome {
    return new Outcome(FAIL, reason);
  }
}

// keep() and drop() carry nothing, so one object each serves every event.
const KEPT = new Outcome(KEEP, null);
const DROPPED = new Outcome(DROP, null);

/** How important a log line is; the router's log filter applies to it. */
export enum Level {
  Trace,
  Debug,
  Info,
  Warn,
  Error,
}

// The contract's import. Its module and field names hold ':', '@' and '/',
// which only @external can spell; the canonical ABI flattens the call to
// (level, message ptr, message length in UTF-16 code units, fields ptr,
// number of fields).
// @ts-ignore: decorator
@external("sluice:plugin/log@0.2.0", "log")
declare function hostLog(level: i32, message: usize, messageLength: i32, fields: usize, fieldCount: i32): void;

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
