//go:build wasip1

package sluice

// The canonical ABI of the contract, as wit-bindgen would generate it.
// Layouts (wasm32, little-endian; see wit/plugin.wit), all 4-aligned:
//
//	string, list<T>         (ptr u32, len u32): 8 bytes
//	metadata                name, version, contract: 24 bytes
//	result<list<string>, string>
//	                        u8 case at 0 (0 ok, 1 err), list or string at 4: 12 bytes
//	batch                   passed flat: text, ends, slots as (ptr, len) each
//	outcome                 u8 case at 0 (keep, replace, edit, emit, split,
//	                        drop, fail), payload (string or list) at 4: 12 bytes
//	edit                    u8 case at 0 (set, remove, rename), payload at 4:
//	                        field (path, value) and move (from, to) are two
//	                        strings, remove one: 20 bytes
//	tuple<string, string>   16 bytes
//
// Linear memory addresses are Go pointers on wasm, and Go's garbage collector
// never moves objects, so the glue hands the router the addresses of Go
// values; it only has to keep them referenced until the router has read them
// (the cabi_post_* call).

import (
	"runtime"
	"unsafe"
)

// arena serves cabi_realloc, through which the router copies a call's
// arguments (the config, the batch) and what the state imports return into
// the plugin's memory. It cannot use
// Go's allocator: that reads the clock (a WASI import) when it takes new
// pages, and the component model forbids calling imports while arguments are
// being copied in, so the instance would trap with "cannot leave component
// instance". Arguments are copied into Go strings as soon as a call starts,
// so every call reuses the arena, which grows between calls when a batch
// filled more than half of it. A batch that does not fit at all fails: the
// router reports "realloc return: beyond end of memory" and replaces the
// instance, whose arena starts again at the size ReserveBatchMemory set.
var arena = bumpArena{buf: make([]byte, defaultArenaBytes)}

const defaultArenaBytes = 2 << 20

// overflow is an address past the end of any wasm32 memory, aligned for
// every type: the router refuses it instead of writing out of the arena.
const overflow = 0xffff_fff0

type bumpArena struct {
	buf    []byte
	used   uintptr // offset of the first free byte in buf
	last   uintptr // offset of the latest allocation, which may grow in place
	demand uintptr // bytes asked for since the last reset
}

func reserve(bytes int) {
	if bytes > len(arena.buf) {
		arena.buf = make([]byte, bytes)
	}
}

func (a *bumpArena) alloc(align, size uintptr) uint32 {
	a.demand += size + align - 1
	base := unsafe.Pointer(unsafe.SliceData(a.buf))
	start := a.used + (-(uintptr(base) + a.used) & (align - 1))
	if start+size > uintptr(len(a.buf)) {
		return overflow
	}
	a.last, a.used = start, start+size
	return addrOf(unsafe.Add(base, start))
}

func (a *bumpArena) realloc(old, oldLen, align, newLen uint32) uint32 {
	if old == 0 {
		return a.alloc(uintptr(align), uintptr(newLen))
	}
	base := unsafe.Pointer(unsafe.SliceData(a.buf))
	if old == addrOf(unsafe.Add(base, a.last)) && a.last+uintptr(newLen) <= uintptr(len(a.buf)) {
		a.demand += uintptr(newLen - min(oldLen, newLen))
		a.used = a.last + uintptr(newLen)
		return old
	}
	p := a.alloc(uintptr(align), uintptr(newLen))
	if p != overflow {
		copy(unsafe.Slice((*byte)(pointer(p)), newLen), unsafe.Slice((*byte)(pointer(old)), min(oldLen, newLen)))
	}
	return p
}

// reset frees everything the arena handed out; call it only once the call's
// arguments have been copied out.
func (a *bumpArena) reset() {
	if a.demand > uintptr(len(a.buf))/2 {
		a.buf = make([]byte, 2*a.demand)
	}
	a.used, a.last, a.demand = 0, 0, 0
}

