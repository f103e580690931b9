package cli

import (
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"

	"github.com/leash-project/leash/profiles"
	"github.com/leash-project/leash/profiles/signing"
)

// loadRunProfile reads the profile leash run is about to enforce (checking
// its owner and mode on the file it reads: readRunProfile), checks its
// signature when a key is given (on the very bytes it then parses, so
// the file cannot change in between), and checks that CMD is the
// executable the profile was learned with. Every refusal is ExitInput.
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
	if err := checkRunBinary(stderr, p, a); err != nil {
		return nil, err
	}
	return p, nil
}

// checkRunBinary refuses a CMD whose sha256 is not one recorded in the
// profile (profiles.CheckBinary), unless --allow-digest-mismatch. A
// profile that records no executable (written by hand) is not checked;
// a note says so.
func checkRunBinary(stderr io.Writer, p *profiles.Profile, a runArgs) error {
	if len(p.Provenance.Executables) == 0 {
		fmt.Fprintf(stderr, "leash: note: %s records no executable digests: not checking which binary runs\n", a.profile)
		return nil
	}
	exe, err := exec.LookPath(a.argv[0])
	if err != nil {
		return nil // launch reports "not found" (127) with its own message
	}
	if abs, err := filepath.Abs(exe); err == nil {
		exe = abs
	}
	err = profiles.CheckBinary(p, exe)
	switch {
	case err == nil:
		return nil
	case errors.Is(err, profiles.ErrDigestMismatch) && a.allowDigestMismatch:
		fmt.Fprintf(stderr, "leash: warning: %v (allowed by --allow-digest-mismatch)\n", err)
		return nil
	case errors.Is(err, profiles.ErrDigestMismatch):
		return Exit(ExitInput, fmt.Errorf("leash run: refusing to run: %w", err))
	}
	return Exit(ExitInput, fmt.Errorf("leash run: %w", err))
}
