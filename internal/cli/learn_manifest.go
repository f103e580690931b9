package cli

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
	"golang.org/x/sys/unix"

	"github.com/leash-project/leash/manifest"
	"github.com/leash-project/leash/profiles"
)

// stopGrace bounds how long a stopped component may take to exit after
// SIGTERM before it gets SIGKILL.
const stopGrace = 10 * time.Second

// drainGrace bounds how long a component's output is still read after it
// exited: a descendant it left behind may hold its standard output open
// for as long as it runs.
const drainGrace = time.Second

// loadManifest loads a manifest, mapping its errors to exit codes.
func loadManifest(path string) (*manifest.Manifest, error) {
	m, err := manifest.Load(path)
	if err != nil {
		return nil, Exit(ExitInput, err)
	}
	return m, nil
}

// leashPath is leash's own executable, for the children it starts.
func leashPath() (string, error) {
	p, err := os.Executable()
	if err != nil {
		return "", fmt.Errorf("find leash's own executable: %w", err)
	}
	return p, nil
}

// shellQuote quotes s for /bin/sh.
func shellQuote(s string) string { return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'" }

// writeSpawnWrappers writes, for every component another one spawns, a
// script in dir that runs its arguments as that component, with prefix
// (leash's own command line, ending in "--") in front, and returns the
// environment that names them ($LEASH_SPAWN_<NAME>).
func writeSpawnWrappers(m *manifest.Manifest, dir string, prefix func(c manifest.Component) []string) ([]string, error) {
	var env []string
	for _, c := range m.Components {
		if c.SpawnedBy == "" {
			continue
		}
		script := filepath.Join(dir, "spawn-"+c.Name)
		var q []string
		for _, a := range prefix(c) {
			q = append(q, shellQuote(a))
		}
		body := "#!/bin/sh\n# leash: run the arguments as component " + c.Name + "\nexec " + strings.Join(q, " ") + ` "$@"` + "\n"
		if err := os.WriteFile(script, []byte(body), 0o755); err != nil {
			return nil, fmt.Errorf("write spawn wrapper: %w", err)
		}
		env = append(env, manifest.SpawnEnv(c.Name)+"="+script)
	}
	return env, nil
}

// prefixCopy copies r to w line by line, each line prefixed "name | ".
func prefixCopy(w io.Writer, mu *sync.Mutex, name string, r io.Reader) {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		mu.Lock()
		fmt.Fprintf(w, "%s | %s\n", name, sc.Text())
		mu.Unlock()
	}
}

// child is one supervised process (a leash learn or leash run of a
// component).
type child struct {
	name string
	cmd  *exec.Cmd
	// done closes when the process exited and was reaped (code is set):
	// the component has exited, whoever still holds its output.
	done chan struct{}
	code int
	// drained closes when its output was copied to the end, or for
	// drainGrace after it exited, whichever comes first.
	drained  chan struct{}
	stopping atomic.Bool // stopChildrenBy is stopping it
}

// startChild starts argv as component name, its output prefixed.
func startChild(name string, argv, env []string, dir string, stdout, stderr io.Writer, mu *sync.Mutex, exited chan<- *child) (*child, error) {
	ch := &child{name: name, done: make(chan struct{}), drained: make(chan struct{})}
	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.Env, cmd.Dir = env, dir
	cmd.Args[0] = "leash"
	// Pipes of our own, not os/exec's: its Wait returns only once the
	// output is closed (or after WaitDelay), so a component whose
	// leftover descendant holds it would be seen exiting late. With
	// *os.File outputs Wait returns when the process exits, and the
	// output is drained apart, for at most drainGrace more.
	outR, outW, err := os.Pipe()
	if err != nil {
		return nil, fmt.Errorf("start component %s: %w", name, err)
	}
	errR, errW, err := os.Pipe()
	if err != nil {
		outR.Close()
		outW.Close()
		return nil, fmt.Errorf("start component %s: %w", name, err)
	}
	cmd.Stdout, cmd.Stderr = outW, errW
	// Its own process group: a terminal's ^C reaches leash, which
	// forwards it once, rather than every process at the same time.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	err = cmd.Start()
	outW.Close()
	errW.Close()
	if err != nil {
		outR.Close()
		errR.Close()
		return nil, fmt.Errorf("start component %s: %w", name, err)
	}
	ch.cmd = cmd
	var copiers sync.WaitGroup
	copiers.Add(2)
	go func() { defer copiers.Done(); prefixCopy(stdout, mu, name, outR) }()
	go func() { defer copiers.Done(); prefixCopy(stderr, mu, name, errR) }()
	go func() {
		pid := cmd.Process.Pid
		// Exited, not reaped yet (WNOWAIT): the id of its process group
		// cannot be reused until it is. A component leash stopped gets
		// what it left in its group stopped too: leash learn's CMD runs
		// in leash learn's group, and a shell stopped by SIGTERM would
		// leave the command it waited for running. (leash run's target
		// leads a group of its own, which leash run signals itself.)
		var info unix.Siginfo
		for {
			err := unix.Waitid(unix.P_PID, pid, &info, unix.WEXITED|unix.WNOWAIT, nil)
			if err != syscall.EINTR {
				break
			}
		}
		if ch.stopping.Load() {
			syscall.Kill(-pid, syscall.SIGTERM)
		}
		ch.code = exitStatusOf(cmd.Wait())
		close(ch.done)
		if exited != nil {
			exited <- ch
		}
		// Read what is left, for drainGrace at most: the read ends then
		// close, and a leftover writing on gets EPIPE.
		deadline := time.Now().Add(drainGrace)
		outR.SetReadDeadline(deadline)
		errR.SetReadDeadline(deadline)
		copiers.Wait()
		outR.Close()
		errR.Close()
		close(ch.drained)
	}()
	return ch, nil
}

