package cli

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"syscall"

	"github.com/leash-project/leash/internal/launch"
	"github.com/leash-project/leash/profiles"
	"github.com/leash-project/leash/profiles/signing"
)

// loadRunProfile reads the profile leash run is about to enforce (checking
// its owner and mode on the file it reads: readRunProfile), checks its
// signature when a key is given (on the very bytes it then parses, so
// the file cannot change in between). Every refusal is ExitInput.
func loadRunProfile(stderr io.Writer, a runArgs) (*profiles.Profile, error) {
	if a.signature != "" && a.verifyKey == "" {
		return nil, usageError("leash run: --signature needs --verify-key PUB")
	}
	data, err := readRunProfile(a.profile, os.Geteuid())
	if err != nil {
		return nil, Exit(ExitInput, err)
	}
	if a.verifyKey != "" {
		if err := signing.VerifyData(a.profile, data, a.signature, a.verifyKey); err != nil {
			if errors.Is(err, signing.ErrBadSignature) {
				return nil, Exit(ExitInput, fmt.Errorf("leash run: refusing %s: %w", a.profile, err))
			}
			return nil, Exit(ExitInput, fmt.Errorf("leash run: refusing %s: cannot verify its signature: %w", a.profile, err))
		}
	}
	p, err := profiles.Parse(a.profile, data)
	if err != nil {
		return nil, Exit(ExitInput, err)
	}
	return p, nil
}

// checkRunBinary refuses a CMD whose sha256 is not one recorded in the
// profile (profiles.CheckBinaryFile), unless --allow-digest-mismatch. exe
// is the path leash will execute (launch.Spec.Path, found with the
// target's PATH). It returns the identity of the file it hashed, which
// the target checks again just before its execve (launch.Spec.Exe), so
// that a file renamed into place after the check is not run. A profile
// that records no executable (written by hand) is not checked; a note
// says so, and the identity is nil.
func checkRunBinary(stderr io.Writer, p *profiles.Profile, a runArgs, exe string) (*launch.FileID, error) {
	if len(p.Provenance.Executables) == 0 {
		fmt.Fprintf(stderr, "leash: note: %s records no executable digests: not checking which binary runs\n", a.profile)
		return nil, nil
	}
	if abs, err := filepath.Abs(exe); err == nil {
		exe = abs
	}
	f, err := os.Open(exe)
	if err != nil {
		return nil, nil // launch reports "not found" (127) or "permission denied" (126) with its own message
	}
	defer f.Close()
	before, err := launch.Identify(f)
	if err != nil {
		return nil, Exit(ExitInput, fmt.Errorf("leash run: %w", err))
	}
	err = profiles.CheckBinaryFile(p, exe, f)
	if err == nil || errors.Is(err, profiles.ErrDigestMismatch) {
		after, ierr := launch.Identify(f)
		if ierr != nil {
			return nil, Exit(ExitInput, fmt.Errorf("leash run: %w", ierr))
		}
		if *after != *before {
			return nil, Exit(ExitInput, fmt.Errorf("leash run: refusing to run: %s changed while leash computed its sha256", exe))
		}
	}
	if err == nil {
		warnWritable(stderr, f, exe)
	}
	switch {
	case err == nil:
		return before, nil
	case errors.Is(err, profiles.ErrDigestMismatch) && a.allowDigestMismatch:
		fmt.Fprintf(stderr, "leash: warning: %v (allowed by --allow-digest-mismatch)\n", err)
		return before, nil
	case errors.Is(err, profiles.ErrDigestMismatch):
		return nil, Exit(ExitInput, fmt.Errorf("leash run: refusing to run: %w", err))
	}
	return nil, Exit(ExitInput, fmt.Errorf("leash run: %w", err))
}

// warnWritable warns, when leash runs as root, that an executable someone
// other than root can write is not held by its sha256: its writer can
// change its pages through a shared mapping without changing the identity
// the target checks before execve.
func warnWritable(stderr io.Writer, f *os.File, exe string) {
	if os.Geteuid() != 0 {
		return
	}
	fi, err := f.Stat()
	if err != nil {
		return
	}
	st, ok := fi.Sys().(*syscall.Stat_t)
	if !ok {
		return
	}
	perm := fi.Mode().Perm()
	who := ""
	switch {
	case perm&0o002 != 0:
		who = "anyone"
	case perm&0o020 != 0 && st.Gid != 0:
		who = fmt.Sprintf("group %d", st.Gid)
	case perm&0o200 != 0 && st.Uid != 0:
		who = fmt.Sprintf("uid %d", st.Uid)
	}
	if who != "" {
		fmt.Fprintf(stderr, "leash: warning: %s is writable by %s, who can change it as it starts, past its sha256 check; make it root's and not writable by others\n", exe, who)
	}
}
