// The canonical ABI of the contract, as wit-bindgen would generate it, with
// UTF-16 strings: `sluice plugin wrap --encoding utf16` declares that
// encoding, so a string is (ptr, length in UTF-16 code units), 2-aligned, and
// AssemblyScript strings cross as they are, without transcoding here. The
// batch's text is a list<u8>: UTF-8 bytes, whatever the encoding.
//
// Its exports must be the module's, and the contract allows no others: the
// plugin's entry file re-exports them (`export * from "sluice-plugin/abi"`).
// Layouts (wasm32, little-endian), all 4-aligned:
//
//   string, list<T>          (ptr u32, length u32): 8 bytes
//   metadata                 name, version, contract: 24 bytes
//   result<list<string>, string>
//                            u8 case at 0 (0 ok, 1 err), list or string at 4: 12 bytes
//   batch                    passed flat: text, ends, slots as (ptr, length) each
//   outcome                  u8 case at 0 (keep, replace, edit, emit, split,
//                            drop, fail), payload (string or list) at 4: 12 bytes
//   edit                     u8 case at 0 (set, remove, rename), payload at 4:
//                            two strings, or one for remove: 20 bytes
//
// Every export that returns more than one flat value returns the address of
// a return area that holds the result, which the router reads before it
// calls cabi_post_<name>.

import { freeGiven, realloc } from "./alloc";
import {
  Batch,
  CONTRACT,
  EDIT,
  EMIT,
  FAIL,
  Level,
  Outcome,
  REMOVE,
  REPLACE,
  SPLIT,
  checkBatch,
  log,
  registeredMetadata,
  registeredPlugin,
} from "./index";

const NOT_REGISTERED =
  'the AssemblyScript plugin registers no Plugin: call register("name", "1.0.0", new MyPlugin()) at the top level';

// A global has a fixed address, and 24 bytes fit every result.
const RET_AREA: usize = memory.data(24, 4);

// Whether plugin code is running inside configure or process, the only time
// the component model lets the module call the router's log. abort reads it.
let mayLog = false;

// How many paths configure declared, for reading each batch.
let declared: u32 = 0;

// What the last call returned, kept until the router has copied it out: raw
// blocks (the lists) and the strings they point to. Referenced from a
// global, the strings cannot be collected, and the collector never moves them.
//
// Made on first use, never at the top level: code in index.ts refers to
// `abort` below, which makes this file's top level run before the runtime has
// set up its garbage collector, and an object made then corrupts the
// collector's lists (the first collection traps).
let heldStrings: string[] | null = null;
let heldBlocks: usize[] | null = null;

function held(): string[] {
  let strings = heldStrings;
  if (strings === null) heldStrings = strings = new Array<string>();
  return strings;
}

function heldRaw(): usize[] {
  let blocks = heldBlocks;
  if (blocks === null) heldBlocks = blocks = new Array<usize>();
  return blocks;
}

function exportRealloc(old: usize, oldSize: usize, align: usize, newSize: usize): usize {
  return realloc(old, oldSize, align, newSize);
}

function hostString(ptr: usize, length: u32): string {
  return String.UTF16.decodeUnsafe(ptr, <usize>length << 1);
}

/** Writes `s` as (ptr, length) at `at`, keeping it alive until the post-return. */
function putString(at: usize, s: string): void {
  held().push(s);
  store<usize>(at, changetype<usize>(s));
  store<u32>(at, s.length, 4);
}

/** A raw block of `bytes` for a list, freed in the post-return; 0 for none. */
function block(bytes: usize): usize {
  if (!bytes) return 0;
  const ptr = heap.alloc(bytes);
  heldRaw().push(ptr);
  return ptr;
}

/** Writes the list of strings as (ptr, length) at `at`. */
function putStrings(at: usize, list: string[]): void {
  const elements = block(<usize>list.length << 3);
  for (let i = 0; i < list.length; i++) putString(elements + (<usize>i << 3), list[i]);
  store<usize>(at, elements);
  store<u32>(at, list.length, 4);
}

function exportMetadata(): usize {
  const meta = registeredMetadata();
  putString(RET_AREA, meta[0]);
  putString(RET_AREA + 8, meta[1]);
  putString(RET_AREA + 16, CONTRACT);
  return RET_AREA;
}

