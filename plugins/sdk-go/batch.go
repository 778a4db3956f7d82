package sluice

import (
	"fmt"
	"strings"
	"unsafe"
)

// Kind is the kind of a declared field's value, as the router reports it.
type Kind uint8

// The values are those of the contract's slot kinds (see wit/plugin.wit).
const (
	// KindAbsent: the event does not have the field.
	KindAbsent Kind = iota
	// KindString is a string written without escapes: the text between its
	// quotes is the string.
	KindString
	// KindEscapedString is a string with escapes (\n, \", \u00e9 …),
	// decoded by Field.Text.
	KindEscapedString
	KindNumber
	KindBool
	KindNull
	KindObject
	KindArray
)

// Batch is a batch of events as the router handed it over: their JSON texts
// in one buffer, where each ends, and where each declared field is.
type Batch struct {
	text  string
	ends  []uint32
	slots []uint32
	reads int // how many paths the plugin declared
}

// newBatch checks that the contract's three lists fit together (the router
// always sends lists that do): every read below is then within bounds.
func newBatch(text string, ends, slots []uint32, reads int) (Batch, error) {
	last := uint32(0)
	for _, end := range ends {
		if end < last || int(end) > len(text) {
			return Batch{}, fmt.Errorf("the batch's event ends are not in order within its %d bytes", len(text))
		}
		last = end
	}
	if len(slots) != 3*reads*len(ends) {
		return Batch{}, fmt.Errorf("the batch has %d slot numbers for %d events and %d declared paths",
			len(slots), len(ends), reads)
	}
	for k := 0; k < len(slots); k += 3 {
		if uint64(slots[k])+uint64(slots[k+1]) > uint64(len(text)) {
			return Batch{}, fmt.Errorf("a slot of the batch points past its %d bytes", len(text))
		}
	}
	return Batch{text, ends, slots, reads}, nil
}

// Len is the number of events in the batch.
func (b Batch) Len() int { return len(b.ends) }

// Event is event j of the batch, from 0.
func (b Batch) Event(j int) Event {
	start := uint32(0)
	if j > 0 {
		start = b.ends[j-1]
	}
	per := 3 * b.reads
	return Event{batch: b.text, start: start, end: b.ends[j], slots: b.slots[j*per : (j+1)*per]}
}

// Event is one event of a batch: its JSON text and the fields the plugin
// declared. Its strings share memory with the rest of its batch: a plugin
// that keeps one past the call should keep a strings.Clone.
type Event struct {
	batch      string // the batch's whole text, which the slots count into
	start, end uint32
	slots      []uint32 // three numbers (start, length, kind) per declared field
}

// JSON is the event's JSON text (an object).
func (e Event) JSON() string { return e.batch[e.start:e.end] }

// Field is declared field i, in the order Configure returned the paths; a
// field past the declared ones is KindAbsent.
func (e Event) Field(i int) Field {
	if i < 0 || 3*i+2 >= len(e.slots) {
		return Field{}
	}
	s := e.slots[3*i : 3*i+3]
	return Field{json: e.batch[s[0] : s[0]+s[1]], kind: Kind(s[2])}
}

// Field is one declared field of an event, where the router found it.
type Field struct {
	json string
	kind Kind
}

// Kind is what kind of JSON value the field holds (KindAbsent when the
// event does not have it).
func (f Field) Kind() Kind { return f.kind }

// JSON is the field's JSON text, quotes included ("" when absent).
func (f Field) JSON() string { return f.json }

// Text is the field as a string, when it is one: the text between its
// quotes, decoded only when it was written with escapes.
func (f Field) Text() (string, bool) {
	switch f.kind {
	case KindString:
		return f.json[1 : len(f.json)-1], true
	case KindEscapedString:
		return decodeString(f.json), true
	default:
		return "", false
	}
}

// Value is the field as a Value, to Lookup inside it.
func (f Field) Value() Value { return Value{f.json} }

// NewBatch lays events (JSON objects) out as the router would for a plugin
// that declared reads, locating each field with ParseObject and Lookup: for
// a plugin's native unit tests. An event that is not a JSON object is an
// error, as the router never sends one.
func NewBatch(events []string, reads []string) (Batch, error) {
	text := strings.Join(events, "")
	ends := make([]uint32, 0, len(events))
	slots := make([]uint32, 0, 3*len(reads)*len(events))
	base := 0
	for i, event := range events {
		object, ok := ParseObject(text[base : base+len(event)])
		if !ok {
			return Batch{}, fmt.Errorf("event %d is not a JSON object", i)
		}
		for _, path := range reads {
			v := object.Lookup(strings.Split(path, ".")...).JSON()
			if v == "" {
				slots = append(slots, 0, 0, uint32(KindAbsent))
				continue
			}
			// v is a part of text: where it starts is how far its bytes are
			// from text's.
			start := uintptr(unsafe.Pointer(unsafe.StringData(v))) - uintptr(unsafe.Pointer(unsafe.StringData(text)))
			slots = append(slots, uint32(start), uint32(len(v)), uint32(kindOf(v)))
		}
		base += len(event)
		ends = append(ends, uint32(base))
	}
	return newBatch(text, ends, slots, len(reads))
}

// kindOf is the kind of a checked JSON value, as the router reports it.
func kindOf(v string) Kind {
	switch v[0] {
	case '"':
		if strings.IndexByte(v, '\\') >= 0 {
			return KindEscapedString
		}
		return KindString
	case '{':
		return KindObject
	case '[':
		return KindArray
	case 't', 'f':
		return KindBool
	case 'n':
		return KindNull
	default:
		return KindNumber
	}
}
