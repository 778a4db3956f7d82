// The canonical ABI of the contract, as wit-bindgen would generate it, with
// UTF-16 strings: `sluice plugin wrap --encoding utf16` declares that
// encoding, so a string is (ptr, length in UTF-16 code units), 2-aligned, and
// AssemblyScript strings cross as they are, without transcoding here.
//
// This file must be an entry file of asc: its exports are the module's, and
// the contract allows no others. Layouts (wasm32, little-endian):
//
//   string                   (ptr u32, code units u32), 8 bytes, align 4
//   result<_, string>        u8 case at 0 (0 ok, 1 err), string at 4: 12 bytes
//   list<string>             (ptr, count) of 8-byte strings
//   outcome                  u8 case at 0 (0 keep, 1 drop, 2 emit, 3 fail),
//                            payload at 4: 16 bytes, align 4
//     keep(option<string>)   u8 is-some at 4, string at 8
//     emit, fail (string)    string at 4
//
// Both exports return more than one flat value, so they return the address
// of a return area that holds the result, which the router reads before it
// calls cabi_post_<name>.

import { EMIT, FAIL, KEEP, Level, Outcome, log, registeredPlugin } from "./index";

const NOT_REGISTERED =
  "the AssemblyScript plugin registers no Plugin: call register(new MyPlugin()) at the top level of plugin.ts";

// A global has a fixed address, and 12 bytes fit both results.
const RET_AREA: usize = memory.data(12, 4);

// Whether plugin code is running inside configure or process, the only time
// the component model lets the module call the router's log. abort reads it.
let mayLog = false;

// Memory that cabi_realloc handed to the router for a call's arguments. It is
// raw TLSF memory, which AssemblyScript's garbage collector neither moves nor
// frees, and cabi_realloc must not create managed objects: the router is in
// the middle of writing the arguments. An export copies its arguments into
// strings first, then frees all of it.
let given: usize = 0; // array of addresses
let givenCount: usize = 0;
let givenCapacity: usize = 0;

// What the last call returned, kept until the router has copied it out: the
// outcome list (raw memory) and the strings it points to. Referenced from a
// global, the strings cannot be collected, and the collector never moves them.
let outcomeList: usize = 0;
const held = new Array<string>();

function remember(ptr: usize): void {
  if (givenCount == givenCapacity) {
    givenCapacity = givenCapacity ? givenCapacity << 1 : 16;
    const bytes = givenCapacity * sizeof<usize>();
    given = given ? heap.realloc(given, bytes) : heap.alloc(bytes);
  }
  store<usize>(given + givenCount * sizeof<usize>(), ptr);
  givenCount++;
}

export function cabi_realloc(old: usize, oldSize: usize, align: usize, newSize: usize): usize {
  // TLSF blocks are 16-aligned; the contract asks for at most 4.
  if (align > 16) unreachable();
  if (!old) {
    const ptr = heap.alloc(newSize);
    remember(ptr);
    return ptr;
  }
  // The router shrinks a string it transcoded from UTF-8 after writing it.
  const ptr = heap.realloc(old, newSize);
  if (ptr != old) {
    for (let i: usize = 0; i < givenCount; i++) {
      const slot = given + i * sizeof<usize>();
      if (load<usize>(slot) == old) store<usize>(slot, ptr);
    }
  }
  return ptr;
}

function freeArguments(): void {
  for (let i: usize = 0; i < givenCount; i++) heap.free(load<usize>(given + i * sizeof<usize>()));
  givenCount = 0;
}

function hostString(ptr: usize, length: u32): string {
  return String.UTF16.decodeUnsafe(ptr, <usize>length << 1);
}

function exportConfigure(ptr: usize, length: u32): usize {
  const config = hostString(ptr, length);
  freeArguments();
  const plugin = registeredPlugin();
  let refusal: string | null = NOT_REGISTERED;
  if (plugin !== null) {
    mayLog = true;
    refusal = plugin.configure(config);
    mayLog = false;
  }
  if (refusal === null) {
    store<u8>(RET_AREA, 0);
  } else {
    held.push(refusal);
    store<u8>(RET_AREA, 1);
    store<usize>(RET_AREA, changetype<usize>(refusal), 4);
    store<u32>(RET_AREA, refusal.length, 8);
  }
  return RET_AREA;
}

function exportProcess(ptr: usize, count: u32): usize {
  const batch = new Array<string>(count);
  for (let i: u32 = 0; i < count; i++) {
    const element = ptr + (<usize>i << 3);
    batch[i] = hostString(load<usize>(element), load<u32>(element, 4));
  }
  freeArguments();
  const plugin = registeredPlugin();
  let outcomes: Outcome[];
  if (plugin === null) {
    outcomes = new Array<Outcome>(count);
    for (let i: u32 = 0; i < count; i++) outcomes[i] = Outcome.fail(NOT_REGISTERED);
  } else {
    mayLog = true;
    outcomes = plugin.processBatch(batch);
    // The router would refuse the batch too; this names the culprit.
    if (<u32>outcomes.length != count) throw new Error("processBatch must return one outcome per event");
    mayLog = false;
  }
  const list = heap.alloc(<usize>count << 4);
  for (let i: u32 = 0; i < count; i++) {
    const o = outcomes[i];
    const at = list + (<usize>i << 4);
    const text = o.text;
    store<u8>(at, o.kind);
    if (o.kind == KEEP) {
      store<u8>(at, text !== null ? 1 : 0, 4);
      if (text !== null) {
        held.push(text);
        store<usize>(at, changetype<usize>(text), 8);
        store<u32>(at, text.length, 12);
      }
    } else if (o.kind == EMIT || o.kind == FAIL) {
      const s = text !== null ? text : "";
      held.push(s);
      store<usize>(at, changetype<usize>(s), 4);
      store<u32>(at, s.length, 8);
    }
  }
  outcomeList = list;
  store<usize>(RET_AREA, list);
  store<u32>(RET_AREA, count, 4);
  return RET_AREA;
}

// The post-return functions run where, as in cabi_realloc, the module may not
// call the router: they only let go of what the call returned.
function release(): void {
  if (outcomeList) {
    heap.free(outcomeList);
    outcomeList = 0;
  }
  held.length = 0;
}

function postConfigure(ret: usize): void {
  release();
}

function postProcess(ret: usize): void {
  release();
}

export {
  exportConfigure as configure,
  exportProcess as process,
  postConfigure as cabi_post_configure,
  postProcess as cabi_post_process,
};

/**
 * Replaces AssemblyScript's default abort, an import from the host (`env`)
 * that the contract does not have (build with
 * `--use abort=sluice/abi/abort`). Inside plugin code the message reaches the
 * router's log before the trap, which fails the batch and replaces the
 * instance; elsewhere the module may not call the router, and only traps.
 */
function abort(message: string | null, fileName: string | null, line: u32, column: u32): void {
  if (mayLog) {
    mayLog = false; // an abort while logging must not log again
    const where = (fileName !== null ? fileName : "?") + ":" + line.toString() + ":" + column.toString();
    log(Level.Error, "AssemblyScript plugin aborted: " + (message !== null ? message : "abort"), ["at", where]);
  }
  unreachable();
}
