// Package sluice lets a sluice plugin be written in plain Go.
//
// A plugin is a WebAssembly component that implements the router's contract,
// the WIT world sluice:plugin/plugin@0.2.0 (wit/plugin.wit in the sluice
// repository). No bindings generator for Go is available from the package
// registries, so this package is the generated glue written by hand: it
// exports the contract's functions with the canonical ABI, imports the
// router's log, and turns both into the Go API below. A plugin implements
// Plugin and registers it from an init function:
//
//	func init() { sluice.Register(&myPlugin{}) }
//	func main() {} // required by `go build`, never called
//
// Build with GOOS=wasip1 GOARCH=wasm go build -buildmode=c-shared, then turn
// the core module into a component with
// `sluice plugin wrap core.wasm -o plugin.wasm`.
//
// Events are JSON text. ParseObject, Lookup and AppendToArray read and edit
// them in place, many times faster than encoding/json in WebAssembly.
//
// Outside wasip1 (a plugin's native unit tests) Log writes to stderr, so the
// plugin's logic can be tested with plain `go test`.
package sluice

// Plugin is a sluice plugin. One value serves one plugin instance, from
// Configure to the instance's end, so it may keep state between events and
// batches. The router may run several instances, each with its own value.
type Plugin interface {
	// Configure receives the transform's `config` table as JSON text ("{}"
	// when the router's config has none). An error rejects the plugin when
	// the router loads it; its message is shown to the operator, so it
	// should name the bad key.
	Configure(config string) error
	// Process handles one event, given as the JSON text of an object. The
	// text shares memory with the rest of its batch: a plugin that keeps an
	// event, or part of one, past the call should keep a strings.Clone.
	Process(event string) Outcome
}

// BatchPlugin is a Plugin that wants a whole batch at once, to share work
// across its events. It must return exactly one outcome per event, in order.
type BatchPlugin interface {
	Plugin
	ProcessBatch(batch []string) []Outcome
}

var registered Plugin

// Register makes p the plugin that this module exports. Call it from an init
// function: c-shared modules run package initialisation but never main.
func Register(p Plugin) { registered = p }

// ReserveBatchMemory sets aside bytes (2 MiB unless set) for the router to
// copy each batch into, before the plugin sees it. The reserve grows when
// batches need more, but a batch larger than it fails in a fresh instance, so
// a plugin that expects larger batches (many events, or large ones) calls this
// from an init function. Go's own allocator cannot serve these copies: see
// the arena in abi.go.
func ReserveBatchMemory(bytes int) { reserve(bytes) }

type outcomeCase uint8

// The values are the case indices of the WIT variant `outcome`.
const (
	caseKeep outcomeCase = iota
	caseDrop
	caseEmit
	caseFail
)

// Outcome is what happens to one event after this plugin. Make one with
// Keep, Replace, Drop, Emit or Fail.
type Outcome struct {
	c       outcomeCase
	text    string
	replace bool
}

// Keep passes the event on exactly as it came in. It is cheaper than
// Replace with the same text: nothing is copied back to the router.
func Keep() Outcome { return Outcome{c: caseKeep} }

// Replace passes on this JSON text, which must be an object, instead of the event.
func Replace(json string) Outcome { return Outcome{c: caseKeep, text: json, replace: true} }

// Drop filters the event out on purpose: it is counted and acknowledged,
// and does not reach the dead-letter output.
func Drop() Outcome { return Outcome{c: caseDrop} }

// Emit passes the event on with a formatted line (CEF, LEEF …) that sinks
// write instead of the event's JSON.
func Emit(line string) Outcome { return Outcome{c: caseEmit, text: line} }

// Fail sends the event to the dead-letter output with this reason; the rest
// of the batch goes on.
func Fail(reason string) Outcome { return Outcome{c: caseFail, text: reason} }

// Level says how important a log line is; the router's log filter applies to it.
type Level uint8

// The values are the case indices of the WIT enum `level`.
const (
	Trace Level = iota
	Debug
	Info
	Warn
	Error
)

// Log writes a line into the router's log, where it appears tagged with the
// transform that runs the plugin. keyValues are field names and values in
// pairs, as in log/slog: Log(Info, "ready", "labels", "3"). A key without a
// value gets an empty one.
func Log(level Level, message string, keyValues ...string) {
	if len(keyValues)%2 == 1 {
		keyValues = append(keyValues, "")
	}
	writeLog(level, message, keyValues)
}
