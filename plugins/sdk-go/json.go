package sluice

import (
	"encoding/json"
	"math/bits"
	"strings"
	"unicode/utf8"
	"unsafe"
)

// Reading and editing JSON text.
//
// encoding/json turns a whole event into maps, and back into text when the
// event changes: compiled to WebAssembly that takes some 70 µs for a 1 KB
// event, which held the Go example of contract 0.2 (which read whole
// events) to about 13,000 events a second. A plugin that declares the fields
// it reads gets them located by the router (Event.Field); for one that reads
// the whole event, this file reads it in place instead: ParseObject checks
// the text once, as strictly as encoding/json does, Lookup finds members
// without decoding the rest, and AppendToArray edits the text, keeping every
// other byte as it came. Quote and AppendString build the JSON text of
// values for Set.

// Object is the JSON text of an object, checked by ParseObject.
type Object struct {
	text string
	// members is where each member of the object (not of the objects in
	// it) is in text, in order, so that lookups do not walk the text again.
	members []member
}

type member struct {
	key, keyEnd int // the key, quotes included
	start, end  int // the value
	// asciiKey: the key is ASCII without escapes, so its text is its name.
	asciiKey bool
}

// Value is the JSON text of a value inside an Object; empty when the member
// looked up is missing.
type Value struct{ text string }

// maxDepth is the deepest nesting encoding/json accepts.
const maxDepth = 10000

// ParseObject checks that text is one JSON object, with nothing but
// whitespace around it: what encoding/json accepts as a map[string]any.
func ParseObject(text string) (Object, bool) {
	text = text[skipSpace(text, 0):]
	if text == "" || text[0] != '{' {
		return Object{}, false
	}
	object := Object{members: make([]member, 0, 16)}
	end, ok := checkObject(text, &object.members)
	if !ok || skipSpace(text, end) != len(text) {
		return Object{}, false
	}
	object.text = text[:end]
	return object, true
}

// String is the object's text.
func (o Object) String() string { return o.text }

// Lookup follows a path of keys through nested objects, as
// event["agent"]["id"] would; the result is empty when a key is missing or a
// value on the way is not an object. When an object repeats a key the last
// one counts, as in encoding/json.
func (o Object) Lookup(path ...string) Value {
	v := Value{o.text}
	for i, key := range path {
		object := o
		if i > 0 {
			if v.text == "" || v.text[0] != '{' {
				return Value{}
			}
			// A nested object, checked already: this only finds its members.
			object = Object{v.text, make([]member, 0, 8)}
			checkObject(object.text, &object.members)
		}
		m, found := object.member(key)
		if !found {
			return Value{}
		}
		v = Value{object.text[m.start:m.end]}
	}
	return v
}

// JSON is the value's text, as it is in the event ("" when missing).
func (v Value) JSON() string { return v.text }

// Text is the value decoded, when it is a JSON string.
func (v Value) Text() (string, bool) {
	if v.text == "" || v.text[0] != '"' {
		return "", false
	}
	return decodeString(v.text), true
}

// AppendToArray gives the object's text with the string value appended to
// the array member key: after its last item when it is an array, in place of
// it when it is something else, and as a new last member key: [value] when
// there is none. The rest of the text is kept byte for byte.
func (o Object) AppendToArray(key, value string) string {
	s, item := o.text, Quote(value)
	if m, found := o.member(key); found {
		if s[m.start] != '[' {
			return s[:m.start] + "[" + item + "]" + s[m.end:]
		}
		at := m.end - 1 // the closing ]
		if skipSpace(s, m.start+1) == at {
			return s[:at] + item + s[at:]
		}
		return s[:at] + "," + item + s[at:]
	}
	at := len(s) - 1 // the closing }
	if skipSpace(s, 1) == at {
		return s[:at] + Quote(key) + ":[" + item + "]" + s[at:]
	}
	return s[:at] + "," + Quote(key) + ":[" + item + "]" + s[at:]
}

