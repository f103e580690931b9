package cli

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"syscall"
	"time"

	"github.com/spf13/cobra"

	"github.com/leash-project/leash/internal/atomicfile"
	"github.com/leash-project/leash/internal/launch"
	"github.com/leash-project/leash/profiles"
	"github.com/leash-project/leash/seccomp"
)

func init() { register(60, "run", newRunCmd) }

func newRunCmd() *cobra.Command {
	var (
		profilePath   string
		component     string
		mode          string
		defaultAction string
		denialsJSON   string
		report        string
		keepFDs       []int
		noNewSession  bool
		allowDigest   bool
		verifyKey     string
		signature     string
	)
	cmd := &cobra.Command{
		Use:   "run -p PROFILE [flags] -- CMD [ARG...]",
		Short: "Run a command confined to its profile",
		Long: `leash run starts CMD with exactly the privileges in PROFILE: the namespaces
of run.namespaces (pid, ipc, uts, mnt, net), a private /tmp and read-only
system paths as run.privateTmp, run.protectSystem and run.protectHome say,
a /dev with the pseudo devices only and read-only kernel tunables
(/proc/sys, /sys) unless run.privateDevices or run.protectKernelTunables
is false, the uid and gid of run.user and run.group with no supplementary
groups, a capability bounding set reduced to capabilities.needed (kept
across exec as ambient capabilities for a non-root user), no_new_privs,
and last the seccomp filter of leash filter, installed on the exec'ing
thread just before execve.

leash forwards SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGUSR1 and SIGUSR2 to
CMD's whole process group (CMD leads one in its new session), so the
children of a shell stop with it; with --no-new-session to CMD alone.
With a PID namespace leash stays as the namespace's init, with CMD's
credentials, a filter of its own and no descriptors: it reaps orphans,
passes the signals on, and exits with CMD's status (128+N when signal N
killed it); when it exits the kernel kills what is left in the
namespace. leash exits 126 when CMD could not be executed, 127 when it was not found, 125 when
the confinement could not be set up, and 2 for a bad profile.

In enforce mode every syscall the filter denied is reported at exit
(component, syscall, executable, count) from the kernel's seccomp audit
records; reading them needs root. In complain mode nothing is denied:
syscalls outside the profile are only logged, the capability bounding set
is left whole, and at exit leash lists what enforce mode would have
denied; --report writes those syscalls as a profile fragment for
leash merge. Capabilities and address families beyond the profile cannot
be seen this way.

The profile must not be writable by group or others, and must be owned by
root when leash runs as root (as sudo requires of sudoers).

CMD must be an executable the profile was learned with: leash run refuses
(exit 2) a CMD whose sha256 differs from the one recorded in
provenance.executables and names the digest it expected. It hashes the
file it will execute (found with CMD's own PATH, run.env), and CMD
refuses (exit 126), just before its execve, a file put in its place
since;
--allow-digest-mismatch runs it anyway. A profile that records no
executables (written by hand) is not checked, with a note. With
--verify-key PUB, leash run refuses (exit 2) a profile whose signature
(--signature, default PROFILE.sig, as leash sign and cosign sign-blob
write it) is missing or does not verify; it verifies and then parses the
same bytes.`,
		Example: `  # Run a web server confined to its learned profile
  sudo leash run -p web.yaml -- /usr/sbin/nginx -g 'daemon off;'

  # Try a profile out without denying anything; keep what it missed
  sudo leash run -p web.yaml --mode complain --report missed.yaml -- ./server
  leash merge -o web.yaml web.yaml missed.yaml

  # Kill on any syscall outside the profile, log denials as JSON lines
  sudo leash run -p app.yaml --default-action kill-process --denials-json denials.jsonl -- ./app

  # Pass a listening socket on fd 3 (systemd-style socket activation)
  sudo leash run -p app.yaml --keep-fd 3 -- ./app 3<>/dev/null`,
		Args: cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if profilePath == "" {
				return usageError("leash run: -p PROFILE is required")
			}
			if cmd.ArgsLenAtDash() > 0 {
				return usageError("leash run: put the command after --: leash run -p PROFILE -- CMD [ARG...]")
			}
			var m launch.Mode
			switch mode {
			case "enforce":
				m = launch.Enforce
			case "complain":
				m = launch.Complain
			default:
				return usageError("leash run: unknown --mode %q (want enforce or complain)", mode)
			}
			switch defaultAction {
			case "", "errno", "kill-process", "log":
			default:
				return usageError("leash run: unknown --default-action %q (want errno, kill-process or log)", defaultAction)
			}
			return runRun(cmd, runArgs{
				profile: profilePath, component: component, mode: m, defaultAction: defaultAction,
				denialsJSON: denialsJSON, report: report, keepFDs: keepFDs, noNewSession: noNewSession,
				argv: args, allowDigestMismatch: allowDigest, verifyKey: verifyKey, signature: signature,
			})
		},
	}
	f := cmd.Flags()
	f.StringVarP(&profilePath, "profile", "p", "", "the component's profile (YAML)")
	f.StringVar(&component, "component", "", "the component's name in reports (default: the profile's)")
	f.StringVar(&mode, "mode", "enforce", "enforce: deny what the profile lacks; complain: only log and report it")
	f.StringVar(&defaultAction, "default-action", "", "action for syscalls outside the profile: errno, kill-process or log (default: the profile's run.defaultAction)")
	f.StringVar(&denialsJSON, "denials-json", "", "also write the denials as JSON lines to `FILE`")
	f.StringVar(&report, "report", "", "complain mode: write the syscalls the profile lacks as a profile fragment to `FILE`")
	f.IntSliceVar(&keepFDs, "keep-fd", nil, "keep descriptor `N` open in CMD (repeatable)")
	f.BoolVar(&noNewSession, "no-new-session", false, "keep CMD in leash's session and terminal (allows TIOCSTI input injection; signals go to CMD alone, not its process group)")
	f.BoolVar(&allowDigest, "allow-digest-mismatch", false, "run CMD even when its sha256 is not one the profile records")
	f.StringVar(&verifyKey, "verify-key", "", "refuse the profile unless its signature verifies with the public key `PUB`")
	f.StringVar(&signature, "signature", "", "the profile's signature `FILE` (default: PROFILE.sig)")
	f.SetInterspersed(false)
	return cmd
}

