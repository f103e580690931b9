package learner

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sync"
	"time"

	"golang.org/x/sys/unix"

	"github.com/leash-project/leash/learner/trace"
	"github.com/leash-project/leash/profiles"
)

// exeHasher hashes the executables a session ran, and records a digest
// only for the file that ran: the exec hook read each file's identity
// (device, inode, ctime) at the exec, and the file opened here must still
// have it, before and after it is read. A file replaced or changed since
// gets no digest (leash run would otherwise trust another program's hash
// for that path), and neither does one removed since; both make the run
// incomplete. A digest, once taken, belongs to that identity for good
// (an inode's content cannot change without its ctime moving), so it is
// cached: launch mode hashes as it drains the exec table during the run,
// while the file is most likely still there, and attach mode's flushes
// do not reread binaries. A file of unknown identity (an interpreted
// exec: the hook saw the interpreter's file) is hashed by path, and its
// digest cached for as long as the path's size and mtime stay the same.
type exeHasher struct {
	mu     sync.Mutex
	cache  map[trace.ExeFile]string
	byPath map[string]pathDigest // files of unknown identity
}

type pathDigest struct {
	size  int64
	mtime time.Time
	sum   string
}

func newExeHasher() *exeHasher {
	return &exeHasher{cache: map[trace.ExeFile]string{}, byPath: map[string]pathDigest{}}
}

// HashExecutables hashes files once, as a learning run does at its end
// (see exeHasher): the digests of the files that ran, notes on those not
// hashed, and the run's incompleteness for those changed or gone.
func HashExecutables(files []trace.ExeFile) (exes []profiles.Executable, notes, incomplete []string) {
	return newExeHasher().hashAll(files)
}

// exeProblem is why an executable has no digest.
type exeProblem struct {
	msg        string
	incomplete bool // the file changed or went away: the run is incomplete
}

// early hashes the files of known identity not hashed yet, and ignores
// problems: hashAll reports them at the end.
func (h *exeHasher) early(files []trace.ExeFile) {
	for _, f := range files {
		if !f.ID.Known() {
			continue
		}
		h.mu.Lock()
		_, done := h.cache[f]
		h.mu.Unlock()
		if done {
			continue
		}
		if sum, p := hashExeFile(f); p == nil {
			h.mu.Lock()
			h.cache[f] = sum
			h.mu.Unlock()
		}
	}
}

// hashAll returns the digests of files, notes on files not hashed for
// reasons that do not touch the recording (unreadable, relative path),
// and the run's incompleteness for files that changed or went away.
func (h *exeHasher) hashAll(files []trace.ExeFile) (exes []profiles.Executable, notes, incomplete []string) {
	told := map[string]bool{}
	for _, f := range files {
		sum, ok, st := h.cached(f)
		if !ok {
			var p *exeProblem
			sum, p = hashExeFile(f)
			if p != nil {
				if told[p.msg] {
					continue
				}
				told[p.msg] = true
				if p.incomplete {
					incomplete = append(incomplete, p.msg)
				} else {
					notes = append(notes, p.msg)
				}
				continue
			}
			h.mu.Lock()
			switch {
			case f.ID.Known():
				h.cache[f] = sum
			case st != nil:
				h.byPath[f.Path] = pathDigest{size: st.Size(), mtime: st.ModTime(), sum: sum}
			}
			h.mu.Unlock()
		}
		exes = append(exes, profiles.Executable{Path: f.Path, SHA256: sum})
	}
	return exes, notes, incomplete
}

// cached returns f's digest if it is known already. For a file of unknown
// identity it also returns the path's stat, taken before any hashing, to
// key the digest about to be taken (nil when the path cannot be stat'd).
func (h *exeHasher) cached(f trace.ExeFile) (string, bool, os.FileInfo) {
	if f.ID.Known() {
		h.mu.Lock()
		defer h.mu.Unlock()
		sum, ok := h.cache[f]
		return sum, ok, nil
	}
	st, err := os.Stat(f.Path)
	if err != nil {
		return "", false, nil
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	if d, ok := h.byPath[f.Path]; ok && d.size == st.Size() && d.mtime.Equal(st.ModTime()) {
		return d.sum, true, st
	}
	return "", false, st
}

// hashExeFile hashes f.Path if it is still the file that ran (f.ID; an
// unknown identity, of an interpreted exec, is not checked).
func hashExeFile(f trace.ExeFile) (string, *exeProblem) {
	if !filepath.IsAbs(f.Path) {
		return "", &exeProblem{msg: fmt.Sprintf("executable %s not hashed: exec'd by a relative path that could not be resolved", f.Path)}
	}
	changed := &exeProblem{msg: fmt.Sprintf("executable %s changed or was replaced after it ran: no digest", f.Path), incomplete: true}
	file, err := os.Open(f.Path)
	if err != nil {
		if f.ID.Known() && errors.Is(err, fs.ErrNotExist) {
			return "", &exeProblem{msg: fmt.Sprintf("executable %s was removed after it ran: no digest", f.Path), incomplete: true}
		}
		return "", &exeProblem{msg: fmt.Sprintf("executable %s not hashed: %v", f.Path, err)}
	}
	defer file.Close()
	same := func() (bool, error) {
		var st unix.Stat_t
		if err := unix.Fstat(int(file.Fd()), &st); err != nil {
			return false, err
		}
		return trace.StatID(&st) == f.ID, nil
	}
	if f.ID.Known() {
		if ok, err := same(); err != nil {
			return "", &exeProblem{msg: fmt.Sprintf("executable %s not hashed: %v", f.Path, err)}
		} else if !ok {
			return "", changed
		}
	}
	sum, err := profiles.ReaderSHA256(file)
	if err != nil {
		return "", &exeProblem{msg: fmt.Sprintf("executable %s not hashed: %v", f.Path, err)}
	}
	if f.ID.Known() {
		// Written while it was read: the digest is of neither version.
		if ok, err := same(); err != nil || !ok {
			return "", changed
		}
	}
	return sum, nil
}
