//go:build !linux

package learner

import "errors"

// StubRole is the re-exec role of the learn stub (Linux only).
const StubRole = "__leash-learn-stub"

// Learn needs Linux.
func Learn(cfg Config) (*Result, error) {
	return nil, errors.New("learn: leash learn needs Linux with eBPF")
}
