package cli

import (
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/leash-project/leash/internal/testutil"
	"github.com/leash-project/leash/profiles"
)

// learnCopy copies /bin/true into dir and learns it; it returns the
// executable and the profile.
func learnCopy(t *testing.T, dir string) (exe, profile string) {
	t.Helper()
	exe = filepath.Join(dir, "true-copy")
	data, err := os.ReadFile("/bin/true")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(exe, data, 0o755); err != nil {
		t.Fatal(err)
	}
	profile = filepath.Join(dir, "true.yaml")
	if code, _, errOut := leashCLI(t, "learn", "-o", profile, "--", exe); code != 0 {
		t.Fatalf("learn %s: exit %d: %s", exe, code, errOut)
	}
	return exe, profile
}

// TestRunDigest: leash run runs the binary it learned, refuses it once a
// byte is appended (naming the expected digest), runs it again with
// --allow-digest-mismatch, and only notes a hand-written profile.
func TestRunDigest(t *testing.T) {
	testutil.RequireRoot(t)
	dir := t.TempDir()
	exe, profile := learnCopy(t, dir)
	data, _ := os.ReadFile(profile)
	want := ""
	for _, line := range strings.Split(string(data), "\n") {
		if i := strings.Index(line, "sha256: "); i >= 0 {
			want = strings.TrimSpace(line[i+len("sha256: "):])
		}
	}
	if len(want) != 64 {
		t.Fatalf("no sha256 recorded in %s:\n%s", profile, data)
	}
	if code, _, errOut := leashCLI(t, "run", "-p", profile, "--", exe); code != 0 {
		t.Fatalf("run the learned binary: exit %d: %s", code, errOut)
	}
	f, err := os.OpenFile(exe, os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	f.Write([]byte{0})
	f.Close()
	code, _, errOut := leashCLI(t, "run", "-p", profile, "--", exe)
	if code != ExitInput || !strings.Contains(errOut, "expects "+want) {
		t.Fatalf("run a changed binary: exit %d (want %d), stderr lacks the expected digest %s: %s", code, ExitInput, want, errOut)
	}
	if code, _, errOut := leashCLI(t, "run", "--allow-digest-mismatch", "-p", profile, "--", exe); code != 0 || !strings.Contains(errOut, "allowed by --allow-digest-mismatch") {
		t.Fatalf("run with --allow-digest-mismatch: exit %d: %s", code, errOut)
	}

	// A hand-written profile (no provenance.executables) is not checked.
	var kept []string
	skip := false
	for _, line := range strings.Split(string(data), "\n") {
		trimmed := strings.TrimSpace(line)
		indent := len(line) - len(strings.TrimLeft(line, " "))
		switch {
		case trimmed == "executables:":
			skip = true
			continue
		case skip && (indent > 2 || strings.HasPrefix(trimmed, "- ")):
			continue
		}
		skip = false
		kept = append(kept, line)
	}
	hand := filepath.Join(dir, "hand.yaml")
	if err := os.WriteFile(hand, []byte(strings.Join(kept, "\n")), 0o644); err != nil {
		t.Fatal(err)
	}
	if code, _, errOut := leashCLI(t, "run", "-p", hand, "--", exe); code != 0 || !strings.Contains(errOut, "records no executable digests") {
		t.Fatalf("run under a profile without digests: exit %d: %s\nprofile:\n%s", code, errOut, strings.Join(kept, "\n"))
	}
}

// TestRunVerifyKey: --verify-key runs a profile signed with the key and
// refuses an unsigned one, a tampered one and one signed with another key.
func TestRunVerifyKey(t *testing.T) {
	testutil.RequireRoot(t)
	dir := t.TempDir()
	exe, profile := learnCopy(t, dir)
	for _, p := range []string{"team", "other"} {
		if code, _, errOut := leashCLI(t, "keygen", "--out-prefix", filepath.Join(dir, p)); code != 0 {
			t.Fatalf("keygen: exit %d: %s", code, errOut)
		}
	}
	pub := filepath.Join(dir, "team.pub")
	if code, _, errOut := leashCLI(t, "run", "--verify-key", pub, "-p", profile, "--", exe); code != ExitInput || !strings.Contains(errOut, profile+".sig") {
		t.Errorf("unsigned profile: exit %d, want %d naming the missing signature: %s", code, ExitInput, errOut)
	}
	if code, _, errOut := leashCLI(t, "sign", "--key", filepath.Join(dir, "team.key"), profile); code != 0 {
		t.Fatalf("sign: exit %d: %s", code, errOut)
	}
	if code, _, errOut := leashCLI(t, "run", "--verify-key", pub, "-p", profile, "--", exe); code != 0 {
		t.Fatalf("signed profile: exit %d: %s", code, errOut)
	}
	if code, _, errOut := leashCLI(t, "run", "--verify-key", filepath.Join(dir, "other.pub"), "-p", profile, "--", exe); code != ExitInput || !strings.Contains(errOut, "refusing") {
		t.Errorf("wrong key: exit %d, want %d: %s", code, ExitInput, errOut)
	}
	data, _ := os.ReadFile(profile)
	tampered := filepath.Join(dir, "tampered.yaml")
	os.WriteFile(tampered, append(data, "# one more line\n"...), 0o644)
	if code, _, errOut := leashCLI(t, "run", "--verify-key", pub, "--signature", profile+".sig", "-p", tampered, "--", exe); code != ExitInput || !strings.Contains(errOut, "refusing") {
		t.Errorf("tampered profile: exit %d, want %d: %s", code, ExitInput, errOut)
	}
	if code, _, _ := leashCLI(t, "run", "--signature", profile+".sig", "-p", profile, "--", exe); code != ExitInput {
		t.Errorf("--signature without --verify-key: exit %d, want %d", code, ExitInput)
	}
}

// TestReadRunProfile: the owner and mode checks apply to the file that is
// read (one open, then fstat), and what is not a regular file is refused
// rather than read: a FIFO, which a check by path followed by a second
// open would block on, and a directory. It runs without root: the owner
// check is asked for as if leash ran as root.
func TestReadRunProfile(t *testing.T) {
	dir := t.TempDir()
	good := filepath.Join(dir, "good.yaml")
	if err := os.WriteFile(good, []byte("apiVersion: leash/v1\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	loose := filepath.Join(dir, "loose.yaml")
	if err := os.WriteFile(loose, []byte("apiVersion: leash/v1\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(loose, 0o666); err != nil { // past the umask
		t.Fatal(err)
	}
	link := filepath.Join(dir, "link.yaml")
	if err := os.Symlink(loose, link); err != nil {
		t.Fatal(err)
	}
	fifo := filepath.Join(dir, "fifo.yaml")
	if err := syscall.Mkfifo(fifo, 0o644); err != nil {
		t.Fatal(err)
	}
	me := os.Geteuid()
	tests := []struct {
		name string
		path string
		euid int
		want string // "" for success
	}{
		{"own file", good, me, ""},
		{"group and world writable", loose, me, "writable by group or others (mode 0666)"},
		{"symlink to a writable file", link, me, "writable by group or others (mode 0666)"},
		{"fifo", fifo, me, "not a regular file"},
		{"directory", dir, me, "not a regular file"},
		{"missing", filepath.Join(dir, "none.yaml"), me, "no such file"},
	}
	// Someone else's file, checked as if leash ran as root: as root, a
	// file given to nobody; otherwise the caller's own file.
	theirs, asRoot := good, 0
	if me == 0 {
		theirs = filepath.Join(dir, "theirs.yaml")
		if err := os.WriteFile(theirs, []byte("apiVersion: leash/v1\n"), 0o644); err != nil {
			t.Fatal(err)
		}
		if err := os.Chown(theirs, 65534, 65534); err != nil {
			t.Fatal(err)
		}
	}
	tests = append(tests, struct {
		name string
		path string
		euid int
		want string
	}{"not root's while running as root", theirs, asRoot, "owned by uid"})
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			done := make(chan struct{})
			var data []byte
			var err error
			go func() {
				defer close(done)
				data, err = readRunProfile(tt.path, tt.euid)
			}()
			select {
			case <-done:
			case <-time.After(10 * time.Second):
				t.Fatalf("readRunProfile(%s) blocked", tt.path)
			}
			if tt.want == "" {
				if err != nil || !strings.HasPrefix(string(data), "apiVersion") {
					t.Fatalf("readRunProfile: %q, %v; want the file", data, err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("readRunProfile: %v; want an error with %q", err, tt.want)
			}
		})
	}
}

// TestRunDigestUsesTargetPath: the digest is checked on the file leash
// executes, found with the target's PATH (run.env), not on the one the
// launcher's own PATH finds. The profile is learned from a copy of
// /bin/true in one directory, and its PATH names another, where a file of
// that name is a copy of /bin/false.
func TestRunDigestUsesTargetPath(t *testing.T) {
	testutil.RequireRoot(t)
	dirA, dirB := t.TempDir(), t.TempDir()
	_, profile := learnCopy(t, dirA)
	impostor := filepath.Join(dirB, "true-copy")
	copyFile(t, "/bin/false", impostor)
	if err := os.Chmod(impostor, 0o755); err != nil {
		t.Fatal(err)
	}
	p, err := profiles.Load(profile)
	if err != nil {
		t.Fatal(err)
	}
	p.Run.Env = append(p.Run.Env, "PATH="+dirB)
	if err := profiles.Save(profile, p); err != nil {
		t.Fatal(err)
	}
	t.Setenv("PATH", dirA+":"+os.Getenv("PATH"))
	code, _, errOut := leashCLI(t, "run", "-p", profile, "--", "true-copy")
	if code != ExitInput || !strings.Contains(errOut, "refusing to run") || !strings.Contains(errOut, impostor) {
		t.Fatalf("exit %d, stderr %q; want %d and a refusal naming %s", code, errOut, ExitInput, impostor)
	}
	// Control: with the learned directory first in the target's PATH too,
	// the same command runs.
	p.Run.Env[len(p.Run.Env)-1] = "PATH=" + dirA
	if err := profiles.Save(profile, p); err != nil {
		t.Fatal(err)
	}
	if code, _, errOut := leashCLI(t, "run", "-p", profile, "--", "true-copy"); code != 0 {
		t.Fatalf("control: exit %d, stderr %q; want 0", code, errOut)
	}
}

// TestRunWarnsWritableExecutable: a learned executable someone other than
// root can write runs, with a warning that its sha256 check cannot hold
// its writer; a root-owned one runs without.
func TestRunWarnsWritableExecutable(t *testing.T) {
	testutil.RequireRoot(t)
	dir := t.TempDir()
	exe, profile := learnCopy(t, dir)
	const warning = "is writable by uid 65534"
	if code, _, errOut := leashCLI(t, "run", "-p", profile, "--", exe); code != 0 || strings.Contains(errOut, "writable by") {
		t.Fatalf("root's executable: exit %d, stderr %q; want 0 and no warning", code, errOut)
	}
	if err := os.Chown(exe, 65534, 65534); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(exe, 0o755); err != nil { // chown cleared nothing here, but be explicit
		t.Fatal(err)
	}
	// chown changed the ctime, not the content: the digest still matches.
	if code, _, errOut := leashCLI(t, "run", "-p", profile, "--", exe); code != 0 || !strings.Contains(errOut, warning) {
		t.Fatalf("nobody's executable: exit %d, stderr %q; want 0 and %q", code, errOut, warning)
	}
}
