package profiles

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"strings"
)

// ErrDigestMismatch is matched by every *DigestError with errors.Is.
var ErrDigestMismatch = errors.New("executable does not match the profile")

// DigestError says that the executable about to run is not the one the
// profile was learned with: its sha256 differs from the one recorded, or
// no executable of that path or name was recorded at all.
type DigestError struct {
	Exe string // the executable checked, as given
	Got string // its sha256
	// Want is the sha256 recorded for it, "" when none was (Recorded lists
	// the executables the profile knows instead, as "PATH sha256 DIGEST").
	Want     string
	Path     string // the path Want was recorded under
	Learned  string // when and where the profile was learned, for the message
	Recorded []string
}

func (e *DigestError) Error() string {
	if e.Want == "" {
		known := "none"
		if len(e.Recorded) > 0 {
			known = strings.Join(e.Recorded, ", ")
		}
		return fmt.Sprintf("executable %s (sha256 %s) is not one the profile was learned with (it records: %s); pass --allow-digest-mismatch to run it anyway",
			e.Exe, e.Got, known)
	}
	var notes []string
	if e.Path != "" && e.Path != e.Exe {
		notes = append(notes, "recorded for "+e.Path)
	}
	if e.Learned != "" {
		notes = append(notes, "learned "+e.Learned)
	}
	note := ""
	if len(notes) > 0 {
		note = " (" + strings.Join(notes, ", ") + ")"
	}
	return fmt.Sprintf("executable %s has sha256 %s, profile expects %s%s; pass --allow-digest-mismatch to run it anyway",
		e.Exe, e.Got, e.Want, note)
}

// Is makes every *DigestError match ErrDigestMismatch.
func (e *DigestError) Is(target error) bool { return target == ErrDigestMismatch }

// ReaderSHA256 returns the lowercase hex sha256 of what r yields.
func ReaderSHA256(r io.Reader) (string, error) {
	h := sha256.New()
	if _, err := io.Copy(h, r); err != nil {
		return "", err
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

// ExpectedDigest returns the sha256 recorded in p.Provenance.Executables
// for the executable at exePath. Paths are compared after resolving
// symbolic links on both sides (a recorded path that no longer resolves is
// compared as written); when no path matches, an executable of the same
// base name is used if exactly one such name is recorded. When one path
// was recorded with several digests (profiles merged across upgrades),
// the last one is returned.
func (p *Profile) ExpectedDigest(exePath string) (digest string, ok bool) {
	m := p.matchExecutables(exePath)
	if len(m) == 0 {
		return "", false
	}
	return m[len(m)-1].SHA256, true
}

// matchExecutables returns the recorded executables that exePath is, in
// recorded order: those of the same path, else those of the one recorded
// path with the same base name.
func (p *Profile) matchExecutables(exePath string) []Executable {
	exes := p.Provenance.Executables
	want := resolve(exePath)
	var out []Executable
	for _, e := range exes {
		if e.Path == exePath || resolve(e.Path) == want {
			out = append(out, e)
		}
	}
	if len(out) > 0 {
		return out
	}
	names := map[string]bool{filepath.Base(exePath): true, filepath.Base(want): true}
	paths := map[string]bool{}
	for _, e := range exes {
		if names[filepath.Base(e.Path)] || names[filepath.Base(resolve(e.Path))] {
			out = append(out, e)
			paths[resolve(e.Path)] = true
		}
	}
	if len(paths) != 1 {
		return nil // none, or ambiguous
	}
	return out
}

// resolve returns path absolute with symbolic links resolved, or cleaned
// as written when it cannot be resolved.
func resolve(path string) string {
	if r, err := filepath.EvalSymlinks(path); err == nil {
		path = r
	}
	if a, err := filepath.Abs(path); err == nil {
		return a
	}
	return filepath.Clean(path)
}

// CheckBinaryFile checks that the executable at exePath, already opened
// as f, is the one p was learned with: its sha256 must equal one recorded
// for it (see ExpectedDigest). It returns a *DigestError when it is not,
// and a plain error when f cannot be read. The caller holds the file open,
// so it can tell (by fstat of f) that the file it runs is the file hashed.
func CheckBinaryFile(p *Profile, exePath string, f io.Reader) error {
	got, err := ReaderSHA256(f)
	if err != nil {
		return fmt.Errorf("hash %s: %w", exePath, err)
	}
	m := p.matchExecutables(exePath)
	for _, e := range m {
		if strings.EqualFold(e.SHA256, got) {
			return nil
		}
	}
	de := &DigestError{Exe: exePath, Got: got, Learned: p.learned()}
	if len(m) > 0 {
		last := m[len(m)-1]
		de.Want, de.Path = last.SHA256, last.Path
	} else {
		for _, e := range p.Provenance.Executables {
			de.Recorded = append(de.Recorded, e.Path+" sha256 "+e.SHA256)
		}
	}
	return de
}

// learned says when (and where) the profile's last training run started.
func (p *Profile) learned() string {
	runs := p.Provenance.Runs
	if len(runs) == 0 {
		return ""
	}
	r := runs[len(runs)-1]
	switch {
	case r.Started != "" && r.Host != "":
		return "on " + r.Started + " on host " + r.Host
	case r.Started != "":
		return "on " + r.Started
	case r.Host != "":
		return "on host " + r.Host
	}
	return ""
}
