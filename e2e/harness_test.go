//go:build linux

package e2e

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"maps"
	"net"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"regexp"
	"runtime"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/leash-project/leash/internal/testutil"
	"github.com/leash-project/leash/linux"
	"github.com/leash-project/leash/profiles"
)

var (
	flagRun   = flag.Bool("e2e", false, "run the end-to-end suite (as LEASH_E2E=1)")
	flagWrite = flag.Bool("e2e.write", false, "write the profile size table to results.md")
	flagKeep  = flag.String("e2e.profiles", "", "copy the profiles used to this folder")
)

// enableEnv runs the suite on a developer machine; CI runs it because it sets
// testutil.RequireEnv.
const enableEnv = "LEASH_E2E"

// binEnv names a leash binary to test instead of building ./cmd/leash.
const binEnv = "LEASH_E2E_BIN"

const (
	// jobTimeout bounds one batch job or one client command.
	jobTimeout = 90 * time.Second
	// serverTimeout bounds a server's start and its stop.
	serverTimeout = 30 * time.Second
)

// jobEnv is the environment of every job, confined or not, so that the two
// differ only by leash. PATH leaves out per-user shims (pyenv and the like):
// the programs under test are Debian's.
var jobEnv = []string{
	"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
	"LC_ALL=C",
	"TZ=UTC",
	"HOME=/nonexistent",
}

var (
	leashBin   string // built by TestMain
	leashErr   error  // why it could not be built
	suiteStart = time.Now()
)

func enabled() bool {
	return *flagRun || os.Getenv(enableEnv) != "" || testutil.Required()
}

func TestMain(m *testing.M) {
	flag.Parse()
	os.Exit(func() int {
		if bin := os.Getenv(binEnv); bin != "" {
			leashBin = bin
		} else if enabled() && os.Geteuid() == 0 {
			dir, err := os.MkdirTemp("", "leash-e2e-bin-")
			if err != nil {
				leashErr = err
			} else {
				defer os.RemoveAll(dir)
				leashBin, leashErr = buildLeash(dir)
			}
		}
		return m.Run()
	}())
}

// buildLeash builds ./cmd/leash of this module into dir.
func buildLeash(dir string) (string, error) {
	out, err := exec.Command("go", "env", "GOMOD").Output()
	if err != nil {
		return "", fmt.Errorf("find module: %w", err)
	}
	gomod := strings.TrimSpace(string(out))
	if gomod == "" || gomod == os.DevNull {
		return "", errors.New("find module: not inside a Go module")
	}
	bin := filepath.Join(dir, "leash")
	cmd := exec.Command("go", "build", "-o", bin, "./cmd/leash")
	cmd.Dir = filepath.Dir(gomod)
	// Built as shipped (Makefile build): static, pure-Go os/user and net.
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("build leash: %w\n%s", err, out)
	}
	return bin, nil
}

// requireSuite skips the test unless the suite is enabled, and fails it
// where the suite is required but cannot run.
func requireSuite(t *testing.T) {
	t.Helper()
	if !enabled() {
		t.Skipf("end-to-end suite: set %s=1 (or %s=1) to run it as root", enableEnv, testutil.RequireEnv)
	}
	testutil.RequireRoot(t)
	if leashErr != nil {
		t.Fatal(leashErr)
	}
}

// requireTools skips (or fails in CI) unless every program is installed.
func requireTools(t *testing.T, names ...string) {
	t.Helper()
	for _, n := range names {
		if _, err := exec.LookPath(n); err != nil {
			testutil.SkipOrFail(t, "%s is not installed (see .ci/packages-e2e)", n)
		}
	}
}

// learnArgv wraps argv in `leash learn`.
func learnArgv(profile, component, usr string, argv []string) []string {
	a := []string{leashBin, "learn", "-o", profile, "--component", component}
	if usr != "" {
		a = append(a, "--user", usr)
	}
	return append(append(a, "--"), argv...)
}

// runArgv wraps argv in `leash run` with the errno default action.
func runArgv(profile string, argv []string) []string {
	a := []string{leashBin, "run", "-p", profile, "--mode", "enforce", "--default-action", "errno", "--"}
	return append(a, argv...)
}

