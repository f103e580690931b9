package cli

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"

	"github.com/spf13/cobra"

	"github.com/leash-project/leash/profiles"
)

func init() { register(20, "show", newShowCmd) }

// profileExitHelp ends the help of the commands that read profiles.
const profileExitHelp = `

Exit status:
  0  done
  2  bad usage, or an input profile is missing or invalid (the one-line
     error names the file and line); nothing is written`

func newShowCmd() *cobra.Command {
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "show [--json] PROFILE",
		Short: "Print a profile for review",
		Long: `leash show validates PROFILE and prints what the component was seen to
need: its training runs, syscalls per ABI grouped by the executable that first
made them, capabilities (needed, noaudit-only and denied, with counts),
address families with socket types (and AF_NETLINK's netlink protocols, or
"any protocol" when none are listed), namespaces, run options and the sha256
of every executable exec'd while learning.

--json prints an object for scripts: component, syscalls (x86_64 names),
compatSyscalls (i386), syscallsByABI, capabilities (needed CAP_* names),
noauditCapabilities, deniedCapabilities, families (AF_*), socketTypes (family
to SOCK_* list), protocols (AF_NETLINK to its NETLINK_* list, when listed),
namespaces, widen, executables, runs, incomplete, and profile (the whole
profile). Lists are sorted and never null.` + profileExitHelp,
		Example: `  # Review a learned profile
  leash show web.yaml

  # The syscalls it needs, one per line
  leash show --json web.yaml | jq -r '.syscalls[]'

  # Fail a script when a training run missed something
  leash show --json web.yaml | jq -e '.incomplete | not'`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			p, err := loadInput(args[0])
			if err != nil {
				return err
			}
			out := cmd.OutOrStdout()
			if !asJSON {
				return profiles.WriteText(out, p)
			}
			data, err := json.MarshalIndent(profiles.Summarize(p), "", "  ")
			if err != nil {
				return fmt.Errorf("encode summary: %w", err)
			}
			_, err = out.Write(append(data, '\n'))
			return err
		},
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, "print JSON for scripts")
	return cmd
}

// loadInput loads a profile named on the command line: a missing or
// unreadable file is bad input (exit 2) like an invalid one.
func loadInput(path string) (*profiles.Profile, error) {
	p, err := profiles.Load(path)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) || errors.Is(err, fs.ErrPermission) || errors.Is(err, fs.ErrInvalid) {
			return nil, Exit(ExitInput, err)
		}
		var pe *fs.PathError
		if errors.As(err, &pe) {
			return nil, Exit(ExitInput, err)
		}
		return nil, err
	}
	return p, nil
}