// adapterMemory is where the WASI preview1 adapter, which `sluice plugin
// wrap` links in to serve the Go runtime's WASI calls, keeps its state and
// stack. The adapter allocates them on the first WASI call, which Go makes
// while its runtime starts: cabi_realloc cannot serve that call (no Go code
// runs yet), and pages the adapter takes with memory.grow end up inside Go's
// heap, because Go's runtime takes all memory above its static data as its
// own, and the two corrupt each other. This array is static data, which
// Go's heap never uses; `sluice plugin wrap` finds it by the text at its
// start ("sluice:adapter-memory:<size in bytes>;") and exports an allocator
// over it as cabi_realloc_adapter, which the adapter then uses.
var adapterMemory = [3 << 16]byte{'s', 'l', 'u', 'i', 'c', 'e', ':', 'a', 'd', 'a', 'p', 't', 'e', 'r', '-', 'm', 'e', 'm', 'o', 'r', 'y', ':', '1', '9', '6', '6', '0', '8', ';'}

// adapterMemoryKept makes Go code refer to adapterMemory, which no Go code
// uses, so that the linker keeps it.
var adapterMemoryKept *[3 << 16]byte

func init() { adapterMemoryKept = &adapterMemory }

//go:wasmexport cabi_realloc
func cabiRealloc(oldPtr, oldLen, align, newLen uint32) uint32 {
	return arena.realloc(oldPtr, oldLen, align, newLen)
}

// retArea holds the result of an export (at most 24 bytes) for the router
// to read; a global has a fixed address.
var retArea [6]uint32

// held keeps what the last export returned alive until the router has copied
// it: Go sees only integers in the words it hands over.
var held struct {
	words   [][]uint32
	strings []string
}

func holdWords(n int) []uint32 {
	words := make([]uint32, n)
	held.words = append(held.words, words)
	return words
}

// putString writes s as (ptr, len) at words[0:2].
func putString(words []uint32, s string) {
	held.strings = append(held.strings, s)
	words[0], words[1] = addrOfString(s), uint32(len(s))
}

// putStrings writes the list of strings as (ptr, len) at words[0:2].
func putStrings(words []uint32, list []string) {
	elements := holdWords(2 * len(list))
	for i, s := range list {
		putString(elements[2*i:], s)
	}
	words[0], words[1] = addrOfWords(elements), uint32(len(list))
}

func addrOfWords(words []uint32) uint32 {
	if len(words) == 0 {
		return 0
	}
	return addrOf(unsafe.Pointer(unsafe.SliceData(words)))
}

//go:wasmexport metadata
func exportMetadata() uint32 {
	putString(retArea[0:], registered.name)
	putString(retArea[2:], registered.version)
	putString(retArea[4:], Contract)
	return addrOf(unsafe.Pointer(&retArea))
}

//go:wasmexport cabi_post_metadata
func postMetadata(uint32) { release() }

//go:wasmexport configure
func exportConfigure(ptr, length uint32) uint32 {
	config := hostString(ptr, length)
	arena.reset()
	reads, err := configure(config)
	if err == nil {
		retArea[0] = 0
		putStrings(retArea[1:], reads)
	} else {
		retArea[0] = 1
		putString(retArea[1:], err.Error())
	}
	return addrOf(unsafe.Pointer(&retArea))
}

//go:wasmexport cabi_post_configure
func postConfigure(uint32) { release() }

