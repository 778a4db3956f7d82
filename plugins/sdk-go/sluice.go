// Package sluice lets a sluice plugin be written in plain Go.
//
// A plugin is a WebAssembly component that implements the router's contract,
// the WIT world sluice:plugin/plugin@0.3.0 (wit/plugin.wit in the sluice
// repository). No bindings generator for Go is available from the package
// registries, so this package is the generated glue written by hand: it
// exports the contract's functions with the canonical ABI, imports the
// router's log, clock and state, and turns them into the Go API below. A
// plugin implements Plugin and registers it from an init function:
//
//	func init() { sluice.Register("my-plugin", "1.0.0", &myPlugin{}) }
//	func main() {} // required by `go build`, never called
//
// Build with GOOS=wasip1 GOARCH=wasm go build -buildmode=c-shared, then turn
// the core module into a component with
// `sluice plugin wrap core.wasm -o plugin.wasm`.
//
// Configure returns the dotted paths of the fields the plugin reads
// ("agent.id"): the router locates them in every event with its own native
// parser, and Process finds each one with Event.Field, without scanning the
// event. A plugin answers with an Outcome: Keep, Replace, Edit (a few
// changes the router applies), Emit, Split, Drop or Fail. Events are JSON
// text; ParseObject, Lookup and AppendToArray read and edit a whole event in
// place, many times faster than encoding/json in WebAssembly, for a plugin
// that declares nothing.
//
// Outside wasip1 (a plugin's native unit tests) Log writes to stderr, Now
// and Monotonic read the machine's clocks, State is a map in memory, and
// NewBatch locates declared fields as the router would, so the plugin's
// logic can be tested with plain `go test`.
package sluice

import "strings"

// Contract is the version of the contract this package implements.
const Contract = "0.3.0"

// Plugin is a sluice plugin. One value serves one plugin instance, from
// Configure to the instance's end, so it may keep state between events and
// batches (and in State beyond the instance). The router may run several
// instances, each with its own value.
type Plugin interface {
	// Configure receives the transform's `config` table as JSON text ("{}"
	// when the router's config has none) and returns the dotted paths of
	// the fields the plugin reads, in the order Event.Field numbers them
	// (none: the plugin reads the whole event). An error rejects the plugin
	// when the router loads it; its message is shown to the operator, so it
	// should name the bad key.
	Configure(config string) (reads []string, err error)
	// Process handles one event.
	Process(event Event) Outcome
}

// BatchPlugin is a Plugin that wants a whole batch at once, to share work
// across its events. It must return exactly one outcome per event, in order.
type BatchPlugin interface {
	Plugin
	ProcessBatch(batch Batch) []Outcome
}

var registered struct {
	plugin        Plugin
	name, version string
	// reads is what Configure declared, for reading each batch.
	reads int
}

// Register makes p the plugin that this module exports, under the name and
// version (semver) that `sluice plugin check` and the router's log show.
// Call it from an init function: c-shared modules run package initialisation
// but never main.
func Register(name, version string, p Plugin) {
	registered.plugin, registered.name, registered.version = p, name, version
}

// ReserveBatchMemory sets aside bytes (2 MiB unless set) for the router to
// copy each batch into, before the plugin sees it, and for the values State
// returns. The reserve grows when batches need more, but a batch larger than
// it fails in a fresh instance, so a plugin that expects larger batches (many
// events, or large ones) calls this from an init function. Go's own
// allocator cannot serve these copies: see the arena in abi.go.
func ReserveBatchMemory(bytes int) { reserve(bytes) }

// configure runs the registered plugin's Configure and remembers how many
// fields it declared.
func configure(config string) ([]string, error) {
	if registered.plugin == nil {
		return nil, errNotRegistered{}
	}
	reads, err := registered.plugin.Configure(config)
	if err != nil {
		return nil, err
	}
	for _, path := range reads {
		// The router refuses these too, but naming the path here says which
		// part of the plugin is wrong.
		if path == "" || strings.HasPrefix(path, ".") || strings.HasSuffix(path, ".") || strings.Contains(path, "..") {
			return nil, errBadPath(path)
		}
	}
	registered.reads = len(reads)
	return reads, nil
}

