package launch

import (
	"errors"
	"fmt"
	"os"
	"os/user"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"syscall"

	"github.com/leash-project/leash/linux"
	"github.com/leash-project/leash/profiles"
)

// Mode is how the profile is applied.
type Mode string

const (
	// Enforce denies everything outside the profile.
	Enforce Mode = "enforce"
	// Complain denies nothing and reports what would have been denied.
	Complain Mode = "complain"
)

// Spec is what the child needs to confine and start the target. The
// launcher fills it in and sends it to the child as JSON.
type Spec struct {
	Component string   `json:"component"`
	Path      string   `json:"path"` // resolved executable
	Argv      []string `json:"argv"`
	Env       []string `json:"env"`

	Namespaces    []string `json:"namespaces"` // clone flags the launcher used
	PrivateTmp    bool     `json:"privateTmp,omitempty"`
	ProtectSystem string   `json:"protectSystem,omitempty"`
	ProtectHome   bool     `json:"protectHome,omitempty"`
	// PrivateDevices and ProtectKernelTunables: see profiles.RunOptions.
	PrivateDevices        bool `json:"privateDevices,omitempty"`
	ProtectKernelTunables bool `json:"protectKernelTunables,omitempty"`

	// SetIDs: switch to UID/GID (always true when the profile names a user
	// or group; otherwise the ids are the launcher's).
	UID int `json:"uid"`
	GID int `json:"gid"`
	// Caps are the capability numbers the target keeps. FullCaps keeps
	// every capability (complain mode).
	Caps     []int `json:"caps"`
	FullCaps bool  `json:"fullCaps,omitempty"`

	// Filter is the seccomp program as struct sock_filter bytes.
	Filter []byte `json:"filter"`
	// KeepFDs stay open in the target at their numbers.
	KeepFDs []int `json:"keepFDs,omitempty"`
	// AuditSession asks the child for a fresh audit session id.
	AuditSession bool `json:"auditSession,omitempty"`
	// Exe, when set, is the identity of the file at Path whose sha256
	// leash checked: the target stats Path just before the filter and
	// execve, and refuses to exec a different file (one renamed into
	// place, or changed, since the check).
	Exe *FileID `json:"exe,omitempty"`
}

// FileID is what stat says a file is: its device and inode, and the
// change time and size, which any write or chmod of it changes.
type FileID struct {
	Dev, Ino  uint64
	Size      int64
	Ctime     int64 // seconds
	CtimeNsec int64
}

// HasNamespace reports whether the child is created in namespace ns.
func (s *Spec) HasNamespace(ns string) bool {
	for _, n := range s.Namespaces {
		if n == ns {
			return true
		}
	}
	return false
}

// runNamespaces are the namespaces leash run can create.
var runNamespaces = map[string]bool{"pid": true, "ipc": true, "uts": true, "mnt": true, "net": true}

// ErrExecve marks a profile that does not allow execve: leash could not
// start anything under it.
var ErrExecve = errors.New("profile does not allow execve")

// NewSpec builds the child's instructions from a profile and a command.
// The filter is compiled by the caller (package seccomp).
func NewSpec(p *profiles.Profile, mode Mode, argv []string) (*Spec, error) {
	if len(argv) == 0 {
		return nil, errors.New("no command given")
	}
	s := &Spec{Component: p.Component, Argv: argv}
	for _, ns := range p.Run.Namespaces {
		if !runNamespaces[ns] {
			return nil, fmt.Errorf("run.namespaces: leash run cannot create a %q namespace (only ipc, mnt, net, pid, uts)", ns)
		}
		s.Namespaces = append(s.Namespaces, ns)
	}
	s.PrivateTmp, s.ProtectHome = p.Run.PrivateTmp, p.Run.ProtectHome
	// Unset, the /dev and tunables protections are on when leash can
	// create the mount namespace they need (it runs as root). Without
	// root the component runs as the caller, who owns nothing they guard.
	orRoot := func(set *bool) bool {
		if set != nil {
			return *set
		}
		return os.Geteuid() == 0
	}
	s.PrivateDevices, s.ProtectKernelTunables = orRoot(p.Run.PrivateDevices), orRoot(p.Run.ProtectKernelTunables)
	switch p.Run.ProtectSystem {
	case "", "full", "strict":
		s.ProtectSystem = p.Run.ProtectSystem
	default:
		return nil, fmt.Errorf("run.protectSystem: unknown value %q (want full or strict)", p.Run.ProtectSystem)
	}
	// A PID namespace needs a /proc of its own, and so a mount namespace
	// to mount it in: the host's /proc would list (and open) every host
	// process, as unshare --pid without --mount-proc does.
	if (s.PrivateTmp || s.ProtectHome || s.ProtectSystem != "" || s.PrivateDevices || s.ProtectKernelTunables || s.HasNamespace("pid")) && !s.HasNamespace("mnt") {
		s.Namespaces = append(s.Namespaces, "mnt")
	}
	sort.Strings(s.Namespaces)

	uid, gid := os.Getuid(), os.Getgid()
	if p.Run.User != "" {
		u, g, err := lookupUser(p.Run.User)
		if err != nil {
			return nil, err
		}
		uid, gid = u, g
	}
	if p.Run.Group != "" {
		g, err := lookupGroup(p.Run.Group)
		if err != nil {
			return nil, err
		}
		gid = g
	}
	s.UID, s.GID = uid, gid

	for name := range p.Capabilities.Needed {
		c, ok := linux.CapNumber(name)
		if !ok {
			return nil, fmt.Errorf("unknown capability %q", name)
		}
		s.Caps = append(s.Caps, c)
	}
	sort.Ints(s.Caps)
	s.FullCaps = mode == Complain

	if p.Run.ClearEnv {
		s.Env = append([]string{}, p.Run.Env...)
	} else {
		// run.env replaces the caller's variables of the same names:
		// with both, getenv(3) would find the caller's, the first.
		set := map[string]bool{}
		for _, kv := range p.Run.Env {
			k, _, _ := strings.Cut(kv, "=")
			set[k] = true
		}
		for _, kv := range os.Environ() {
			if k, _, _ := strings.Cut(kv, "="); !set[k] {
				s.Env = append(s.Env, kv)
			}
		}
		s.Env = append(s.Env, p.Run.Env...)
	}
	path, err := lookPath(argv[0], s.Env)
	if err != nil {
		return nil, err
	}
	s.Path = path
	return s, nil
}