//go:wasmexport process
func exportProcess(textPtr, textLen, endsPtr, endsLen, slotsPtr, slotsLen uint32) uint32 {
	// One copy of each list, out of the arena: the events share the text,
	// so a plugin that keeps one (or a part of one) keeps the batch's text
	// alive.
	text := hostString(textPtr, textLen)
	ends := hostWords(endsPtr, endsLen)
	slots := hostWords(slotsPtr, slotsLen)
	arena.reset()
	var outcomes []Outcome
	if batch, err := newBatch(text, ends, slots, registered.reads); err != nil {
		outcomes = make([]Outcome, len(ends))
		for i := range outcomes {
			outcomes[i] = Fail(err.Error())
		}
	} else {
		outcomes = process(batch)
	}
	words := holdWords(3 * len(outcomes))
	for i, o := range outcomes {
		w := words[3*i : 3*i+3]
		w[0] = uint32(o.c)
		switch o.c {
		case caseReplace, caseEmit, caseFail:
			putString(w[1:], o.text)
		case caseSplit:
			putStrings(w[1:], o.events)
		case caseEdit:
			changes := holdWords(5 * len(o.changes))
			for j, c := range o.changes {
				e := changes[5*j : 5*j+5]
				e[0] = uint32(c.c)
				putString(e[1:], c.a)
				if c.c != changeRemove {
					putString(e[3:], c.b)
				}
			}
			w[1], w[2] = addrOfWords(changes), uint32(len(o.changes))
		}
	}
	retArea[0], retArea[1] = addrOfWords(words), uint32(len(outcomes))
	return addrOf(unsafe.Pointer(&retArea))
}

//go:wasmexport cabi_post_process
func postProcess(uint32) { release() }

// release runs in cabi_post_*, where imports are forbidden as in
// cabi_realloc, so it only drops references and never allocates.
func release() {
	clear(held.words)
	clear(held.strings)
	held.words, held.strings = held.words[:0], held.strings[:0]
	arena.used, arena.last = 0, 0
}

//go:wasmimport sluice:plugin/log@0.3.0 log
func hostLog(level, msgPtr, msgLen, fieldsPtr, fieldsLen uint32)

func writeLog(level Level, message string, keyValues []string) {
	fields := make([]uint32, 2*len(keyValues))
	for i, s := range keyValues {
		fields[2*i], fields[2*i+1] = addrOfString(s), uint32(len(s))
	}
	hostLog(uint32(level), addrOfString(message), uint32(len(message)), addrOfWords(fields), uint32(len(keyValues)/2))
	// The import takes plain integers, so the compiler does not see that the
	// router still reads these.
	runtime.KeepAlive(message)
	runtime.KeepAlive(keyValues)
	runtime.KeepAlive(fields)
}

//go:wasmimport sluice:plugin/clock@0.3.0 now
func hostNow(ret uint32)

//go:wasmimport sluice:plugin/clock@0.3.0 monotonic
func hostMonotonic() uint64

// importArea receives the results of the imports that return more than one
// flat value (at most 16 bytes, 8-aligned for the clock's u64).
var importArea [2]uint64

func clockNow() (uint64, uint32) {
	hostNow(addrOf(unsafe.Pointer(&importArea)))
	// Read through the address the router wrote at, which the compiler
	// cannot assume unchanged.
	area := (*[2]uint64)(pointer(addrOf(unsafe.Pointer(&importArea))))
	return area[0], uint32(area[1])
}

func clockMonotonic() uint64 { return hostMonotonic() }

//go:wasmimport sluice:plugin/state@0.3.0 get
func hostStateGet(keyPtr, keyLen, ret uint32)

//go:wasmimport sluice:plugin/state@0.3.0 set
func hostStateSet(keyPtr, keyLen, valuePtr, valueLen, ret uint32)

//go:wasmimport sluice:plugin/state@0.3.0 delete
func hostStateDelete(keyPtr, keyLen, ret uint32)

//go:wasmimport sluice:plugin/state@0.3.0 compare-and-swap
func hostStateCompareAndSwap(keyPtr, keyLen, hasExpected, expectedPtr, expectedLen, hasNew, newPtr, newLen, ret uint32)

