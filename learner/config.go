package learner

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os/exec"
	"os/user"
	"time"

	"github.com/leash-project/leash/learner/trace"
	"github.com/leash-project/leash/profiles"
)

// DefaultLinger bounds how long learning goes on after the command exits
// while processes it started are still running.
const DefaultLinger = 10 * time.Second

// Config describes one learning session.
type Config struct {
	Tracer    *trace.Tracer
	Command   []string      // CMD and its arguments
	Component string        // default: basename of CMD
	User      string        // run CMD as this user (name or uid); "" keeps leash's
	Linger    time.Duration // 0: stop when CMD exits
	Output    string        // profile path, written atomically
	Leash     string        // leash version, for provenance

	Stdin          io.Reader
	Stdout, Stderr io.Writer
	// Status, when not nil, gets a live status line (a terminal).
	Status io.Writer
	// Warn gets one-line messages for the user (stderr).
	Warn io.Writer
	// ForwardSignals relays SIGINT, SIGTERM, SIGHUP and SIGQUIT to CMD.
	ForwardSignals bool
	// Ready, when not nil, is called once the command and user are found
	// good, just before the command starts.
	Ready func()
}

// Result is a finished session.
type Result struct {
	// ExitCode is CMD's exit status, 128+signal when it was killed.
	ExitCode int
	Profile  *profiles.Profile
}

// NotFoundError says CMD could not be found or executed before starting.
type NotFoundError struct {
	Name string
	Err  error
}

func (e *NotFoundError) Error() string {
	if errors.Is(e.Err, exec.ErrNotFound) {
		return fmt.Sprintf("%s: command not found", e.Name)
	}
	var pe *fs.PathError
	if errors.As(e.Err, &pe) {
		return fmt.Sprintf("%s: %v", e.Name, pe.Err)
	}
	return fmt.Sprintf("%s: %v", e.Name, e.Err)
}
func (e *NotFoundError) Unwrap() error { return e.Err }

// LaunchError says leash could not start the command.
type LaunchError struct{ Err error }

func (e *LaunchError) Error() string { return e.Err.Error() }
func (e *LaunchError) Unwrap() error { return e.Err }

// FormatStatus is the live status line; it fits 80 columns for any
// realistic run.
func FormatStatus(elapsed time.Duration, st trace.Stats) string {
	return fmt.Sprintf("leash: %s · %d procs (%d tasks live) · %d syscalls · %d caps · %d families",
		elapsed.Round(100*time.Millisecond), st.Processes, st.Live, st.Syscalls, st.Capabilities, st.Families)
}

// UserError says the --user to train as does not exist.
type UserError struct {
	Name string
	Err  error
}

func (e *UserError) Error() string {
	var unknown user.UnknownUserError
	if errors.As(e.Err, &unknown) {
		return fmt.Sprintf("--user %s: no such user", e.Name)
	}
	return fmt.Sprintf("look up user %s: %v", e.Name, e.Err)
}
func (e *UserError) Unwrap() error { return e.Err }
