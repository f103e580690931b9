// Package cli holds leash's cobra commands: flags, output and exit codes.
// The logic lives in the library packages; a command parses, calls, prints.
//
// Each command lives in its own file and registers itself in an init
// function, so the command files do not depend on each other.
package cli

import (
	"errors"
	"fmt"
	"io"
	"os"
	"sort"
	"strings"

	"github.com/spf13/cobra"

	"github.com/leash-project/leash/profiles"
)

// Version is leash's version, set at build time with
// -ldflags "-X github.com/leash-project/leash/internal/cli.Version=...".
var Version = "0.1.0-dev"

// Exit codes. A command returns an error; Main maps it to one of these.
// leash learn and leash run exit with the command's own status (128+signal
// when it was killed) when they got as far as starting it.
const (
	ExitOK = 0
	// ExitGate: a check found something (leash diff: NEW grants more than
	// OLD; leash check: CMD needed more than PROFILE).
	ExitGate = 1
	// ExitInput: bad usage or a bad input file (invalid profile, manifest).
	ExitInput = 2
	// ExitEnvironment: this host cannot do it (not root, no BTF, no BPF hook
	// loads, missing capability).
	ExitEnvironment = 3
	// ExitFailure: anything else that went wrong in leash itself.
	ExitFailure = 4
	// ExitLaunch: leash could not start the command (as docker's 125).
	ExitLaunch = 125
)

// ExitError carries an exit code through cobra.
type ExitError struct {
	Code int
	Err  error // nil: exit silently with Code
}

func (e *ExitError) Error() string {
	if e.Err == nil {
		return fmt.Sprintf("exit status %d", e.Code)
	}
	return e.Err.Error()
}

func (e *ExitError) Unwrap() error { return e.Err }

// Exit returns an error that makes Main exit with code, printing err if it
// is not nil.
func Exit(code int, err error) error { return &ExitError{Code: code, Err: err} }

type commandFactory struct {
	order int
	name  string
	new   func() *cobra.Command
}

var factories []commandFactory

// register adds a top-level command named name (the first word of its
// Use); order sorts the help listing.
func register(order int, name string, f func() *cobra.Command) {
	factories = append(factories, commandFactory{order, name, f})
}

// New builds the command tree.
func New(stdout, stderr io.Writer) *cobra.Command {
	return newTree(stdout, stderr, "")
}

// newTree builds the root and its commands: only the one named only when
// that is not "" (the rest stay unbuilt: a launch by leash run does not
// pay for the flag sets of every other command), else all of them, with
// their shell completions.
func newTree(stdout, stderr io.Writer, only string) *cobra.Command {
	root := &cobra.Command{
		Use:   "leash",
		Short: "Learn the least privilege a program needs, then hold it to exactly that",
		Long: `leash watches a component with eBPF and records every syscall, capability
check and socket family it uses (leash learn). From that profile it builds a
minimal seccomp filter and capability set (leash filter, leash export), and
starts the component confined to it with the kernel's own primitives: its
own uid/gid, namespaces, a reduced bounding set, no_new_privs and seccomp
(leash run). No container runtime is involved.`,
		Version:           Version,
		SilenceUsage:      true,
		SilenceErrors:     true,
		CompletionOptions: cobra.CompletionOptions{HiddenDefaultCmd: false},
	}
	root.SetOut(stdout)
	root.SetErr(stderr)
	root.SetFlagErrorFunc(func(c *cobra.Command, err error) error {
		return Exit(ExitInput, fmt.Errorf("%s: %w", c.CommandPath(), err))
	})
	if only != "" {
		for _, f := range factories {
			if f.name == only {
				root.AddCommand(f.new())
				return root
			}
		}
	}
	sort.SliceStable(factories, func(i, j int) bool { return factories[i].order < factories[j].order })
	for _, f := range factories {
		root.AddCommand(f.new())
	}
	addCompletions(root)
	return root
}

// Main runs leash with args and returns the process exit code. When
// args name a command, only that command is built (see newTree); help,
// completion and anything unknown get the whole tree.
func Main(args []string) int {
	var only string
	if len(args) > 0 {
		only = args[0]
	}
	root := newTree(os.Stdout, os.Stderr, only)
	root.SetArgs(args)
	err := root.Execute()
	return exitCode(err, os.Stderr)
}

func exitCode(err error, stderr io.Writer) int {
	if err == nil {
		return ExitOK
	}
	var ee *ExitError
	if errors.As(err, &ee) {
		if ee.Err != nil {
			fmt.Fprintf(stderr, "leash: %s\n", message(ee.Err))
		}
		return ee.Code
	}
	fmt.Fprintf(stderr, "leash: %s\n", message(err))
	if errors.Is(err, profiles.ErrInvalid) {
		return ExitInput
	}
	return ExitFailure
}

// message is err's text for "leash: TEXT", without the "leash " some
// commands start theirs with ("leash run: ...").
func message(err error) string { return strings.TrimPrefix(err.Error(), "leash ") }

// usageError marks bad arguments.
func usageError(format string, a ...any) error {
	return Exit(ExitInput, fmt.Errorf(format, a...))
}
