package sluice

// Native checks of the package (go test): what a plugin reads from a batch,
// the JSON helpers and the state's compare-and-swap. The canonical ABI in
// abi.go is checked by building the example plugin and running it in the
// router (tests/languages.rs in the sluice repository).

import (
	"bytes"
	"encoding/json"
	"testing"
)

func TestDeclaredFieldsReadWhereTheyAre(t *testing.T) {
	events := []string{
		`{"agent":{"id":"a-1"},"n":2,"labels":["x"]}`,
		` {"agent":{"id":"caf\u00e9 \"q\""},"agent":{"id":"last"},"x":null}`,
		`{}`,
	}
	batch, err := NewBatch(events, []string{"agent.id", "n", "labels", "x"})
	if err != nil {
		t.Fatal(err)
	}
	if batch.Len() != 3 {
		t.Fatalf("Len = %d", batch.Len())
	}
	first := batch.Event(0)
	if first.JSON() != events[0] {
		t.Errorf("JSON = %q", first.JSON())
	}
	if id, ok := first.Field(0).Text(); !ok || id != "a-1" || first.Field(0).Kind() != KindString {
		t.Errorf("agent.id = %q, %v (%v)", id, ok, first.Field(0).Kind())
	}
	if f := first.Field(1); f.Kind() != KindNumber || f.JSON() != "2" {
		t.Errorf("n = %v %q", f.Kind(), f.JSON())
	}
	if _, ok := first.Field(1).Text(); ok {
		t.Error("a number is not a string")
	}
	if f := first.Field(2); f.Kind() != KindArray || f.JSON() != `["x"]` {
		t.Errorf("labels = %v %q", f.Kind(), f.JSON())
	}
	if f := first.Field(3); f.Kind() != KindAbsent || f.JSON() != "" {
		t.Errorf("x = %v %q", f.Kind(), f.JSON())
	}
	// The last of a repeated member counts, as in the router.
	second := batch.Event(1)
	if id, _ := second.Field(0).Text(); id != "last" {
		t.Errorf("repeated agent = %q", id)
	}
	if second.Field(3).Kind() != KindNull || second.Field(9).Kind() != KindAbsent {
		t.Errorf("x = %v, past the declared = %v", second.Field(3).Kind(), second.Field(9).Kind())
	}
	escaped, err := NewBatch([]string{`{"agent":{"id":"caf\u00e9 \"q\""}}`}, []string{"agent.id"})
	if err != nil {
		t.Fatal(err)
	}
	if f := escaped.Event(0).Field(0); f.Kind() != KindEscapedString {
		t.Errorf("kind %v", f.Kind())
	} else if id, _ := f.Text(); id != `café "q"` {
		t.Errorf("decoded %q", id)
	}
	if _, err := NewBatch([]string{`[1]`}, nil); err == nil {
		t.Error("an array is not an event")
	}
}

func TestBatchesThatDoNotFitTogetherAreRefused(t *testing.T) {
	for _, c := range []struct {
		ends, slots []uint32
		reads       int
	}{
		{[]uint32{3}, nil, 0},               // past the text
		{[]uint32{2, 1}, nil, 0},            // out of order
		{[]uint32{2}, []uint32{0, 0}, 1},    // too few slot numbers
		{[]uint32{2}, []uint32{1, 5, 1}, 1}, // a slot past the text
	} {
		if _, err := newBatch("{}", c.ends, c.slots, c.reads); err == nil {
			t.Errorf("accepted %v", c)
		}
	}
}

func TestAppendStringKeepsTheArrayAndQuotesTheValue(t *testing.T) {
	for _, c := range []struct{ array, value, want string }{
		{"", "x", `["x"]`},
		{"[]", "x", `["x"]`},
		{"[ \n ]", "x", "[ \n \"x\"]"},
		{`["a", 1]`, "x", `["a", 1,"x"]`},
		{`["a"]`, "caf\u00e9 \"q\"\n<", `["a","café \"q\"\n<"]`},
	} {
		got := AppendString(c.array, c.value)
		if got != c.want {
			t.Errorf("AppendString(%q, %q) = %q, want %q", c.array, c.value, got, c.want)
		}
		var decoded []any
		if err := json.Unmarshal([]byte(got), &decoded); err != nil {
			t.Errorf("%q is not JSON: %v", got, err)
		}
	}
	if c := SetString("a.b", "x\"y"); c.a != "a.b" || c.b != `"x\"y"` {
		t.Errorf("SetString = %+v", c)
	}
}

func TestCompareAndSwapTellsAbsentFromEmpty(t *testing.T) {
	if swapped, _ := State.CompareAndSwap("k", nil, []byte{}); !swapped {
		t.Fatal("an absent key swaps from nil")
	}
	if swapped, _ := State.CompareAndSwap("k", nil, []byte("x")); swapped {
		t.Error("an empty value is not absent")
	}
	stored, err := State.Update("k", func(current []byte) []byte { return append(current, '1') })
	if err != nil || !bytes.Equal(stored, []byte("1")) {
		t.Errorf("Update = %q, %v", stored, err)
	}
	if err := State.Delete("k"); err != nil {
		t.Fatal(err)
	}
	if _, ok := State.Get("k"); ok {
		t.Error("deleted")
	}
}
