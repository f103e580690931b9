package cli

import (
	"errors"
	"fmt"
	"os"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/leash-project/leash/learner"
	"github.com/leash-project/leash/learner/trace"
)

// attachFlags are leash learn's flags for attaching to running processes
// (--pid, --cgroup) instead of starting CMD.
type attachFlags struct {
	pid      int
	cgroup   string
	duration time.Duration
	flush    time.Duration
}

func (af *attachFlags) add(f *pflag.FlagSet) {
	f.IntVar(&af.pid, "pid", 0, "attach to the running process `PID`, its threads and descendants (no CMD)")
	f.StringVar(&af.cgroup, "cgroup", "", "attach to every process in the cgroup v2 directory `DIR` and every one that enters it (no CMD)")
	f.DurationVar(&af.duration, "duration", 0, "with --pid/--cgroup: stop recording after this long (default: until SIGINT/SIGTERM, or the tree exits)")
	f.DurationVar(&af.flush, "flush-interval", learner.DefaultFlushInterval, "with --pid/--cgroup: rewrite the profile this often")
}

func (af *attachFlags) active() bool { return af.pid != 0 || af.cgroup != "" }

func (af *attachFlags) checkArgs(c *cobra.Command, args []string) error {
	what := "--pid"
	if af.cgroup != "" {
		what = "--cgroup"
	}
	if len(args) > 0 {
		return usageError("learn: no CMD with %s (it attaches to processes already running)", what)
	}
	for _, name := range []string{"file", "driver", "user", "linger"} {
		if c.Flags().Changed(name) {
			return usageError("learn: --%s does not go with %s", name, what)
		}
	}
	return nil
}

// run attaches and records until the session ends.
func (af *attachFlags) run(c *cobra.Command, output, component string) error {
	if output == "" {
		return usageError("learn: -o PROFILE is required")
	}
	if af.duration < 0 {
		return usageError("learn: --duration must not be negative")
	}
	if af.flush <= 0 {
		return usageError("learn: --flush-interval must be positive")
	}
	if err := learner.CheckTarget(af.pid, af.cgroup); err != nil {
		return usageError("learn: %v", err)
	}
	if err := checkOutputDir(output); err != nil {
		return err
	}
	stderr := c.ErrOrStderr()
	tr, err := openTracer(stderr)
	if err != nil {
		return err
	}
	defer tr.Close()
	cfg := learner.AttachConfig{
		Tracer:        tr,
		Pid:           af.pid,
		Cgroup:        af.cgroup,
		Component:     component,
		Duration:      af.duration,
		FlushInterval: af.flush,
		Output:        output,
		Leash:         Version,
		Warn:          stderr,
		Signals:       true,
		Ready: func() {
			for _, l := range tr.Describe() {
				fmt.Fprintf(stderr, "leash: %s\n", l)
			}
			fmt.Fprintf(stderr, "leash: recording; the profile is written to %s every %s and at the end\n", output, af.flush)
		},
	}
	if f, ok := stderr.(*os.File); ok && learnIsTerminal(f) {
		cfg.Status = f
	}
	_, err = learner.Attach(cfg)
	var te *learner.TargetError
	var pe *learner.ProfileError
	switch {
	case errors.As(err, &te), errors.As(err, &pe):
		return Exit(ExitInput, fmt.Errorf("learn: %w", err))
	case errors.Is(err, trace.ErrEnvironment):
		return Exit(ExitEnvironment, fmt.Errorf("learn: %w", err))
	case err != nil:
		return Exit(ExitFailure, fmt.Errorf("learn: %w", err))
	}
	return nil
}
