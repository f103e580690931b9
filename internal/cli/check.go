package cli

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"time"

	"github.com/spf13/cobra"

	"github.com/leash-project/leash/learner"
	"github.com/leash-project/leash/learner/trace"
	"github.com/leash-project/leash/linux"
	"github.com/leash-project/leash/profiles"
	"github.com/leash-project/leash/seccomp"
)

func init() { register(45, "check", newCheckCmd) }

// ExitCheckCommand is leash check's status when CMD itself failed but
// needed nothing outside the profile: a failing test is not a privilege
// problem, yet a CI gate must not pass silently on it.
const ExitCheckCommand = ExitFailure

func newCheckCmd() *cobra.Command {
	var (
		asJSON         bool
		userName       string
		keep           string
		system, driver string
		linger         time.Duration
	)
	cmd := &cobra.Command{
		Use:   "check {PROFILE -- CMD [ARG...] | -f leash.yaml [--driver CMD]} [--json] [--keep FILE|DIR]",
		Short: "Run CMD, learning it, and fail if it needed anything outside PROFILE",
		Long: `leash check runs CMD under the learner (as leash learn does: eBPF, nothing
is denied) into a temporary profile, then compares it with PROFILE as
leash diff PROFILE LEARNED does, and prints what CMD needed that PROFILE
does not grant: syscalls per ABI, needed capabilities, address families,
socket types, namespaces. PROFILE's run options and widenings are taken as
given (they are not what CMD is checked for). Executables CMD ran that
PROFILE does not record are printed as notes and do not fail the check,
and so are syscalls PROFILE's filter already allows through a widening
(a Go program's runtime syscalls under widen: [go-runtime]).

With -f leash.yaml (no PROFILE, no CMD) it checks a whole system: it
learns every component as leash learn -f does, running --driver, and
compares each with its committed profile in the manifest's profiles
directory; a component with no committed profile fails the check.
--keep DIR writes, per component, the committed profile merged with what
was learned: what a reviewer commits to accept the growth.

Exit status:
  0    CMD needed nothing outside PROFILE and exited 0
  1    CMD needed something outside PROFILE (whatever CMD's own status)
  2    bad usage, or PROFILE is missing or invalid
  3    this host cannot learn (not root, no BTF)
  4    CMD (with -f: the driver) needed nothing outside PROFILE but exited
       non-zero (its status is printed)
  125  CMD could not be started; 127 CMD not found

It needs root, like leash learn.`,
		Example: `  # CI: the test suite must stay inside the committed profile
  sudo leash check profiles/api.yaml -- go test ./...

  # Keep what was learned, to merge it after review
  sudo leash check --keep learned.yaml api.yaml -- ./api --selftest
  leash merge -o api.yaml api.yaml learned.yaml

  # For scripts
  sudo leash check --json api.yaml -- ./api --selftest | jq '.changes[].name'

  # A system of components, driven by its integration test (docs/ci.md)
  sudo leash check -f leash.yaml --driver ./test/integration.sh --keep merged`,
		Args: func(c *cobra.Command, args []string) error {
			if system != "" {
				if len(args) > 0 {
					return usageError("check: no PROFILE or CMD with -f (the manifest names them)")
				}
				return nil
			}
			if driver != "" {
				return usageError("check: --driver goes with -f leash.yaml")
			}
			if len(args) < 2 || c.ArgsLenAtDash() != 1 {
				return usageError("check: want PROFILE -- CMD [ARG...]")
			}
			return nil
		},
		RunE: func(c *cobra.Command, args []string) error {
			if linger < 0 {
				return usageError("check: --linger must not be negative")
			}
			if system != "" {
				return checkSystem(c, system, driver, keep, linger, asJSON)
			}
			profilePath, argv := args[0], args[1:]
			want, err := loadInput(profilePath)
			if err != nil {
				return err
			}
			stderr := c.ErrOrStderr()
			tmp, err := os.MkdirTemp("", "leash-check-")
			if err != nil {
				return Exit(ExitFailure, fmt.Errorf("check: create temporary directory: %w", err))
			}
			defer os.RemoveAll(tmp)
			out := filepath.Join(tmp, "learned.yaml")
			if keep != "" {
				out = keep
			}
			tr, err := trace.Open(trace.Options{})
			if err != nil {
				return Exit(ExitEnvironment, fmt.Errorf("check: %w", err))
			}
			defer tr.Close()
			for _, w := range tr.Warnings() {
				fmt.Fprintf(stderr, "leash: %s\n", w)
			}
			res, err := learner.Learn(learner.Config{
				Tracer:         tr,
				Command:        argv,
				Component:      want.Component,
				User:           userName,
				Linger:         linger,
				Output:         out,
				Leash:          Version,
				Stdin:          c.InOrStdin(),
				Stdout:         stderr, // stdout carries the verdict
				Stderr:         stderr,
				Warn:           stderr,
				ForwardSignals: true,
			})
			var nf *learner.NotFoundError
			var ue *learner.UserError
			switch {
			case errors.As(err, &ue):
				return Exit(ExitInput, fmt.Errorf("check: %w", err))
			case errors.As(err, &nf):
				return Exit(127, fmt.Errorf("check: %w", err))
			case err != nil:
				return Exit(ExitLaunch, fmt.Errorf("check: %w", err))
			}
			d, notes, err := checkDelta(profilePath, want, res.Profile)
			if err != nil {
				return err
			}
			w := c.OutOrStdout()
			if asJSON {
				data, err := json.MarshalIndent(struct {
					Profile  string            `json:"profile"`
					Command  []string          `json:"command"`
					ExitCode int               `json:"exitCode"`
					Grants   bool              `json:"grants"`
					Changes  []profiles.Change `json:"changes"`
					Notes    []profiles.Change `json:"notes"`
				}{profilePath, argv, res.ExitCode, d.Grants(), d.Changes, notes.Changes}, "", "  ")
				if err != nil {
					return Exit(ExitFailure, fmt.Errorf("check: encode result: %w", err))
				}
				if _, err := w.Write(append(data, '\n')); err != nil {
					return err
				}
			} else {
				if len(d.Changes) > 0 {
					fmt.Fprintf(w, "%s needed %d privilege(s) outside %s:\n", argv[0], len(d.Changes), profilePath)
					if err := d.WriteText(w, profilePath, "learned from "+argv[0]); err != nil {
						return err
					}
				} else {
					fmt.Fprintf(w, "%s needed nothing outside %s\n", argv[0], profilePath)
				}
				printNotes(w, argv[0], profilePath, notes)
			}
			if res.ExitCode != 0 {
				fmt.Fprintf(stderr, "leash: check: %s exited with status %d\n", argv[0], res.ExitCode)
			}
			switch {
			case d.Grants():
				return Exit(ExitGate, nil)
			case res.ExitCode != 0:
				return Exit(ExitCheckCommand, nil)
			}
			return nil
		},
	}
	f := cmd.Flags()
	f.BoolVar(&asJSON, "json", false, "print JSON for scripts (profile, command, exitCode, grants, changes, notes)")
	f.StringVar(&userName, "user", "", "run CMD as `USER` (name or uid), with its groups")
	f.StringVar(&keep, "keep", "", "also write the learned profile to `FILE` (with -f: the merged profiles to directory FILE)")
	f.StringVarP(&system, "file", "f", "", "check every component of the manifest `leash.yaml` against its committed profile")
	f.StringVar(&driver, "driver", "", "with -f: run the shell command `CMD` to exercise the system")
	f.DurationVar(&linger, "linger", learner.DefaultLinger, "after CMD exits, keep recording its remaining processes this long")
	return cmd
}

