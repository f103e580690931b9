package learner

import (
	"io"
	"time"

	"github.com/leash-project/leash/learner/trace"
)

// DefaultFlushInterval is how often an attached session rewrites its
// profile.
const DefaultFlushInterval = 30 * time.Second

// AttachConfig describes a session that attaches to processes already
// running (leash learn --pid, --cgroup) instead of starting one.
//
// Exactly one of Pid and Cgroup is set. The session records until Duration
// has passed, a SIGINT or SIGTERM arrives (Signals), or, with Pid, the whole
// tree has exited. Every FlushInterval, and at the end, the profile is
// written atomically to Output: what this run recorded so far merged into
// the profile Output held when the run began, so a restarted leash (even
// one killed with SIGKILL) loses nothing recorded before its last flush.
type AttachConfig struct {
	Tracer *trace.Tracer
	// Pid: this process, its threads and all its descendants.
	Pid int
	// Cgroup: every process in this cgroup v2 directory and below it, and
	// every process that enters it while recording.
	Cgroup string
	// Component: default the existing profile's, else the process's name
	// (Pid) or the cgroup directory's base name without .service.
	Component     string
	Duration      time.Duration // 0: no limit
	FlushInterval time.Duration // 0: DefaultFlushInterval
	Output        string
	Leash         string // leash version, for provenance

	// Status, when not nil, gets a live status line (a terminal).
	Status io.Writer
	// Warn gets one-line messages for the user (stderr).
	Warn io.Writer
	// Signals ends the session on SIGINT or SIGTERM (the profile is
	// written first).
	Signals bool
	// Ready, when not nil, is called once everything running is
	// registered and the first profile is written.
	Ready func()
}

// TargetError says the --pid or --cgroup to attach to is not usable.
type TargetError struct{ Msg string }

func (e *TargetError) Error() string { return e.Msg }

// ProfileError says the existing output profile cannot be merged into.
type ProfileError struct{ Err error }

func (e *ProfileError) Error() string { return e.Err.Error() }
func (e *ProfileError) Unwrap() error { return e.Err }