type runArgs struct {
	profile, component string
	mode               launch.Mode
	defaultAction      string
	denialsJSON        string
	report             string
	keepFDs            []int
	noNewSession       bool
	argv               []string

	allowDigestMismatch bool
	verifyKey           string
	signature           string
}

func runRun(cmd *cobra.Command, a runArgs) error {
	// Catching the forwarded signals costs the Go runtime a thread round
	// trip per signal: start it now, in the background, so that it
	// overlaps loading the profile and compiling the filter (launch.Run
	// waits for it before it starts the child). They are not released:
	// leash exits when the run is over, and one that arrives in between
	// finds the target gone anyway.
	sigs := launch.CatchSignals()
	stderr := cmd.ErrOrStderr()
	p, err := loadRunProfile(stderr, a) // run_verify.go: permissions, signature
	if err != nil {
		return err
	}
	if a.component == "" {
		a.component = p.Component
	}
	arch := launch.HostArch()
	if err := launch.NeedsExecve(p, arch); err != nil {
		return Exit(ExitInput, fmt.Errorf("%s: %w", a.profile, err))
	}
	filter, err := seccomp.Compile(p, seccomp.Options{Arch: arch, DefaultAction: a.defaultAction, Complain: a.mode == launch.Complain})
	if err != nil {
		return Exit(ExitInput, fmt.Errorf("%s: %w", a.profile, err))
	}
	prog, err := filter.Bytes()
	if err != nil {
		return Exit(ExitFailure, err)
	}
	spec, err := launch.NewSpec(p, a.mode, a.argv)
	if err != nil {
		var ee *launch.ExecError
		if errors.As(err, &ee) {
			return Exit(ee.Code(), err)
		}
		return Exit(ExitLaunch, fmt.Errorf("%s: %w", a.profile, err))
	}
	// The digest of the file leash will exec (found with the target's
	// PATH), pinned by identity until the target's execve.
	if spec.Exe, err = checkRunBinary(stderr, p, a, spec.Path); err != nil {
		return err
	}
	spec.Component = a.component
	spec.Filter = prog
	spec.KeepFDs = a.keepFDs

	wantReport := a.mode == launch.Complain || a.denialsJSON != "" || a.report != ""
	var klog *launch.KernelLog
	if os.Geteuid() == 0 {
		if klog, err = launch.OpenKernelLog(); err != nil && wantReport {
			fmt.Fprintf(stderr, "leash: note: %v: denials are not reported\n", err)
		}
	} else if wantReport {
		fmt.Fprintln(stderr, "leash: note: not root: cannot read the kernel log (/dev/kmsg), so denials are not reported")
	}
	if klog != nil {
		defer klog.Close()
	}
	res, err := launch.Run(spec, launch.Options{NoNewSession: a.noNewSession, Log: klog, Signals: sigs})
	if err != nil {
		return Exit(ExitLaunch, err)
	}
	if res.Err != nil {
		return Exit(res.Code, res.Err)
	}
	if klog != nil {
		// Wait a little for the kernel's audit thread when a report was
		// asked for or the target failed (SIGSYS, or an errno denial
		// that made it exit non-zero, whose record may still be on its
		// way); a run that succeeds without a report asked does not pay
		// for it.
		var settle time.Duration
		if wantReport || res.Code != 0 {
			settle = 20 * time.Millisecond
		}
		ds := klog.Denials(a.component, res.Session, res.PID, settle)
		launch.MarkENOSYS(ds, filter)
		if err := reportDenials(stderr, a, ds); err != nil {
			return err
		}
	}
	if res.Code == 128+int(syscall.SIGSYS) && klog == nil {
		fmt.Fprintf(stderr, "leash: %s was killed by SIGSYS: a syscall outside the profile (run as root to see which)\n", a.argv[0])
	}
	return Exit(res.Code, nil)
}