// AppendString gives the JSON text of array (a JSON array, such as a
// Field's text) with the string value appended after its last item, or of
// the array [value] when array is "". The array's own text is kept byte for
// byte.
func AppendString(array, value string) string {
	if array == "" {
		return "[" + Quote(value) + "]"
	}
	at := len(array) - 1 // the closing ]
	if skipSpace(array, 1) == at {
		return array[:at] + Quote(value) + array[at:]
	}
	return array[:at] + "," + Quote(value) + array[at:]
}

// member finds the last member named key.
func (o Object) member(key string) (member, bool) {
	for i := len(o.members) - 1; i >= 0; i-- {
		m := o.members[i]
		name := o.text[m.key:m.keyEnd]
		if m.asciiKey && name[1:len(name)-1] == key || !m.asciiKey && decodeString(name) == key {
			return m, true
		}
	}
	return member{}, false
}

// decodeString decodes a checked JSON string, quotes included.
func decodeString(quoted string) string {
	// Without escapes, valid UTF-8 is its own decoding (encoding/json
	// would turn invalid bytes into U+FFFD).
	if body := quoted[1 : len(quoted)-1]; strings.IndexByte(body, '\\') < 0 && utf8.ValidString(body) {
		return body
	}
	var text string
	_ = json.Unmarshal([]byte(quoted), &text) // checked, so it cannot fail
	return text
}

// Quote encodes text as a JSON string, as encoding/json does with
// SetEscapeHTML(false): for Set, and for building JSON text by hand.
func Quote(text string) string {
	for i := 0; i < len(text); i++ {
		if c := text[i]; c < 0x20 || c == '"' || c == '\\' || c >= utf8.RuneSelf && !plainUTF8(text[i:]) {
			var out strings.Builder
			encoder := json.NewEncoder(&out)
			encoder.SetEscapeHTML(false)
			_ = encoder.Encode(text) // a string always encodes
			return strings.TrimSuffix(out.String(), "\n")
		}
	}
	return `"` + text + `"`
}

// plainUTF8 reports whether encoding/json writes this text as it is, once
// its ASCII is known to need no escapes: valid UTF-8 without U+2028 and
// U+2029, which it escapes.
func plainUTF8(text string) bool {
	return utf8.ValidString(text) && !strings.ContainsRune(text, '\u2028') && !strings.ContainsRune(text, '\u2029')
}

func skipSpace(s string, i int) int {
	for i < len(s) && (s[i] == ' ' || s[i] == '\n' || s[i] == '\r' || s[i] == '\t') {
		i++
	}
	return i
}

// checkObject checks the object at the start of s and returns its end,
// adding its members (not those of nested objects) to *members. It walks
// the text in one loop, keeping the objects and arrays it is in on a stack,
// rather than calling itself for each value: calls are dear in Go's
// WebAssembly, and an event has many small values.
func checkObject(s string, members *[]member) (int, bool) {
	var bottom [32]byte
	nest := append(bottom[:0], '{') // '{' or '[' for each one open, innermost last
	i := skipSpace(s, 1)
	if i < len(s) && s[i] == '}' {
		return i + 1, true
	}
	var ok bool
	var m member // the top object's current member
	for {
		if nest[len(nest)-1] == '{' {
			if i >= len(s) || s[i] != '"' {
				return i, false
			}
			key, ascii := i, false
			if i, ascii, ok = checkString(s, i); !ok {
				return i, false
			}
			if len(nest) == 1 {
				m = member{key: key, keyEnd: i, asciiKey: ascii}
			}
			if i = skipSpace(s, i); i >= len(s) || s[i] != ':' {
				return i, false
			}
			i = skipSpace(s, i+1)
		}
		if len(nest) == 1 {
			m.start = i
		}
		if i >= len(s) {
			return i, false
		}
		switch c := s[i]; {
		case c == '"':
			i, _, ok = checkString(s, i)
		case c == '{' || c == '[':
			if len(nest) >= maxDepth {
				return i, false
			}
			if i = skipSpace(s, i+1); i >= len(s) || s[i] != c+2 { // '}' is '{'+2, ']' is '['+2
				nest = append(nest, c)
				continue // to its first member or item
			}
			i++ // it is empty
		case c == '-' || '0' <= c && c <= '9':
			i, ok = checkNumber(s, i)
		case c == 't':
			i, ok = i+4, strings.HasPrefix(s[i:], "true")
		case c == 'f':
			i, ok = i+5, strings.HasPrefix(s[i:], "false")
		case c == 'n':
			i, ok = i+4, strings.HasPrefix(s[i:], "null")
		default:
			return i, false
		}
		if !ok {
			return i, false
		}
		// A value ends here, and with it every object and array that closes.
		for {
			if len(nest) == 1 {
				m.end = i
				*members = append(*members, m)
			}
			if i = skipSpace(s, i); i >= len(s) {
				return i, false
			}
			if s[i] == ',' {
				i = skipSpace(s, i+1)
				break
			}
			if s[i] != nest[len(nest)-1]+2 {
				return i, false
			}
			i++
			if nest = nest[:len(nest)-1]; len(nest) == 0 {
				return i, true
			}
		}
	}
}