function exportConfigure(ptr: usize, length: u32): usize {
  const config = hostString(ptr, length);
  freeGiven();
  const plugin = registeredPlugin();
  let refusal: string | null = NOT_REGISTERED;
  let reads: string[] = [];
  if (plugin !== null) {
    mayLog = true;
    refusal = plugin.configure(config);
    if (refusal === null) reads = plugin.reads();
    mayLog = false;
  }
  if (refusal === null) {
    declared = reads.length;
    store<u8>(RET_AREA, 0);
    putStrings(RET_AREA + 4, reads);
  } else {
    store<u8>(RET_AREA, 1);
    putString(RET_AREA + 4, refusal);
  }
  return RET_AREA;
}

function exportProcess(
  text: usize,
  textLength: u32,
  ends: usize,
  count: u32,
  slots: usize,
  slotCount: u32,
): usize {
  // The events are read where the router wrote them: the blocks are freed
  // only once the plugin is done with the batch.
  const plugin = registeredPlugin();
  const problem = plugin === null ? NOT_REGISTERED : checkBatch(textLength, ends, count, slots, slotCount, declared);
  let outcomes: Outcome[];
  if (plugin === null || problem !== null) {
    outcomes = new Array<Outcome>(count);
    for (let i: u32 = 0; i < count; i++) outcomes[i] = Outcome.fail(problem!);
  } else {
    mayLog = true;
    outcomes = plugin.processBatch(new Batch(text, textLength, ends, count, slots, declared));
    // The router would refuse the batch too; this names the culprit.
    if (<u32>outcomes.length != count) throw new Error("processBatch must return one outcome per event");
    mayLog = false;
  }
  freeGiven();
  const list = block(<usize>count * 12);
  for (let i: u32 = 0; i < count; i++) {
    const o = outcomes[i];
    const at = list + <usize>i * 12;
    store<u8>(at, o.kind);
    if (o.kind == REPLACE || o.kind == EMIT || o.kind == FAIL) {
      const text = o.text;
      putString(at + 4, text !== null ? text : "");
    } else if (o.kind == SPLIT) {
      const events = o.events;
      putStrings(at + 4, events !== null ? events : []);
    } else if (o.kind == EDIT) {
      const edits = o.edits;
      const n = edits !== null ? edits.length : 0;
      const changes = block(<usize>n * 20);
      for (let j = 0; j < n; j++) {
        const e = edits![j];
        const c = changes + <usize>j * 20;
        store<u8>(c, e.kind);
        putString(c + 4, e.a);
        if (e.kind != REMOVE) putString(c + 12, e.b);
      }
      store<usize>(at, changes, 4);
      store<u32>(at, n, 8);
    }
  }
  store<usize>(RET_AREA, list);
  store<u32>(RET_AREA, count, 4);
  return RET_AREA;
}

// The post-return functions run where, as in cabi_realloc, the module may not
// call the router: they only let go of what the call returned.
function release(): void {
  const blocks = heldRaw();
  for (let i = 0; i < blocks.length; i++) heap.free(blocks[i]);
  blocks.length = 0;
  held().length = 0;
}

function postMetadata(ret: usize): void {
  release();
}

function postConfigure(ret: usize): void {
  release();
}

function postProcess(ret: usize): void {
  release();
}

// Exported under the contract's names, which would otherwise shadow globals
// of AssemblyScript's standard library (`process`).
export {
  exportRealloc as cabi_realloc,
  exportMetadata as metadata,
  exportConfigure as configure,
  exportProcess as process,
  postMetadata as cabi_post_metadata,
  postConfigure as cabi_post_configure,
  postProcess as cabi_post_process,
};

/**
 * Replaces AssemblyScript's default abort, an import from the host (`env`)
 * that the contract does not have (build with
 * `--use abort=~lib/sluice-plugin/abi/abort`). Inside plugin code the
 * message reaches the router's log before the trap, which fails the batch and
 * replaces the instance; elsewhere the module may not call the router, and
 * only traps.
 */
function abort(message: string | null, fileName: string | null, line: u32, column: u32): void {
  if (mayLog) {
    mayLog = false; // an abort while logging must not log again
    const where = (fileName !== null ? fileName : "?") + ":" + line.toString() + ":" + column.toString();
    log(Level.Error, "AssemblyScript plugin aborted: " + (message !== null ? message : "abort"), ["at", where]);
  }
  unreachable();
}
