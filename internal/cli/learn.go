package cli

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"

	"github.com/spf13/cobra"
	"golang.org/x/sys/unix"

	"github.com/leash-project/leash/learner"
	"github.com/leash-project/leash/learner/trace"
)

func init() { register(10, "learn", newLearnCmd) }

func newLearnCmd() *cobra.Command {
	var (
		output    string
		component string
		userName  string
		linger    time.Duration
		lf        learnFlags  // learn_manifest.go: -f, --driver
		af        attachFlags // learn_attach.go: --pid, --cgroup
	)
	cmd := &cobra.Command{
		Use:   "learn -o PROFILE [--component NAME] [--user USER] [--linger DURATION] -- CMD [ARG...]",
		Short: "Run a command and record the privileges it uses into a profile",
		Long: `leash learn starts CMD and records, with eBPF, every syscall (x86_64 and
i386 apart), capability check and socket family that CMD and all its
descendants use from CMD's own execve on, then writes the profile.

It keeps recording after CMD exits until every process it started has
exited, at most --linger. It exits with CMD's exit status (128+signal when
CMD was killed) and forwards SIGINT, SIGTERM, SIGHUP and SIGQUIT to CMD.
It needs root (CAP_BPF and CAP_PERFMON) and a kernel with BTF.

With -f leash.yaml (no CMD, no -o) it learns a whole system instead: every
top-level component of the manifest starts side by side under its own
leash learn, a component another one spawns runs through
$LEASH_SPAWN_<NAME> (which has this leash learn it into its own profile,
whatever user the spawner runs as), the --driver
shell command runs with $LEASH_COMPONENT_<NAME>_PID set (the pid of the
leash process that supervises the component), then the components get
SIGTERM (SIGKILL after 10s; what a stopped one left in its process group
gets SIGTERM once it has exited) and one profile per component is written to
the manifest's profiles directory, with the manifest's run options and
widenings. It exits with the driver's status (see docs/ci.md).

With --pid PID or --cgroup DIR (no CMD) it attaches to processes already
running, e.g. a systemd service on a staging host: all threads of PID and
its descendants, or every process in the cgroup v2 directory DIR (and
below it), and then every thread and child they start and, for a cgroup,
every process that enters it. It records for --duration or until SIGINT or
SIGTERM (with --pid, at most until the whole tree has exited), and
rewrites the profile atomically every --flush-interval and at the end. An
existing profile at -o is merged into, never replaced: a restarted leash
(even after SIGKILL) keeps everything flushed before. Tracking starts
mid-life, so the profile's run says so (provenance.runs[].incomplete), as
it does for processes that already run under seccomp (syscalls their
filter rejects never reach leash). See docs/ci.md.`,
		Example: `  # One program
  sudo leash learn -o web.yaml -- ./web --port 8080

  # A system of components, exercised by its integration test
  sudo leash learn -f leash.yaml --linger 1s --driver ./integration-test.sh

  # A running process tree, for an hour, flushing every minute
  sudo leash learn -o web.yaml --pid 4242 --duration 1h --flush-interval 1m

  # A systemd service, until ^C (run again later: it merges into web.yaml)
  sudo leash learn -o web.yaml --cgroup /sys/fs/cgroup/system.slice/web.service`,
		Args: func(c *cobra.Command, args []string) error {
			if af.active() {
				return af.checkArgs(c, args)
			}
			if lf.active() {
				return lf.checkArgs(args)
			}
			if len(args) == 0 {
				return usageError("learn: missing CMD (leash learn -o PROFILE -- CMD [ARG...])")
			}
			return nil
		},
		RunE: func(c *cobra.Command, args []string) error {
			if af.active() {
				return af.run(c, output, component)
			}
			if lf.active() {
				return lf.run(c, output, linger)
			}
			if output == "" {
				return usageError("learn: -o PROFILE is required")
			}
			if linger < 0 {
				return usageError("learn: --linger must not be negative")
			}
			stderr := c.ErrOrStderr()
			// Fail before training, not after it: the output must be writable.
			if err := checkOutputDir(output); err != nil {
				return err
			}
			tr, err := openTracer(stderr)
			if err != nil {
				return err
			}
			defer tr.Close()
			cfg := learner.Config{
				Tracer:         tr,
				Command:        args,
				Component:      component,
				User:           userName,
				Linger:         linger,
				Output:         output,
				Leash:          Version,
				Stdin:          c.InOrStdin(),
				Stdout:         c.OutOrStdout(),
				Stderr:         stderr,
				Warn:           stderr,
				ForwardSignals: true,
				Ready: func() {
					for _, l := range tr.Describe() {
						fmt.Fprintf(stderr, "leash: %s\n", l)
					}
				},
			}
			if f, ok := stderr.(*os.File); ok && learnIsTerminal(f) {
				cfg.Status = f
			}
			res, err := learner.Learn(cfg)
			var nf *learner.NotFoundError
			var le *learner.LaunchError
			var ue *learner.UserError
			switch {
			case errors.As(err, &ue):
				return Exit(ExitInput, fmt.Errorf("learn: %w", err))
			case errors.As(err, &nf):
				return Exit(127, fmt.Errorf("learn: %w", err))
			case errors.As(err, &le):
				return Exit(ExitLaunch, fmt.Errorf("learn: %w", err))
			case err != nil:
				return Exit(ExitFailure, fmt.Errorf("learn: %w", err))
			}
			if res.ExitCode != 0 {
				return Exit(res.ExitCode, nil)
			}
			return nil
		},
	}
	f := cmd.Flags()
	f.StringVarP(&output, "output", "o", "", "write the profile to `PROFILE` (atomically)")
	f.StringVar(&component, "component", "", "component `NAME` (default: basename of CMD)")
	f.StringVar(&userName, "user", "", "run CMD as `USER` (name or uid), with its groups")
	f.DurationVar(&linger, "linger", learner.DefaultLinger, "after CMD exits, keep recording its remaining processes this long")
	lf.add(f)
	af.add(f)
	f.SetInterspersed(false)
	return cmd
}

func learnIsTerminal(f *os.File) bool {
	_, err := unix.IoctlGetTermios(int(f.Fd()), unix.TCGETS)
	return err == nil
}

// checkOutputDir fails before training, not after it, when the directory of
// the profile to write is missing or not a directory.
func checkOutputDir(output string) error {
	dir := filepath.Dir(output)
	if st, err := os.Stat(dir); err != nil {
		return usageError("learn: output directory %s: %v", dir, errors.Unwrap(err))
	} else if !st.IsDir() {
		return usageError("learn: output directory %s: not a directory", dir)
	}
	return nil
}

// openTracer loads and attaches the BPF programs and prints the tracer's
// warnings (which hook is in use, fallbacks) on stderr.
func openTracer(stderr io.Writer) (*trace.Tracer, error) {
	tr, err := trace.Open(trace.Options{})
	if err != nil {
		if errors.Is(err, trace.ErrEnvironment) {
			return nil, Exit(ExitEnvironment, fmt.Errorf("learn: %w", err))
		}
		return nil, Exit(ExitEnvironment, fmt.Errorf("learn: start tracer: %w", err))
	}
	for _, w := range tr.Warnings() {
		fmt.Fprintf(stderr, "leash: %s\n", w)
	}
	return tr, nil
}