// credential returns the uid/gid of usr for an unconfined job, nil for "".
func credential(t *testing.T, usr string) *syscall.Credential {
	t.Helper()
	if usr == "" {
		return nil
	}
	uid, gid := lookupUser(t, usr)
	return &syscall.Credential{Uid: uid, Gid: gid, Groups: []uint32{}}
}

func lookupUser(t *testing.T, name string) (uid, gid uint32) {
	t.Helper()
	u, err := user.Lookup(name)
	if err != nil {
		testutil.SkipOrFail(t, "user %s: %v", name, err)
	}
	a, _ := strconv.ParseUint(u.Uid, 10, 32)
	b, _ := strconv.ParseUint(u.Gid, 10, 32)
	return uint32(a), uint32(b)
}

// outcome is what a job showed the world.
type outcome struct {
	Exit   int
	Stdout string
	Stderr string
}

// exitStatus maps a Wait error to a shell-style status (128+signal).
func exitStatus(err error) (int, error) {
	if err == nil {
		return 0, nil
	}
	var ee *exec.ExitError
	if !errors.As(err, &ee) {
		return -1, err
	}
	if ws, ok := ee.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
		return 128 + int(ws.Signal()), nil
	}
	return ee.ExitCode(), nil
}

// command prepares argv in its own process group, killed with the group
// when ctx ends and when the test process dies.
func command(ctx context.Context, dir string, cred *syscall.Credential, argv []string) *exec.Cmd {
	cmd := exec.CommandContext(ctx, argv[0], argv[1:]...)
	cmd.Dir = dir
	cmd.Env = jobEnv
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Credential: cred, Pdeathsig: syscall.SIGKILL}
	cmd.Cancel = func() error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) }
	cmd.WaitDelay = 5 * time.Second
	return cmd
}

// runJob runs argv to completion in dir with a bounded wait.
func runJob(t *testing.T, dir string, cred *syscall.Credential, stdin string, argv []string) outcome {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), jobTimeout)
	defer cancel()
	cmd := command(ctx, dir, cred, argv)
	cmd.Stdin = strings.NewReader(stdin)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	if cmd.Process != nil {
		_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) // stragglers
	}
	if ctx.Err() != nil {
		t.Fatalf("%s: timed out after %v\nstderr: %s", shellJoin(argv), jobTimeout, stderr.String())
	}
	code, err := exitStatus(err)
	if err != nil {
		t.Fatalf("%s: %v", shellJoin(argv), err)
	}
	return outcome{Exit: code, Stdout: stdout.String(), Stderr: stderr.String()}
}

// lockedBuffer is a bytes.Buffer safe for a process writing while the
// test reads.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// server is a long-running process started by the test.
type server struct {
	argv           []string
	cmd            *exec.Cmd
	stdout, stderr lockedBuffer
	done           chan struct{}
	waitErr        error
}

// startServer starts argv in dir. It is killed, with its process group and
// anything else still running in dir, when the test ends.
func startServer(t *testing.T, dir string, cred *syscall.Credential, argv []string) *server {
	t.Helper()
	s := &server{argv: argv, done: make(chan struct{})}
	s.cmd = command(context.Background(), dir, cred, argv)
	s.cmd.Stdout, s.cmd.Stderr = &s.stdout, &s.stderr
	if err := s.cmd.Start(); err != nil {
		t.Fatalf("start %s: %v", shellJoin(argv), err)
	}
	go func() {
		s.waitErr = s.cmd.Wait()
		close(s.done)
	}()
	t.Cleanup(func() {
		_ = syscall.Kill(-s.cmd.Process.Pid, syscall.SIGKILL)
		select {
		case <-s.done:
		case <-time.After(serverTimeout):
			t.Errorf("%s: still running after SIGKILL", shellJoin(argv))
		}
		killStragglers(t, dir)
	})
	return s
}

func (s *server) exited() bool {
	select {
	case <-s.done:
		return true
	default:
		return false
	}
}

// wait waits for the server to exit by itself, at most serverTimeout.
func (s *server) wait(t *testing.T) int {
	t.Helper()
	select {
	case <-s.done:
	case <-time.After(serverTimeout):
		_ = syscall.Kill(-s.cmd.Process.Pid, syscall.SIGKILL)
		t.Fatalf("%s: did not exit within %v of being stopped\nstderr: %s", shellJoin(s.argv), serverTimeout, s.stderr.String())
	}
	code, err := exitStatus(s.waitErr)
	if err != nil {
		t.Fatalf("%s: %v", shellJoin(s.argv), err)
	}
	return code
}

