//go:build wasip1

package sluice

// The canonical ABI of the contract, as wit-bindgen would generate it.
// Layouts (wasm32, little-endian; see wit/plugin.wit):
//
//	string                  (ptr u32, len u32), 8 bytes, align 4
//	result<_, string>       u8 case at 0 (0 ok, 1 err), string at 4: 12 bytes
//	outcome                 u8 case at 0 (0 keep, 1 drop, 2 emit, 3 fail),
//	                        payload at 4: 16 bytes, align 4
//	  keep(option<string>)  u8 is-some at 4, string at 8
//	  emit, fail (string)   string at 4
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
// arguments (the config, the batch) into the plugin's memory. It cannot use
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

// retArea holds the result of configure or process (at most 12 bytes) for
// the router to read; a global has a fixed address.
var retArea [3]uint32

// held keeps what the last call returned alive until the router has copied it.
var held struct {
	outcomes []uint32
	strings  []string
}

//go:wasmexport configure
func exportConfigure(ptr, length uint32) uint32 {
	config := hostString(ptr, length)
	arena.reset()
	var err error
	if registered == nil {
		err = errNotRegistered{}
	} else {
		err = registered.Configure(config)
	}
	if err == nil {
		retArea[0] = 0
	} else {
		msg := err.Error()
		held.strings = append(held.strings, msg)
		retArea = [3]uint32{1, addrOfString(msg), uint32(len(msg))}
	}
	return addrOf(unsafe.Pointer(&retArea))
}

type errNotRegistered struct{}

func (errNotRegistered) Error() string {
	return "the Go plugin registers no sluice.Plugin: call sluice.Register from an init function"
}

//go:wasmexport cabi_post_configure
func postConfigure(uint32) { release() }

//go:wasmexport process
func exportProcess(ptr, length uint32) uint32 {
	batch := make([]string, length)
	if length > 0 {
		// One copy of the whole batch: an allocation per event costs more
		// than its copy. The events share it, so a plugin that keeps one
		// (or a part: Lookup gives parts) keeps the batch's text alive.
		events := unsafe.Slice((*[2]uint32)(pointer(ptr)), length)
		total := 0
		for _, s := range events {
			total += int(s[1])
		}
		text := make([]byte, total)
		at := 0
		for i, s := range events {
			n := copy(text[at:], unsafe.Slice((*byte)(pointer(s[0])), s[1]))
			batch[i] = unsafe.String(unsafe.SliceData(text[at:]), n)
			at += n
		}
	}
	arena.reset()
	var outcomes []Outcome
	switch p := registered.(type) {
	case nil:
		outcomes = make([]Outcome, len(batch))
		for i := range outcomes {
			outcomes[i] = Fail(errNotRegistered{}.Error())
		}
	case BatchPlugin:
		outcomes = p.ProcessBatch(batch)
		if len(outcomes) != len(batch) {
			// The router would refuse the batch too; this names the culprit.
			panic("sluice: ProcessBatch must return one outcome per event")
		}
	default:
		outcomes = make([]Outcome, len(batch))
		for i, event := range batch {
			outcomes[i] = p.Process(event)
		}
	}
	words := make([]uint32, 4*len(outcomes))
	for i, o := range outcomes {
		w := words[4*i : 4*i+4]
		w[0] = uint32(o.c)
		switch {
		case o.c == caseKeep && o.replace:
			w[1], w[2], w[3] = 1, addrOfString(o.text), uint32(len(o.text))
			held.strings = append(held.strings, o.text)
		case o.c == caseEmit || o.c == caseFail:
			w[1], w[2] = addrOfString(o.text), uint32(len(o.text))
			held.strings = append(held.strings, o.text)
		}
	}
	held.outcomes = words
	retArea[0], retArea[1] = addrOf(unsafe.Pointer(unsafe.SliceData(words))), uint32(len(outcomes))
	return addrOf(unsafe.Pointer(&retArea))
}

//go:wasmexport cabi_post_process
func postProcess(uint32) { release() }

// release runs in cabi_post_*, where imports are forbidden as in
// cabi_realloc, so it only drops references and never allocates.
func release() {
	held.outcomes, held.strings = nil, nil
	arena.used, arena.last = 0, 0
}

//go:wasmimport sluice:plugin/log@0.2.0 log
func hostLog(level, msgPtr, msgLen, fieldsPtr, fieldsLen uint32)

func writeLog(level Level, message string, keyValues []string) {
	fields := make([]uint32, 2*len(keyValues))
	for i, s := range keyValues {
		fields[2*i], fields[2*i+1] = addrOfString(s), uint32(len(s))
	}
	hostLog(uint32(level), addrOfString(message), uint32(len(message)),
		addrOf(unsafe.Pointer(unsafe.SliceData(fields))), uint32(len(keyValues)/2))
	// The import takes plain integers, so the compiler does not see that the
	// router still reads these.
	runtime.KeepAlive(message)
	runtime.KeepAlive(keyValues)
	runtime.KeepAlive(fields)
}

// hostString copies a string out of memory the router wrote, so that plugin
// code may keep it after the arena is reused.
func hostString(ptr, length uint32) string {
	if length == 0 {
		return ""
	}
	return string(unsafe.Slice((*byte)(pointer(ptr)), length))
}

// pointer turns an address the router passed into a Go pointer. Adding to
// nil rather than converting a uintptr keeps `go vet` quiet: the address is
// in memory Go keeps alive (the arena), so the garbage collector loses nothing.
func pointer(addr uint32) unsafe.Pointer { return unsafe.Add(nil, addr) }

func addrOf(p unsafe.Pointer) uint32 { return uint32(uintptr(p)) }

func addrOfString(s string) uint32 { return addrOf(unsafe.Pointer(unsafe.StringData(s))) }