// NeedsExecve returns ErrExecve, wrapped with advice, when the profile's
// native syscalls lack execve.
func NeedsExecve(p *profiles.Profile, arch linux.Arch) error {
	if _, ok := p.Syscalls[string(arch)]["execve"]; ok {
		return nil
	}
	return fmt.Errorf("%w: leash starts the command with execve after installing the filter, so the %s syscalls must list execve (a profile from leash learn always does)", ErrExecve, arch)
}

func lookupUser(name string) (uid, gid int, err error) {
	if n, err := strconv.Atoi(name); err == nil && n >= 0 {
		if f := etcEntry("/etc/passwd", 2, name, 7); f != nil {
			g, _ := strconv.Atoi(f[3])
			return n, g, nil
		}
		if u, err := user.LookupId(name); err == nil {
			g, _ := strconv.Atoi(u.Gid)
			return n, g, nil
		}
		return n, n, nil
	}
	if f := etcEntry("/etc/passwd", 0, name, 7); f != nil {
		uid, _ = strconv.Atoi(f[2])
		gid, _ = strconv.Atoi(f[3])
		return uid, gid, nil
	}
	u, err := user.Lookup(name)
	if err != nil {
		return 0, 0, fmt.Errorf("run.user: %w", err)
	}
	uid, _ = strconv.Atoi(u.Uid)
	gid, _ = strconv.Atoi(u.Gid)
	return uid, gid, nil
}

func lookupGroup(name string) (int, error) {
	if n, err := strconv.Atoi(name); err == nil && n >= 0 {
		return n, nil
	}
	if f := etcEntry("/etc/group", 0, name, 4); f != nil {
		return strconv.Atoi(f[2])
	}
	g, err := user.LookupGroup(name)
	if err != nil {
		return 0, fmt.Errorf("run.group: %w", err)
	}
	return strconv.Atoi(g.Gid)
}

// etcEntry is the fast path of the lookups above: the fields of the first
// entry of an /etc/passwd or /etc/group style file whose field idx is
// key, read as os/user's own parser reads them (blank space and #
// comments skipped, +/- NIS entries ignored, the id fields numeric); nil
// when there is none, and os/user, which knows NSS in a cgo build, has
// the last word. The files are the first source of every usual
// nsswitch.conf; os/user's first lookup costs a tenth of a millisecond
// more on every launch.
func etcEntry(path string, idx int, key string, nfields int) []string {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil
	}
	for line := range strings.SplitSeq(string(b), "\n") {
		line = strings.TrimSpace(line)
		if line == "" || line[0] == '#' || line[0] == '+' || line[0] == '-' {
			continue
		}
		f := strings.SplitN(line, ":", nfields)
		if len(f) < nfields || f[0] == "" || f[idx] != key {
			continue
		}
		if _, err := strconv.Atoi(f[2]); err != nil {
			continue
		}
		if nfields == 7 {
			if _, err := strconv.Atoi(f[3]); err != nil {
				continue
			}
		}
		return f
	}
	return nil
}

// ExecError is an exec failure, with the exit code leash uses for it:
// 127 when the command was not found, 126 when it could not be executed.
type ExecError struct {
	Path  string
	Errno syscall.Errno
	Why   string // an explanation, when leash can tell
}

func (e *ExecError) Error() string {
	if e.Errno == 0 {
		return fmt.Sprintf("exec %s: %s", e.Path, e.Why)
	}
	msg := fmt.Sprintf("exec %s: %v", e.Path, e.Errno)
	if e.Why != "" {
		msg += " (" + e.Why + ")"
	}
	return msg
}

// Code is the shell's exit code for this failure.
func (e *ExecError) Code() int {
	if e.Errno == syscall.ENOENT || e.Errno == syscall.ENOTDIR {
		return 127
	}
	return 126
}

func (e *ExecError) Unwrap() error { return e.Errno }

// lookPath finds argv0 as a shell would, with the target's PATH.
func lookPath(argv0 string, env []string) (string, error) {
	if strings.Contains(argv0, "/") {
		return argv0, nil
	}
	path := "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
	for _, kv := range env {
		if v, ok := strings.CutPrefix(kv, "PATH="); ok {
			path = v
		}
	}
	for _, dir := range filepath.SplitList(path) {
		if dir == "" {
			dir = "."
		}
		p := filepath.Join(dir, argv0)
		if fi, err := os.Stat(p); err == nil && fi.Mode().IsRegular() && fi.Mode()&0o111 != 0 {
			return p, nil
		}
	}
	return "", &ExecError{Path: argv0, Errno: syscall.ENOENT, Why: "not found in PATH"}
}

func capName(c int) string { return linux.CapName(c) }

// HostArch is the native ABI of this build.
func HostArch() linux.Arch {
	if isArm64 {
		return linux.ARM64
	}
	return linux.X86_64
}
