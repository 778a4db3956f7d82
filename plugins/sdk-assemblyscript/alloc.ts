// The memory the router writes into: what cabi_realloc hands out for an
// export's arguments (the config, the batch) and for what an import returns
// (a state value, an error message).
//
// It is raw TLSF memory, which AssemblyScript's garbage collector neither
// moves nor frees, and cabi_realloc must not create managed objects: the
// router is in the middle of writing. Every block is remembered, so that
// abi.ts frees an export's arguments once the export is done with them, and
// an import's results are copied into managed objects and freed at once.

let given: usize = 0; // array of addresses
let givenCount: usize = 0;
let givenCapacity: usize = 0;

function remember(ptr: usize): void {
  if (givenCount == givenCapacity) {
    givenCapacity = givenCapacity ? givenCapacity << 1 : 16;
    const bytes = givenCapacity * sizeof<usize>();
    given = given ? heap.realloc(given, bytes) : heap.alloc(bytes);
  }
  store<usize>(given + givenCount * sizeof<usize>(), ptr);
  givenCount++;
}

/** cabi_realloc, which abi.ts exports. */
export function realloc(old: usize, oldSize: usize, align: usize, newSize: usize): usize {
  // TLSF blocks are 16-aligned; the contract asks for at most 8.
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

/** Frees every block handed out; call it once nothing reads them. */
export function freeGiven(): void {
  for (let i: usize = 0; i < givenCount; i++) heap.free(load<usize>(given + i * sizeof<usize>()));
  givenCount = 0;
}

/** Frees the block at `ptr` now, if it was handed out (an empty list may come at any address). */
function release(ptr: usize): void {
  for (let i: usize = givenCount; i-- > 0; ) {
    const slot = given + i * sizeof<usize>();
    if (load<usize>(slot) == ptr) {
      heap.free(ptr);
      givenCount--;
      store<usize>(slot, load<usize>(given + givenCount * sizeof<usize>()));
      return;
    }
  }
}

/** The bytes an import returned at `ptr`, copied into a managed array; frees the block. */
export function takeBytes(ptr: usize, length: u32): Uint8Array {
  const bytes = new Uint8Array(length);
  memory.copy(bytes.dataStart, ptr, length);
  release(ptr);
  return bytes;
}

/** The string (UTF-16, `length` code units) an import returned at `ptr`, copied; frees the block. */
export function takeString(ptr: usize, length: u32): string {
  const text = String.UTF16.decodeUnsafe(ptr, <usize>length << 1);
  release(ptr);
  return text;
}