// printNotes prints what a check noted but did not fail on.
func printNotes(w io.Writer, who, profilePath string, notes profiles.Delta) {
	for _, n := range notes.Changes {
		if n.Kind == profiles.KindExecutable {
			fmt.Fprintf(w, "note: %s ran %s, which %s does not record\n", who, n.Name, profilePath)
		} else {
			fmt.Fprintf(w, "note: %s made %s %s, which %s allows through a widening\n", who, n.Scope, n.Name, profilePath)
		}
	}
}

// checkedComponent is one component's verdict of leash check -f.
type checkedComponent struct {
	Name    string            `json:"name"`
	Profile string            `json:"profile"`
	Missing bool              `json:"missing,omitempty"` // no committed profile
	Learned bool              `json:"learned"`           // a profile was learned
	Grants  bool              `json:"grants"`
	Changes []profiles.Change `json:"changes"`
	Notes   []profiles.Change `json:"notes"`
}

// checkSystem is leash check -f: learn the system, compare every
// component with its committed profile.
func checkSystem(c *cobra.Command, file, driver, keep string, linger time.Duration, asJSON bool) error {
	m, err := loadManifest(file)
	if err != nil {
		return err
	}
	committed := map[string]*profiles.Profile{}
	for _, comp := range m.Components {
		path := m.ProfilePath(comp)
		if _, err := os.Stat(path); errors.Is(err, fs.ErrNotExist) {
			continue // a new component: reported below
		}
		p, err := loadInput(path)
		if err != nil {
			return err
		}
		committed[comp.Name] = p
	}
	if keep != "" {
		if err := os.MkdirAll(keep, 0o755); err != nil {
			return usageError("check: --keep %s: %v", keep, errors.Unwrap(err))
		}
	}
	tmp, err := os.MkdirTemp("", "leash-check-")
	if err != nil {
		return Exit(ExitFailure, fmt.Errorf("check: create temporary directory: %w", err))
	}
	defer os.RemoveAll(tmp)
	learned := *m
	learned.Profiles = tmp
	stderr := c.ErrOrStderr()
	// The components' output goes to stderr: stdout carries the verdict.
	status, err := learnSystem(stderr, stderr, &learned, driver, linger)
	if err != nil {
		return err
	}
	var results []checkedComponent
	grants := false
	for _, comp := range m.Components {
		r := checkedComponent{Name: comp.Name, Profile: m.ProfilePath(comp), Changes: []profiles.Change{}, Notes: []profiles.Change{}}
		got, err := profiles.Load(learned.ProfilePath(comp))
		r.Learned = err == nil
		want, ok := committed[comp.Name]
		switch {
		case !ok:
			r.Missing, r.Grants = true, true
		case r.Learned:
			d, notes, err := checkDelta(r.Profile, want, got)
			if err != nil {
				return err
			}
			r.Grants, r.Changes, r.Notes = d.Grants(), d.Changes, notes.Changes
		}
		grants = grants || r.Grants
		if keep != "" && r.Learned {
			out := got
			if ok {
				if out, err = profiles.MergeWith(profiles.MergeOptions{Component: comp.Name}, want, got); err != nil {
					return Exit(ExitFailure, fmt.Errorf("check: component %s: %w", comp.Name, err))
				}
				out.Run, out.Widen = want.Run, want.Widen
				out.Normalize()
			}
			if err := profiles.Save(filepath.Join(keep, comp.Name+".yaml"), out); err != nil {
				return Exit(ExitFailure, fmt.Errorf("check: %w", err))
			}
		}
		results = append(results, r)
	}

	w := c.OutOrStdout()
	if asJSON {
		data, err := json.MarshalIndent(struct {
			Manifest   string             `json:"manifest"`
			Driver     string             `json:"driver,omitempty"`
			ExitCode   int                `json:"exitCode"`
			Grants     bool               `json:"grants"`
			Components []checkedComponent `json:"components"`
		}{m.Path, driver, status, grants, results}, "", "  ")
		if err != nil {
			return Exit(ExitFailure, fmt.Errorf("check: encode result: %w", err))
		}
		if _, err := w.Write(append(data, '\n')); err != nil {
			return err
		}
	} else {
		for _, r := range results {
			switch {
			case r.Missing && r.Learned:
				fmt.Fprintf(w, "%s: new component: no committed profile %s (review and commit the learned one)\n", r.Name, r.Profile)
			case r.Missing:
				fmt.Fprintf(w, "%s: new component: no committed profile %s, and it did not run\n", r.Name, r.Profile)
			case !r.Learned:
				fmt.Fprintf(w, "%s: not learned (it did not run): nothing to check\n", r.Name)
			case len(r.Changes) > 0:
				fmt.Fprintf(w, "%s needed %d privilege(s) outside %s:\n", r.Name, len(r.Changes), r.Profile)
				d := profiles.Delta{Changes: r.Changes}
				if err := d.WriteText(w, r.Profile, "learned from "+r.Name); err != nil {
					return err
				}
			default:
				fmt.Fprintf(w, "%s needed nothing outside %s\n", r.Name, r.Profile)
			}
			printNotes(w, r.Name, r.Profile, profiles.Delta{Changes: r.Notes})
		}
	}
	switch {
	case grants:
		return Exit(ExitGate, nil)
	case status != 0:
		fmt.Fprintf(stderr, "leash: check: the system's run failed with status %d\n", status)
		return Exit(ExitCheckCommand, nil)
	}
	return nil
}

