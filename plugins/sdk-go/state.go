package sluice

// StateErrorKind says why the router refused a change to the state.
type StateErrorKind uint8

// The values are the case indices of the WIT variant `state.error`.
const (
	// KeyTooLong: the key is longer than the router's limit (1 KiB).
	KeyTooLong StateErrorKind = iota
	// ValueTooLarge: the value is larger than the router's limit.
	ValueTooLarge
	// StateFull: the change would take the transform's state past its limit.
	StateFull
)

// StateError is a change to the state that the router refused; Message
// gives the sizes or figures involved.
type StateError struct {
	Kind    StateErrorKind
	Message string
}

func (e *StateError) Error() string { return e.Message }

// StateStore is the transform's key-value state: the router keeps it across
// a replaced instance, a hot reload and a restart, shares it between the
// transform's workers, and bounds it. Keys are strings of at most 1 KiB,
// values bytes. Use it through State.
//
// Workers run in parallel: to change a value without losing another
// worker's change, read it, compute, and CompareAndSwap, reading again when
// that returns false (Update does the loop).
type StateStore struct{}

// State is the transform's key-value state.
var State StateStore

// Get is the value stored under key, and whether there is one.
func (StateStore) Get(key string) ([]byte, bool) { return stateGet(key) }

// Set stores value under key, replacing what was there.
func (StateStore) Set(key string, value []byte) error { return stateSet(key, value) }

// Delete removes key; removing a missing key is not an error.
func (StateStore) Delete(key string) error { return stateDelete(key) }

// CompareAndSwap replaces the value under key with new only if it is still
// expected, and says whether it did. A nil expected means the key is absent
// (an empty non-nil slice is an empty value, as Get returns it); a nil new
// removes the key.
func (StateStore) CompareAndSwap(key string, expected, new []byte) (bool, error) {
	return stateCompareAndSwap(key, expected, new)
}

// Update applies change to the value under key until no other worker
// changed it in between, and returns what it stored. change gets the
// current value (nil when there is none) and returns the new one (nil
// removes the key); it may run more than once.
func (s StateStore) Update(key string, change func(current []byte) []byte) ([]byte, error) {
	for {
		current, _ := s.Get(key)
		next := change(current)
		swapped, err := s.CompareAndSwap(key, current, next)
		if err != nil {
			return nil, err
		}
		if swapped {
			return next, nil
		}
	}
}
