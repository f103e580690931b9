//go:build !linux

package learner

import "errors"

// CheckTarget needs Linux.
func CheckTarget(pid int, cgroup string) error {
	return &TargetError{Msg: "attaching needs Linux with eBPF"}
}

// Attach needs Linux.
func Attach(cfg AttachConfig) (*Result, error) {
	return nil, errors.New("learn: leash learn --pid/--cgroup needs Linux with eBPF")
}