func reportDenials(stderr interface{ Write([]byte) (int, error) }, a runArgs, ds []launch.Denial) error {
	denials := 0
	for _, d := range ds {
		verb := "denied"
		switch {
		case d.ByDesign():
			verb = "note" // not a denial: the filter's fixed ENOSYS answer
		case a.mode == launch.Complain:
			verb = "would deny"
		case d.Action == "LOG":
			verb = "logged" // the profile's default action is log
		}
		fmt.Fprintf(stderr, "leash: %s: %s\n", verb, d)
		if !d.ByDesign() {
			denials++
		}
	}
	if denials > 0 {
		fmt.Fprintln(stderr, "leash: note: the kernel rate-limits these records: counts are lower bounds")
	}
	if a.mode == launch.Complain {
		fmt.Fprintln(stderr, "leash: note: complain mode cannot see capability checks or socket families beyond the profile; run leash learn to find them")
	}
	if a.denialsJSON != "" {
		var b bytes.Buffer
		enc := json.NewEncoder(&b)
		for _, d := range ds {
			if err := enc.Encode(d); err != nil {
				return Exit(ExitFailure, fmt.Errorf("encode denials: %w", err))
			}
		}
		if err := atomicfile.Write(a.denialsJSON, b.Bytes(), 0o644); err != nil {
			return Exit(ExitFailure, fmt.Errorf("write %s: %w", a.denialsJSON, err))
		}
	}
	if a.report != "" {
		if err := profiles.Save(a.report, launch.Fragment(a.component, ds)); err != nil {
			return Exit(ExitFailure, fmt.Errorf("write %s: %w", a.report, err))
		}
	}
	return nil
}

// readRunProfile reads the profile leash run is about to enforce, and
// refuses one anyone but its owner may change, or (leash running as
// root) one not owned by root, as sudo does for sudoers: whoever can write
// the profile decides what the component may do. It opens the path once
// and checks the file it opened (fstat), then reads that file: a check by
// path followed by a second open could pass one file and read another put
// in its place meanwhile. It refuses what is not a regular file (a FIFO
// would block, a device would never end).
func readRunProfile(path string, euid int) ([]byte, error) {
	f, err := os.OpenFile(path, os.O_RDONLY|syscall.O_NONBLOCK|syscall.O_NOCTTY, 0)
	if err != nil {
		return nil, fmt.Errorf("read profile: %w", err)
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return nil, fmt.Errorf("read profile: %w", err)
	}
	st, ok := fi.Sys().(*syscall.Stat_t)
	if !ok {
		return nil, fmt.Errorf("%s: cannot check the file's owner", path)
	}
	if !fi.Mode().IsRegular() {
		return nil, fmt.Errorf("%s: refusing a profile that is not a regular file (%s)", path, fi.Mode().Type())
	}
	if perm := fi.Mode().Perm(); perm&0o022 != 0 {
		return nil, fmt.Errorf("%s: refusing a profile writable by group or others (mode %04o): whoever can write it decides what the component may do; chmod go-w %s", path, perm, path)
	}
	if euid == 0 && st.Uid != 0 {
		return nil, fmt.Errorf("%s: refusing a profile owned by uid %d while running as root: only root may decide what a root-launched component may do; chown root %s", path, st.Uid, path)
	}
	return profiles.Read(f)
}