// waitPort waits until something accepts on 127.0.0.1:port, failing early
// if the server exits.
func waitPort(t *testing.T, s *server, port int) {
	t.Helper()
	addr := net.JoinHostPort("127.0.0.1", strconv.Itoa(port))
	deadline := time.Now().Add(serverTimeout)
	for time.Now().Before(deadline) {
		if s.exited() {
			code, _ := exitStatus(s.waitErr)
			t.Fatalf("%s: exited with %d before listening on %s\nstdout: %s\nstderr: %s",
				shellJoin(s.argv), code, addr, s.stdout.String(), s.stderr.String())
		}
		c, err := net.DialTimeout("tcp", addr, time.Second)
		if err == nil {
			c.Close()
			return
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatalf("%s: not listening on %s after %v\nstderr: %s", shellJoin(s.argv), addr, serverTimeout, s.stderr.String())
}

// portFree reports whether 127.0.0.1:port can be bound now.
func portFree(port int) bool {
	l, err := net.Listen("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(port)))
	if err != nil {
		return false
	}
	l.Close()
	return true
}

// privilegedPort returns a free port below 1024: 80 when it is free.
func privilegedPort(t *testing.T) int {
	t.Helper()
	for _, p := range append([]int{80}, rangeInts(81, 1023)...) {
		if portFree(p) {
			return p
		}
	}
	t.Fatal("no free privileged port on 127.0.0.1")
	return 0
}

// freePort returns a free unprivileged port on 127.0.0.1.
func freePort(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

func rangeInts(lo, hi int) []int {
	var r []int
	for i := lo; i <= hi; i++ {
		r = append(r, i)
	}
	return r
}

// stragglers lists the processes whose working directory is dir or below
// it: every process a job started there, whatever became of its process
// group.
func stragglers(dir string) []int {
	ents, _ := os.ReadDir("/proc")
	var pids []int
	for _, e := range ents {
		pid, err := strconv.Atoi(e.Name())
		if err != nil || pid == os.Getpid() {
			continue
		}
		cwd, err := os.Readlink(filepath.Join("/proc", e.Name(), "cwd"))
		if err != nil {
			continue
		}
		if cwd == dir || strings.HasPrefix(cwd, dir+"/") {
			pids = append(pids, pid)
		}
	}
	return pids
}

// killStragglers kills what stragglers finds and reports it as a leak.
func killStragglers(t *testing.T, dir string) {
	t.Helper()
	pids := stragglers(dir)
	for _, pid := range pids {
		_ = syscall.Kill(pid, syscall.SIGKILL)
	}
	if len(pids) > 0 {
		t.Errorf("processes left running in %s: %v (killed)", dir, pids)
	}
}

// newBase makes a world-readable scratch folder, removed when the test
// ends: servers that drop privileges must be able to read below it. A
// failed test first logs the profiles it learned there, so that a failure
// seen once in CI shows what the profile held.
func newBase(t *testing.T) string {
	t.Helper()
	dir, err := os.MkdirTemp("", "leash-e2e-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if t.Failed() {
			logProfiles(t, dir)
		}
		os.RemoveAll(dir)
	})
	if err := os.Chmod(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	return dir
}

// logProfiles logs each profile (*.yaml) directly in dir.
func logProfiles(t *testing.T, dir string) {
	names, _ := filepath.Glob(filepath.Join(dir, "*.yaml"))
	for _, name := range names {
		if b, err := os.ReadFile(name); err == nil {
			t.Logf("%s:\n%s", name, b)
		}
	}
}

// fixedTime is the mtime of every input file, so that listings, ETags and
// archives do not depend on when the test ran.
var fixedTime = time.Date(2024, 1, 2, 3, 4, 5, 0, time.UTC)

// copyTree copies testdata folder src into dst with fixed mtimes.
func copyTree(t *testing.T, src, dst string) {
	t.Helper()
	err := filepath.WalkDir(src, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(src, path)
		to := filepath.Join(dst, rel)
		if d.IsDir() {
			return os.MkdirAll(to, 0o755)
		}
		data, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		return os.WriteFile(to, data, 0o644)
	})
	if err != nil {
		t.Fatalf("copy %s: %v", src, err)
	}
}

// fixTimes sets the times of everything below dir, symbolic links
// included, to fixedTime.
func fixTimes(t *testing.T, dir string) {
	t.Helper()
	ts := []unix.Timespec{unix.NsecToTimespec(fixedTime.UnixNano()), unix.NsecToTimespec(fixedTime.UnixNano())}
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		return unix.UtimesNanoAt(unix.AT_FDCWD, path, ts, unix.AT_SYMLINK_NOFOLLOW)
	})
	if err != nil {
		t.Fatalf("set times below %s: %v", dir, err)
	}
}

