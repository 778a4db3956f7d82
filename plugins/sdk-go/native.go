//go:build !wasip1

package sluice

// Outside WebAssembly (a plugin's native unit tests) there is no router: the
// contract's imports are served here instead, so that the plugin's logic can
// be tested with plain `go test`.

import (
	"bytes"
	"fmt"
	"os"
	"sync"
	"time"
)

// writeLog writes the line to stderr.
func writeLog(level Level, message string, keyValues []string) {
	fmt.Fprintf(os.Stderr, "%d: %s %q\n", level, message, keyValues)
}

// reserve has nothing to do outside WebAssembly: no router copies batches in.
func reserve(int) {}

func clockNow() (uint64, uint32) {
	now := time.Now()
	return uint64(now.Unix()), uint32(now.Nanosecond())
}

var started = time.Now()

func clockMonotonic() uint64 { return uint64(time.Since(started)) }

// nativeState is the state as a map in memory, without the router's limits.
var nativeState = struct {
	sync.Mutex
	values map[string][]byte
}{values: map[string][]byte{}}

func stateGet(key string) ([]byte, bool) {
	nativeState.Lock()
	defer nativeState.Unlock()
	value, ok := nativeState.values[key]
	if !ok {
		return nil, false
	}
	return append([]byte{}, value...), true
}

func stateSet(key string, value []byte) error {
	nativeState.Lock()
	defer nativeState.Unlock()
	nativeState.values[key] = append([]byte{}, value...)
	return nil
}

func stateDelete(key string) error {
	nativeState.Lock()
	defer nativeState.Unlock()
	delete(nativeState.values, key)
	return nil
}

func stateCompareAndSwap(key string, expected, new []byte) (bool, error) {
	nativeState.Lock()
	defer nativeState.Unlock()
	current, ok := nativeState.values[key]
	if ok != (expected != nil) || ok && !bytes.Equal(current, expected) {
		return false, nil
	}
	if new == nil {
		delete(nativeState.values, key)
	} else {
		nativeState.values[key] = append([]byte{}, new...)
	}
	return true, nil
}