// checkString checks the string that starts at s[i] and returns its end,
// and whether it is ASCII without escapes.
func checkString(s string, i int) (end int, ascii, ok bool) {
	const ones, highs = 0x0101010101010101, 0x8080808080808080
	var seen uint64 // the bytes passed, or'ed: bit 7 tells non-ASCII
	escaped := false
	for i++; ; {
		// Most of an event's bytes are in strings and stand for themselves,
		// and Go's WebAssembly is slow byte by byte: look at eight at a
		// time for ", \ and control characters, with the bit tricks of
		// https://graphics.stanford.edu/~seander/bithacks.html#ZeroInWord
		// (the lowest byte they flag is always a true one).
		for i+8 <= len(s) {
			x := *(*uint64)(unsafe.Add(unsafe.Pointer(unsafe.StringData(s)), i))
			quotes, backslashes := x^(ones*'"'), x^(ones*'\\')
			special := ((x-ones*0x20)&^x | (quotes-ones)&^quotes | (backslashes-ones)&^backslashes) & highs
			if special != 0 {
				n := bits.TrailingZeros64(special) / 8
				seen |= x & (1<<(8*n) - 1)
				i += n
				break
			}
			seen |= x
			i += 8
		}
		for i < len(s) && s[i] >= 0x20 && s[i] != '"' && s[i] != '\\' {
			seen |= uint64(s[i])
			i++
		}
		if i >= len(s) {
			return i, false, false
		}
		switch c := s[i]; {
		case c == '"':
			return i + 1, !escaped && seen&highs == 0, true
		case c < 0x20:
			return i, false, false
		case i+1 < len(s) && strings.IndexByte(`"\/bfnrt`, s[i+1]) >= 0:
			escaped, i = true, i+2
		case i+5 < len(s) && s[i+1] == 'u' && isHex(s[i+2]) && isHex(s[i+3]) && isHex(s[i+4]) && isHex(s[i+5]):
			escaped, i = true, i+6
		default:
			return i, false, false
		}
	}
}

func isHex(c byte) bool { return '0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F' }

func checkNumber(s string, i int) (int, bool) {
	if s[i] == '-' {
		i++
	}
	switch {
	case i < len(s) && s[i] == '0':
		i++
	case i < len(s) && '1' <= s[i] && s[i] <= '9':
		i = skipDigits(s, i+1)
	default:
		return i, false
	}
	if i < len(s) && s[i] == '.' {
		end := skipDigits(s, i+1)
		if end == i+1 {
			return end, false
		}
		i = end
	}
	if i < len(s) && (s[i] == 'e' || s[i] == 'E') {
		if i++; i < len(s) && (s[i] == '+' || s[i] == '-') {
			i++
		}
		end := skipDigits(s, i)
		if end == i {
			return end, false
		}
		i = end
	}
	return i, true
}

func skipDigits(s string, i int) int {
	for i < len(s) && '0' <= s[i] && s[i] <= '9' {
		i++
	}
	return i
}