// chownTree gives dir and everything below it to usr ("" leaves it alone).
func chownTree(t *testing.T, dir, usr string) {
	t.Helper()
	if usr == "" {
		return
	}
	uid, gid := lookupUser(t, usr)
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		return os.Lchown(path, int(uid), int(gid))
	})
	if err != nil {
		t.Fatal(err)
	}
}

// treeDigest describes every entry below dir: type, mode, owner, whether
// its mtime is an input's, size, content hash, link target.
func treeDigest(t *testing.T, dir string) string {
	t.Helper()
	var lines []string
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(dir, path)
		info, err := d.Info()
		if err != nil {
			return err
		}
		st := info.Sys().(*syscall.Stat_t)
		// A time the job set is inherently variable; whether it kept or
		// restored an input's time is not.
		mtime := "job"
		if info.ModTime().Equal(fixedTime) {
			mtime = "input"
		}
		line := fmt.Sprintf("%s %v uid=%d gid=%d mtime=%s", rel, info.Mode(), st.Uid, st.Gid, mtime)
		switch {
		case info.Mode().IsRegular():
			f, err := os.Open(path)
			if err != nil {
				return err
			}
			h := sha256.New()
			_, err = io.Copy(h, f)
			f.Close()
			if err != nil {
				return err
			}
			line += fmt.Sprintf(" size=%d sha256=%s", info.Size(), hex.EncodeToString(h.Sum(nil))[:16])
		case info.Mode()&fs.ModeSymlink != 0:
			target, _ := os.Readlink(path)
			line += " -> " + target
		}
		lines = append(lines, line)
		return nil
	})
	if err != nil {
		t.Fatalf("digest %s: %v", dir, err)
	}
	return strings.Join(lines, "\n")
}

// lineDiff lists the lines only in plain (-) and only in confined (+).
func lineDiff(plain, confined string) string {
	a, c := strings.Split(plain, "\n"), strings.Split(confined, "\n")
	var b strings.Builder
	for _, l := range a {
		if !slices.Contains(c, l) {
			fmt.Fprintf(&b, "- %s (unconfined only)\n", l)
		}
	}
	for _, l := range c {
		if !slices.Contains(a, l) {
			fmt.Fprintf(&b, "+ %s (confined only)\n", l)
		}
	}
	return b.String()
}

// normalizer rewrites what is inherently variable between two runs of the
// same job: the scratch folder's path, and per program timestamps and pids.
type normalizer struct {
	dir   string
	rules []rule
}

type rule struct {
	re   *regexp.Regexp
	repl string
}

func (n normalizer) apply(s string) string {
	if n.dir != "" {
		s = strings.ReplaceAll(s, n.dir, "$WORK")
	}
	for _, r := range n.rules {
		s = r.re.ReplaceAllString(s, r.repl)
	}
	return s
}

func (n normalizer) outcome(o outcome) outcome {
	return outcome{Exit: o.Exit, Stdout: n.apply(o.Stdout), Stderr: n.apply(o.Stderr)}
}

// leashReport matches the lines `leash run` adds to stderr after the
// command ends: its report of the syscalls the filter answered.
var leashReport = regexp.MustCompile(`(?m)^leash: (denied|note): .*\n`)

// splitReport takes leash's report out of a confined run's stderr, so
// that stderr holds the command's own output.
func splitReport(o outcome) (outcome, []string) {
	report := leashReport.FindAllString(o.Stderr, -1)
	o.Stderr = leashReport.ReplaceAllString(o.Stderr, "")
	for i := range report {
		report[i] = strings.TrimSuffix(report[i], "\n")
	}
	return o, report
}