// checkDelta returns the privileges learned needs that want does not
// grant, and, apart, what it only notes: executables learned ran that
// want does not record, and syscalls want's filter allows through a
// widening (or restart_syscall, which every filter allows). Run options, widenings and the component name come from
// want: they are the profile's decisions, not something CMD can exceed.
func checkDelta(path string, want, learned *profiles.Profile) (grants, notes profiles.Delta, err error) {
	allowed, err := filterAllows(path, want)
	if err != nil {
		return grants, notes, err
	}
	l := *learned
	l.Component = want.Component
	l.Run = want.Run
	l.Widen = want.Widen
	grants.Changes, notes.Changes = []profiles.Change{}, []profiles.Change{}
	for _, c := range profiles.Diff(want, &l).Changes {
		switch {
		case !c.Grants:
		case c.Kind == profiles.KindExecutable:
			notes.Changes = append(notes.Changes, c)
		case c.Kind == profiles.KindSyscall && allowed[c.Scope][c.Name]:
			c.Grants = false
			c.Note = "allowed by the filter (a widening, or restart_syscall which every filter allows)"
			notes.Changes = append(notes.Changes, c)
		default:
			grants.Changes = append(grants.Changes, c)
		}
	}
	return grants, notes, nil
}

// filterAllows lists, per ABI, the syscalls the filter leash run builds
// from p lets through (allowed, or checked by argument rules).
func filterAllows(path string, p *profiles.Profile) (map[string]map[string]bool, error) {
	arch, err := seccomp.NativeArch()
	if err != nil {
		arch = linux.X86_64
	}
	f, err := seccomp.Compile(p, seccomp.Options{Arch: arch})
	if err != nil {
		return nil, Exit(ExitInput, &profiles.Error{File: path, Msg: err.Error()})
	}
	out := map[string]map[string]bool{}
	for _, e := range f.Syscalls {
		if e.Action == "enosys" {
			continue
		}
		if out[string(e.ABI)] == nil {
			out[string(e.ABI)] = map[string]bool{}
		}
		out[string(e.ABI)][e.Name] = true
	}
	return out, nil
}
