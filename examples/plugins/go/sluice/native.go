//go:build !wasip1

package sluice

import (
	"fmt"
	"os"
)

// writeLog has no router to log into outside WebAssembly, so native unit
// tests of a plugin see its lines on stderr instead.
func writeLog(level Level, message string, keyValues []string) {
	fmt.Fprintf(os.Stderr, "%d: %s %q\n", level, message, keyValues)
}

// reserve has nothing to do outside WebAssembly: no router copies batches in.
func reserve(int) {}