// importWords is importArea as the four u32 words that the state imports
// write: option<list<u8>> is (is-some, ptr, len), result<_, error> and
// result<bool, error> are (is-err, ok or error case, message ptr, len).
func importWords() *[4]uint32 { return (*[4]uint32)(pointer(addrOf(unsafe.Pointer(&importArea)))) }

// fromArena copies what the router wrote into the arena during an import
// (through cabi_realloc) into Go memory, and gives the arena back: only
// the arguments of the export being run may still be in it, and those were
// copied out when it started.
func fromArena(ptr, length uint32, mark uintptr) []byte {
	out := make([]byte, length)
	copy(out, unsafe.Slice((*byte)(pointer(ptr)), length))
	arena.used, arena.last = mark, mark
	return out
}

func stateGet(key string) ([]byte, bool) {
	mark := arena.used
	hostStateGet(addrOfString(key), uint32(len(key)), addrOf(unsafe.Pointer(&importArea)))
	runtime.KeepAlive(key)
	w := importWords()
	if w[0]&0xff == 0 {
		return nil, false
	}
	return fromArena(w[1], w[2], mark), true
}

// stateResult reads a result<_, error> or result<bool, error>.
func stateResult(mark uintptr) (bool, error) {
	w := importWords()
	if w[0]&0xff == 0 {
		return w[1]&0xff != 0, nil
	}
	message := fromArena(w[2], w[3], mark)
	return false, &StateError{Kind: StateErrorKind(w[1] & 0xff), Message: string(message)}
}

func stateSet(key string, value []byte) error {
	mark := arena.used
	hostStateSet(addrOfString(key), uint32(len(key)), addrOfBytes(value), uint32(len(value)), addrOf(unsafe.Pointer(&importArea)))
	runtime.KeepAlive(key)
	runtime.KeepAlive(value)
	_, err := stateResult(mark)
	return err
}

func stateDelete(key string) error {
	mark := arena.used
	hostStateDelete(addrOfString(key), uint32(len(key)), addrOf(unsafe.Pointer(&importArea)))
	runtime.KeepAlive(key)
	_, err := stateResult(mark)
	return err
}

func stateCompareAndSwap(key string, expected, new []byte) (bool, error) {
	mark := arena.used
	option := func(b []byte) uint32 {
		if b == nil {
			return 0
		}
		return 1
	}
	hostStateCompareAndSwap(addrOfString(key), uint32(len(key)),
		option(expected), addrOfBytes(expected), uint32(len(expected)),
		option(new), addrOfBytes(new), uint32(len(new)),
		addrOf(unsafe.Pointer(&importArea)))
	runtime.KeepAlive(key)
	runtime.KeepAlive(expected)
	runtime.KeepAlive(new)
	return stateResult(mark)
}

// hostString copies a string out of memory the router wrote, so that plugin
// code may keep it after the arena is reused.
func hostString(ptr, length uint32) string {
	if length == 0 {
		return ""
	}
	return string(unsafe.Slice((*byte)(pointer(ptr)), length))
}

// hostWords copies a list<u32> out of memory the router wrote.
func hostWords(ptr, length uint32) []uint32 {
	words := make([]uint32, length)
	if length > 0 {
		copy(words, unsafe.Slice((*uint32)(pointer(ptr)), length))
	}
	return words
}

// pointer turns an address the router passed into a Go pointer. Adding to
// nil rather than converting a uintptr keeps `go vet` quiet: the address is
// in memory Go keeps alive (the arena, or a global), so the garbage
// collector loses nothing.
func pointer(addr uint32) unsafe.Pointer { return unsafe.Add(nil, addr) }

func addrOf(p unsafe.Pointer) uint32 { return uint32(uintptr(p)) }

func addrOfString(s string) uint32 { return addrOf(unsafe.Pointer(unsafe.StringData(s))) }

func addrOfBytes(b []byte) uint32 {
	if len(b) == 0 {
		return 0
	}
	return addrOf(unsafe.Pointer(unsafe.SliceData(b)))
}