// sameOutcome fails the test where the confined run differs from the
// unconfined one, and reports whether they were the same.
func sameOutcome(t *testing.T, what string, plain, confined outcome) bool {
	t.Helper()
	ok := plain == confined
	if plain.Exit != confined.Exit {
		t.Errorf("%s: exit status %d confined, %d unconfined\nconfined stderr:\n%s", what, confined.Exit, plain.Exit, confined.Stderr)
	}
	if plain.Stdout != confined.Stdout {
		t.Errorf("%s: stdout differs\nconfined:\n%s\nunconfined:\n%s", what, confined.Stdout, plain.Stdout)
	}
	if plain.Stderr != confined.Stderr {
		t.Errorf("%s: stderr differs\nconfined:\n%s\nunconfined:\n%s", what, confined.Stderr, plain.Stderr)
	}
	return ok
}

// mergeProfiles unions the training runs of one component into the first
// profile, as `leash merge` does: syscalls, capability checks, families,
// namespaces and provenance.
func mergeProfiles(t *testing.T, paths []string) *profiles.Profile {
	t.Helper()
	var out *profiles.Profile
	for _, path := range paths {
		p, err := profiles.Load(path)
		if err != nil {
			t.Fatalf("load learned profile: %v", err)
		}
		checkLearned(t, p)
		if out == nil {
			out = p
			continue
		}
		for abi, calls := range p.Syscalls {
			if out.Syscalls == nil {
				out.Syscalls = map[string]map[string]string{}
			}
			if out.Syscalls[abi] == nil {
				out.Syscalls[abi] = map[string]string{}
			}
			for sc, by := range calls {
				if _, ok := out.Syscalls[abi][sc]; !ok {
					out.Syscalls[abi][sc] = by
				}
			}
		}
		mergeCaps(&out.Capabilities.Needed, p.Capabilities.Needed)
		mergeCaps(&out.Capabilities.Noaudit, p.Capabilities.Noaudit)
		mergeCaps(&out.Capabilities.Denied, p.Capabilities.Denied)
		for name, f := range p.Families {
			if out.Families == nil {
				out.Families = map[string]profiles.Family{}
			}
			have := out.Families[name]
			if have.By == "" {
				have.By = f.By
			}
			for _, ty := range f.Types {
				if !slices.Contains(have.Types, ty) {
					have.Types = append(have.Types, ty)
				}
			}
			sort.Strings(have.Types)
			out.Families[name] = have
		}
		for _, ns := range p.Namespaces {
			if !slices.Contains(out.Namespaces, ns) {
				out.Namespaces = append(out.Namespaces, ns)
			}
		}
		sort.Strings(out.Namespaces)
		out.Provenance.Runs = append(out.Provenance.Runs, p.Provenance.Runs...)
		for _, e := range p.Provenance.Executables {
			if !slices.Contains(out.Provenance.Executables, e) {
				out.Provenance.Executables = append(out.Provenance.Executables, e)
			}
		}
	}
	// A capability needed in one run is needed, whatever the others saw.
	for c := range out.Capabilities.Needed {
		delete(out.Capabilities.Noaudit, c)
		delete(out.Capabilities.Denied, c)
	}
	return out
}

// checkLearned fails the test where a learned profile holds something
// done before the command's own execve: `leash learn` records the command
// and its descendants from that execve on, never leash's own stub (which
// the kernel names /proc/self/exe, as leash re-executes itself so).
func checkLearned(t *testing.T, p *profiles.Profile) {
	t.Helper()
	leashy := func(by string) bool {
		return by == "/proc/self/exe" || by == leashBin || filepath.Base(by) == "leash"
	}
	var leaked []string
	for abi, calls := range p.Syscalls {
		for sc, by := range calls {
			if leashy(by) {
				leaked = append(leaked, abi+"/"+sc)
			}
		}
	}
	for group, caps := range map[string]map[string]profiles.CapUse{"needed": p.Capabilities.Needed, "noaudit": p.Capabilities.Noaudit, "denied": p.Capabilities.Denied} {
		for c, u := range caps {
			if leashy(u.By) {
				leaked = append(leaked, group+"/"+c)
			}
		}
	}
	for f, fam := range p.Families {
		if leashy(fam.By) {
			leaked = append(leaked, f)
		}
	}
	for _, e := range p.Provenance.Executables {
		if leashy(e.Path) {
			leaked = append(leaked, "executable "+e.Path)
		}
	}
	if len(leaked) > 0 {
		sort.Strings(leaked)
		t.Errorf("leash learn recorded leash itself (first seen by /proc/self/exe, before the command's execve): %s", strings.Join(leaked, " "))
	}
}