func exitStatusOf(err error) int {
	if err == nil {
		return 0
	}
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		if ws, ok := ee.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
			return 128 + int(ws.Signal())
		}
		return ee.ExitCode()
	}
	return ExitFailure
}

// stopChildren stops every child still running: SIGTERM, then SIGKILL to
// those left after stopGrace.
func stopChildren(children []*child) {
	stopChildrenBy(children, syscall.SIGTERM, time.Now().Add(stopGrace))
}

// stopChildrenBy sends sig (0: none, they got one already) to every
// child still running, SIGKILL to those still running at deadline, and
// waits for them to exit and for their output (drainGrace at most after
// each exit).
func stopChildrenBy(children []*child, sig syscall.Signal, deadline time.Time) {
	for _, ch := range children {
		ch.stopping.Store(true)
		if sig != 0 {
			ch.signal(sig)
		}
	}
	grace := time.NewTimer(time.Until(deadline))
	defer grace.Stop()
	for _, ch := range children {
		select {
		case <-ch.done:
		case <-grace.C:
			killChildren(children)
			<-ch.done
		}
	}
	for _, ch := range children {
		<-ch.drained
	}
}

// killChildren sends SIGKILL to every child still running.
func killChildren(children []*child) {
	for _, ch := range children {
		ch.signal(syscall.SIGKILL)
	}
}

// signal sends sig to the child unless it has exited.
func (ch *child) signal(sig os.Signal) {
	select {
	case <-ch.done:
	default:
		ch.cmd.Process.Signal(sig)
	}
}

// learnManifest is leash learn -f: every top-level component learned by
// its own leash learn child, side by side; components spawned by another
// through $LEASH_SPAWN_<NAME>, which runs leash learn for them; the driver
// run; the components stopped; one profile per component written.
func learnManifest(stdout, stderr io.Writer, file, driver, profilesDir string, linger time.Duration) error {
	m, err := loadManifest(file)
	if err != nil {
		return err
	}
	if profilesDir != "" {
		// CI learns next to the committed profiles, to merge and diff.
		if m.Profiles, err = filepath.Abs(profilesDir); err != nil {
			return Exit(ExitInput, fmt.Errorf("learn: --profiles %s: %w", profilesDir, err))
		}
	}
	status, err := learnSystem(stdout, stderr, m, driver, linger)
	if err != nil {
		return err
	}
	if status != 0 {
		return Exit(status, nil)
	}
	return nil
}