type errBadPath string

func (e errBadPath) Error() string {
	return "the plugin declared the path " + Quote(string(e)) + ", which has an empty segment (paths look like agent.id)"
}

// process runs the registered plugin over a batch.
func process(batch Batch) []Outcome {
	outcomes := make([]Outcome, batch.Len())
	switch p := registered.plugin.(type) {
	case nil:
		for i := range outcomes {
			outcomes[i] = Fail(errNotRegistered{}.Error())
		}
	case BatchPlugin:
		outcomes = p.ProcessBatch(batch)
		if len(outcomes) != batch.Len() {
			// The router would refuse the batch too; this names the culprit.
			panic("sluice: ProcessBatch must return one outcome per event")
		}
	default:
		for i := range outcomes {
			outcomes[i] = p.Process(batch.Event(i))
		}
	}
	return outcomes
}

type errNotRegistered struct{}

func (errNotRegistered) Error() string {
	return "the Go plugin registers no sluice.Plugin: call sluice.Register from an init function"
}

type outcomeCase uint8

// The values are the case indices of the WIT variant `outcome`.
const (
	caseKeep outcomeCase = iota
	caseReplace
	caseEdit
	caseEmit
	caseSplit
	caseDrop
	caseFail
)

// Outcome is what happens to one event after this plugin. Make one with
// Keep, Replace, Edit, Emit, Split, Drop or Fail.
type Outcome struct {
	c       outcomeCase
	text    string
	events  []string
	changes []Change
}

// Keep passes the event on exactly as it came in: nothing is copied back to
// the router.
func Keep() Outcome { return Outcome{c: caseKeep} }

// Replace passes on this JSON text, which must be an object, instead of the
// event.
func Replace(json string) Outcome { return Outcome{c: caseReplace, text: json} }

// Edit passes the event on with these changes, which the router applies in
// order: cheaper than Replace when a few fields change.
func Edit(changes ...Change) Outcome { return Outcome{c: caseEdit, changes: changes} }

// Emit passes the event on with a formatted line (CEF, LEEF …) that sinks
// write instead of the event's JSON.
func Emit(line string) Outcome { return Outcome{c: caseEmit, text: line} }

// Split passes on these events (JSON objects) in place of this one, in this
// order; the source counts the event delivered once all of them are. No
// events is Drop.
func Split(events ...string) Outcome { return Outcome{c: caseSplit, events: events} }

// Drop filters the event out on purpose: it is counted and acknowledged,
// and does not reach the dead-letter output.
func Drop() Outcome { return Outcome{c: caseDrop} }

// Fail sends the event to the dead-letter output with this reason; the rest
// of the batch goes on.
func Fail(reason string) Outcome { return Outcome{c: caseFail, text: reason} }

type changeCase uint8

// The values are the case indices of the WIT variant `edit`.
const (
	changeSet changeCase = iota
	changeRemove
	changeRename
)

// Change is one change to an event (the contract's `edit`), for Edit. Make
// one with Set, SetString, Remove or Rename; paths are dotted ("agent.id").
type Change struct {
	c    changeCase
	a, b string // set: path, value; remove: path; rename: from, to
}

// Set sets the value at path to json (JSON text: `"text"`, `42`, `{"a":1}`),
// creating the objects along the path that are missing.
func Set(path, json string) Change { return Change{c: changeSet, a: path, b: json} }

// SetString sets the value at path to the string text.
func SetString(path, text string) Change { return Set(path, Quote(text)) }

// Remove removes the member at path, if it is there.
func Remove(path string) Change { return Change{c: changeRemove, a: path} }

// Rename moves the value at from to to, if there is one.
func Rename(from, to string) Change { return Change{c: changeRename, a: from, b: to} }

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