func mergeCaps(dst *map[string]profiles.CapUse, src map[string]profiles.CapUse) {
	for c, u := range src {
		if *dst == nil {
			*dst = map[string]profiles.CapUse{}
		}
		have := (*dst)[c]
		have.Granted += u.Granted
		have.Denied += u.Denied
		if have.By == "" {
			have.By = u.By
		}
		(*dst)[c] = have
	}
}

// saveProfile writes p where `leash run` accepts it: root-owned, 0644.
func saveProfile(t *testing.T, path string, p *profiles.Profile) {
	t.Helper()
	if err := profiles.Save(path, p); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(path, 0o644); err != nil {
		t.Fatal(err)
	}
	if *flagKeep != "" {
		if err := os.MkdirAll(*flagKeep, 0o755); err != nil {
			t.Fatal(err)
		}
		if err := profiles.Save(filepath.Join(*flagKeep, filepath.Base(path)), p); err != nil {
			t.Fatal(err)
		}
	}
}

// row is one program's line in the results table.
type row struct {
	Program  string
	Package  string
	X86      int
	I386     int
	Caps     []string
	Families []string
	Widen    []string
	Jobs     int      // confined jobs that matched their unconfined twin
	Denied   []string // syscalls leash run reported answering in the test job
	Edits    string
}

var (
	resultsMu sync.Mutex
	results   []row
)

func record(r row) {
	resultsMu.Lock()
	defer resultsMu.Unlock()
	results = append(results, r)
}

// rowOf measures a learned profile.
func rowOf(program, pkg string, p *profiles.Profile) row {
	r := row{Program: program, Package: pkg, Widen: p.Widen}
	r.X86 = len(p.Syscalls["x86_64"])
	r.I386 = len(p.Syscalls["i386"])
	r.Caps = slices.Sorted(maps.Keys(p.Capabilities.Needed))
	for f, fam := range p.Families {
		r.Families = append(r.Families, f+"("+strings.Join(fam.Types, ",")+")")
	}
	sort.Strings(r.Families)
	return r
}

// Docker's default seccomp profile, for comparison: moby/moby
// profiles/seccomp/default.json at commit 00f3d189e420, counted with leash's
// own syscall tables: 289 names of its unconditional allow list exist on
// x86_64 (341 on i386), and 8 more are allowed to a container without
// CAP_SYS_ADMIN (ptrace, process_vm_readv/writev on kernels >= 4.8; socket
// but AF_VSOCK; personality with 5 values; arch_prctl; modify_ldt; clone
// without namespace flags). Its 14 default capabilities are those of moby's
// oci/caps/defaults.go (and containerd's oci/spec.go): CHOWN DAC_OVERRIDE
// FSETID FOWNER MKNOD NET_RAW SETGID SETUID SETFCAP SETPCAP NET_BIND_SERVICE
// SYS_CHROOT KILL AUDIT_WRITE.
const (
	dockerX86  = 297
	dockerI386 = 349
	dockerCaps = 14
)

// table renders the results as markdown.
func table(rows []row, wall time.Duration) string {
	var b strings.Builder
	b.WriteString("| program (Debian package) | x86_64 syscalls | i386 syscalls | capabilities needed | socket families | confined jobs identical | answered by the filter |\n")
	b.WriteString("|---|---:|---:|---|---|---:|---|\n")
	for _, r := range rows {
		caps := "0"
		if len(r.Caps) > 0 {
			caps = fmt.Sprintf("%d: %s", len(r.Caps), strings.Join(r.Caps, " "))
		}
		fams := "none"
		if len(r.Families) > 0 {
			fams = strings.Join(r.Families, " ")
		}
		name := fmt.Sprintf("%s (%s)", r.Program, r.Package)
		if len(r.Widen) > 0 {
			name += ", widen: " + strings.Join(r.Widen, ",")
		}
		denied := "none"
		if len(r.Denied) > 0 {
			denied = strings.Join(r.Denied, " ")
		}
		fmt.Fprintf(&b, "| %s | %d | %d | %s | %s | %d | %s |\n", name, r.X86, r.I386, caps, fams, r.Jobs, denied)
	}
	fmt.Fprintf(&b, "| Docker default profile (moby default.json, 14 default caps) | %d | %d | %d | all but AF_VSOCK | | |\n", dockerX86, dockerI386, dockerCaps)
	fmt.Fprintf(&b, "\nSuite wall time: %s on %s, %d CPUs.\n", wall.Round(time.Second), hostDescription(), runtime.NumCPU())
	return b.String()
}