// learnSystem learns every component of m into m.Profiles and returns the
// driver's status (ExitFailure when a component got no profile); err is
// an *ExitError for what stopped it.
func learnSystem(stdout, stderr io.Writer, m *manifest.Manifest, driver string, linger time.Duration) (int, error) {
	if err := os.MkdirAll(m.Profiles, 0o755); err != nil {
		return 0, Exit(ExitInput, fmt.Errorf("learn: create profiles directory: %w", err))
	}
	self, err := leashPath()
	if err != nil {
		return 0, Exit(ExitFailure, err)
	}
	tmp, err := os.MkdirTemp("", "leash-learn-")
	if err != nil {
		return 0, Exit(ExitFailure, fmt.Errorf("learn: create temporary directory: %w", err))
	}
	defer os.RemoveAll(tmp)
	os.Chmod(tmp, 0o755) // components running as other users write their fragments through leash (root)

	learnArgv := func(c manifest.Component, out string) []string {
		a := []string{self, "learn", "--component", c.Name, "--linger", linger.String(), "-o", out}
		if c.User != "" {
			a = append(a, "--user", c.User)
		}
		return append(a, "--")
	}
	// Spawned components start through a stub that has this leash track
	// them in a session of their own (learn_spawn.go).
	var spawner *spawnLearner
	if len(m.TopLevel()) < len(m.Components) {
		if spawner, err = startSpawnLearner(m, tmp, stderr); err != nil {
			return 0, Exit(ExitEnvironment, fmt.Errorf("learn: %w", err))
		}
		defer spawner.close()
	}
	sock := filepath.Join(tmp, "spawn.sock")
	spawnEnv, err := writeSpawnWrappers(m, tmp, func(c manifest.Component) []string {
		return []string{self, "spawn-stub", sock, c.Name, "--"}
	})
	if err != nil {
		return 0, Exit(ExitFailure, fmt.Errorf("learn: %w", err))
	}

	// Learning runs each component as its user, but not yet in the
	// namespaces and mounts its run: options give it under leash up: say
	// so, since what it touches there (a private /tmp, a read-only /usr)
	// can differ.
	for _, c := range m.Components {
		if r := c.Run; len(r.Namespaces) > 0 || r.PrivateTmp || r.ProtectSystem != "" || r.ProtectHome {
			fmt.Fprintf(stderr, "leash: note: learn: %s is learned outside the namespaces and mounts of its run: options; try its profile under them with leash run -p PROFILE --mode complain before enforcing\n", c.Name)
		}
	}

	sigs := make(chan os.Signal, 4)
	signal.Notify(sigs, syscall.SIGINT, syscall.SIGTERM, syscall.SIGHUP)
	defer signal.Stop(sigs)

	var mu sync.Mutex
	base := append(os.Environ(), spawnEnv...)
	var children []*child
	exited := make(chan *child, len(m.Components))
	for _, c := range m.TopLevel() {
		env := append(append([]string(nil), base...), c.Env...)
		ch, err := startChild(c.Name, append(learnArgv(c, filepath.Join(tmp, c.Name+".top.yaml")), c.Command...), env, c.Dir, stdout, filterHints(stderr, c), &mu, exited)
		if err != nil {
			stopChildren(children)
			return 0, Exit(ExitLaunch, fmt.Errorf("learn: %w", err))
		}
		children = append(children, ch)
		base = append(base, manifest.PIDEnv(c.Name)+"="+strconv.Itoa(ch.cmd.Process.Pid))
	}

	status := 0
	if driver != "" {
		d := exec.Command("/bin/sh", "-c", driver)
		d.Env = base
		d.Stdin, d.Stdout, d.Stderr = os.Stdin, stdout, stderr
		if err := d.Start(); err != nil {
			stopChildren(children)
			return 0, Exit(ExitLaunch, fmt.Errorf("learn: start driver: %w", err))
		}
		dd := make(chan error, 1)
		go func() { dd <- d.Wait() }()
	wait:
		for {
			select {
			case err := <-dd:
				status = exitStatusOf(err)
				break wait
			case s := <-sigs:
				d.Process.Signal(s)
			}
		}
	} else {
		// No driver: learn until every component exits or a signal.
		left := len(children)
		for left > 0 {
			select {
			case <-exited:
				left--
			case <-sigs:
				left = 0
			}
		}
	}
	stopChildren(children)
	if spawner != nil {
		spawner.finish(tmp, linger)
	}

	var failed []string
	for _, c := range m.Components {
		frags, _ := filepath.Glob(filepath.Join(tmp, c.Name+".*.yaml"))
		sort.Strings(frags)
		var ps []*profiles.Profile
		for _, f := range frags {
			p, err := profiles.Load(f)
			if err != nil {
				fmt.Fprintf(stderr, "leash: learn: component %s: %v\n", c.Name, err)
				continue
			}
			ps = append(ps, p)
		}
		if len(ps) == 0 {
			failed = append(failed, c.Name)
			continue
		}
		p, err := profiles.MergeWith(profiles.MergeOptions{Component: c.Name}, ps...)
		if err != nil {
			return 0, Exit(ExitFailure, fmt.Errorf("learn: component %s: %w", c.Name, err))
		}
		scrubWrappers(p, tmp)
		p.Component = c.Name
		p.Run = c.Run
		p.Widen = append(p.Widen, c.Widen...)
		p.Normalize()
		if err := profiles.Save(m.ProfilePath(c), p); err != nil {
			return 0, Exit(ExitFailure, fmt.Errorf("learn: %w", err))
		}
		fmt.Fprintf(stderr, "leash: learn: wrote %s (%d run(s))\n", m.ProfilePath(c), len(ps))
	}
	if len(failed) > 0 {
		fmt.Fprintf(stderr, "leash: learn: no profile for %s: it did not start or its learning failed (see its output above; a spawned component starts only through $LEASH_SPAWN_<NAME>)\n",
			strings.Join(failed, ", "))
		if status == 0 {
			status = ExitFailure
		}
	}
	return status, nil
}

