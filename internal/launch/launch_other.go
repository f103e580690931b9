//go:build !linux

package launch

import (
	"errors"
	"os"
	"syscall"
	"time"
)

// ErrUnsupported: leash run needs Linux.
var ErrUnsupported = errors.New("leash run needs Linux (namespaces, capabilities, seccomp)")

// Forwarded are the signals the launcher passes on to the target.
var Forwarded = []os.Signal{}

// Options say how the launcher starts the child. The target inherits
// leash's standard input, output and error.
type Options struct {
	NoNewSession bool
	Log          *KernelLog
	Signals      *Signals
}

// Signals does nothing off Linux.
type Signals struct{}

// CatchSignals does nothing off Linux.
func CatchSignals() *Signals { return &Signals{} }

// Release does nothing off Linux.
func (s *Signals) Release() {}

// Result is how a launch ended.
type Result struct {
	Code    int
	Err     error
	PID     int
	Session uint32
}

// Run fails: leash run needs Linux.
func Run(s *Spec, opts Options) (*Result, error) { return nil, ErrUnsupported }

// KernelLog reads the kernel's seccomp records (Linux only).
type KernelLog struct{}

// ErrNoKernelLog is returned by OpenKernelLog when the log cannot be read.
var ErrNoKernelLog = errors.New("cannot read the kernel log")

// OpenKernelLog fails off Linux.
func OpenKernelLog() (*KernelLog, error) { return nil, ErrNoKernelLog }

// Close does nothing.
func (k *KernelLog) Close() error { return nil }

// Denials returns nothing off Linux.
func (k *KernelLog) Denials(component string, session uint32, pid int, settle time.Duration) []Denial {
	return nil
}

func explainExec(path string, errno syscall.Errno, uid int) string { return "" }

// Identify does nothing off Linux.
func Identify(f *os.File) (*FileID, error) { return nil, ErrUnsupported }