func hostDescription() string {
	var u syscall.Utsname
	kernel := "linux"
	if syscall.Uname(&u) == nil {
		kernel = "Linux " + utsString(u.Release[:])
	}
	return kernel
}

func utsString(a []int8) string {
	var b []byte
	for _, c := range a {
		if c == 0 {
			break
		}
		b = append(b, byte(c))
	}
	return string(b)
}

var reportedSyscall = regexp.MustCompile(`^leash: (?:denied|note): .*: syscall (\S+) \((\S+)\)`)

// noteReport logs leash's report of a confined job and adds the syscalls
// it names to denied.
func noteReport(t *testing.T, what string, report, denied []string) []string {
	t.Helper()
	if len(report) > 0 {
		t.Logf("%s: leash run reported:\n%s", what, strings.Join(report, "\n"))
	}
	for _, line := range report {
		if m := reportedSyscall.FindStringSubmatch(line); m != nil {
			name := m[1]
			if m[2] != "x86_64" {
				name += "/" + m[2]
			}
			if !slices.Contains(denied, name) {
				denied = append(denied, name)
			}
		}
	}
	sort.Strings(denied)
	return denied
}

// readPid reads a pid file.
func readPid(t *testing.T, path string) int {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("pid file: %v", err)
	}
	pid, err := strconv.Atoi(strings.TrimSpace(string(data)))
	if err != nil || pid <= 1 {
		t.Fatalf("pid file %s: %q", path, data)
	}
	return pid
}

// procStatus reads the fields of /proc/PID/status.
func procStatus(t *testing.T, pid int) map[string]string {
	t.Helper()
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		t.Fatalf("status of %d: %v", pid, err)
	}
	m := map[string]string{}
	for _, line := range strings.Split(string(data), "\n") {
		if k, v, ok := strings.Cut(line, ":"); ok {
			m[k] = strings.TrimSpace(v)
		}
	}
	return m
}

// checkConfined checks from outside that process pid runs as `leash run`
// promised: a seccomp filter, no_new_privs, the bounding set cut to the
// profile's needed capabilities, and uid (when not empty).
func checkConfined(t *testing.T, what string, pid int, p *profiles.Profile, uid string) {
	t.Helper()
	st := procStatus(t, pid)
	if st["Seccomp"] != "2" {
		t.Errorf("%s (pid %d): Seccomp %q, want 2 (filter)", what, pid, st["Seccomp"])
	}
	if st["NoNewPrivs"] != "1" {
		t.Errorf("%s (pid %d): NoNewPrivs %q, want 1", what, pid, st["NoNewPrivs"])
	}
	var want uint64
	for c := range p.Capabilities.Needed {
		n, ok := linux.CapNumber(c)
		if !ok {
			t.Fatalf("unknown capability %s", c)
		}
		want |= 1 << n
	}
	if got, err := strconv.ParseUint(st["CapBnd"], 16, 64); err != nil || got != want {
		t.Errorf("%s (pid %d): CapBnd %s, want %016x (%s)", what, pid, st["CapBnd"], want, strings.Join(slices.Sorted(maps.Keys(p.Capabilities.Needed)), " "))
	}
	if uid != "" {
		if f := strings.Fields(st["Uid"]); len(f) == 0 || f[0] != uid {
			t.Errorf("%s (pid %d): Uid %q, want %s", what, pid, st["Uid"], uid)
		}
	}
}

// shellJoin quotes argv for messages.
func shellJoin(argv []string) string {
	q := make([]string, len(argv))
	for i, a := range argv {
		if a == "" || strings.ContainsAny(a, " \t\n'\"$\\*?") {
			q[i] = strconv.Quote(a)
		} else {
			q[i] = a
		}
	}
	return strings.Join(q, " ")
}