// scrubWrappers takes leash's own spawn wrappers (tmp/spawn-NAME, a
// /bin/sh script whose path is new in every run) out of a profile: their
// executables entry goes, and what they did is attributed to /bin/sh, the
// interpreter that ran them. Otherwise every learn would record a new
// executable, and leash diff in CI would report it as a new grant.
func scrubWrappers(p *profiles.Profile, tmp string) {
	ours := func(path string) bool { return strings.HasPrefix(path, tmp+"/") }
	fix := func(by string) string {
		if ours(by) {
			return "/bin/sh"
		}
		return by
	}
	for _, abi := range p.Syscalls {
		for sc, by := range abi {
			abi[sc] = fix(by)
		}
	}
	for _, set := range []map[string]profiles.CapUse{p.Capabilities.Needed, p.Capabilities.Noaudit, p.Capabilities.Denied} {
		for name, u := range set {
			u.By = fix(u.By)
			set[name] = u
		}
	}
	for name, f := range p.Families {
		f.By = fix(f.By)
		p.Families[name] = f
	}
	exes := p.Provenance.Executables[:0]
	for _, e := range p.Provenance.Executables {
		if !ours(e.Path) {
			exes = append(exes, e)
		}
	}
	p.Provenance.Executables = exes
}

// goRuntimeHint is the line leash learn prints for a Go program.
const goRuntimeHint = "consider adding the go-runtime widening"

// filterHints drops, from a component's leash learn output, the hint to
// add the go-runtime widening when the manifest already widens it.
func filterHints(w io.Writer, c manifest.Component) io.Writer {
	if !slices.Contains(c.Widen, "go-runtime") {
		return w
	}
	return &lineFilter{w: w, drop: func(line string) bool {
		return strings.HasPrefix(line, "leash: ") && strings.Contains(line, goRuntimeHint)
	}}
}

// lineFilter passes whole lines (prefixCopy writes one per call) except
// those drop matches.
type lineFilter struct {
	w    io.Writer
	drop func(string) bool
}

func (f *lineFilter) Write(p []byte) (int, error) {
	// prefixCopy writes "NAME | line\n".
	line := string(p)
	if _, rest, ok := strings.Cut(line, " | "); ok && f.drop(rest) {
		return len(p), nil
	}
	return f.w.Write(p)
}

// learnFlags are leash learn's flags for a manifest (-f).
type learnFlags struct {
	file, driver, profiles string
}

func (lf *learnFlags) add(f *pflag.FlagSet) {
	f.StringVarP(&lf.file, "file", "f", "", "learn every component of the manifest `leash.yaml` (one profile each)")
	f.StringVar(&lf.driver, "driver", "", "with -f: run the shell command `CMD` to exercise the system, then stop it")
	f.StringVar(&lf.profiles, "profiles", "", "with -f: write the profiles to `DIR` instead of the manifest's profiles: directory (CI: learn beside the committed ones)")
}

// active: the manifest flags decide (-f, or --driver or --profiles
// without it, which checkArgs refuses).
func (lf *learnFlags) active() bool { return lf.file != "" || lf.driver != "" || lf.profiles != "" }

func (lf *learnFlags) checkArgs(args []string) error {
	if lf.file == "" {
		return usageError("learn: --driver and --profiles go with -f leash.yaml")
	}
	if len(args) > 0 {
		return usageError("learn: no CMD with -f (the manifest names the commands)")
	}
	return nil
}

func (lf *learnFlags) run(c *cobra.Command, output string, linger time.Duration) error {
	if output != "" {
		return usageError("learn: -o does not go with -f (the manifest's profiles: directory is written)")
	}
	if linger < 0 {
		return usageError("learn: --linger must not be negative")
	}
	return learnManifest(c.OutOrStdout(), c.ErrOrStderr(), lf.file, lf.driver, lf.profiles, linger)
}
