package cli

import (
	"errors"
	"fmt"
	"reflect"

	"github.com/spf13/cobra"

	"github.com/leash-project/leash/internal/atomicfile"
	"github.com/leash-project/leash/profiles"
)

func init() { register(40, "merge", newMergeCmd) }

func newMergeCmd() *cobra.Command {
	var output, component string
	cmd := &cobra.Command{
		Use:   "merge PROFILE... -o OUT [--component NAME]",
		Short: "Combine training runs into one profile",
		Long: `leash merge combines profiles of the same component, learned in several runs
or on several hosts, into one that allows what any of them needed: the union
of syscalls per ABI, families and socket types, netlink protocols (a run
that lists none allows any, and so does the merge), namespaces, widenings
and executables, each keeping the executable that first used it. Capability
counts are summed; a capability needed in any run is needed, one only ever
probed silently stays noaudit, one checked and never granted stays denied.
Every training run is kept in the provenance. Run options come from the
first profile.

Profiles of different components are refused unless --component names the
merged one. OUT is written atomically; "-" (the default) is standard output.` + profileExitHelp,
		Example: `  # Two training runs on two hosts
  leash merge web-host1.yaml web-host2.yaml -o web.yaml

  # One profile for a whole stack of components
  leash merge web.yaml worker.yaml --component stack -o stack.yaml`,
		Args: cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			var ps []*profiles.Profile
			for _, path := range args {
				p, err := loadInput(path)
				if err != nil {
					return err
				}
				ps = append(ps, p)
			}
			if component == "" {
				for i, p := range ps[1:] {
					if p.Component != ps[0].Component {
						return usageError("leash merge: %s is component %q but %s is %q: pass --component NAME to merge them",
							args[i+1], p.Component, args[0], ps[0].Component)
					}
				}
			}
			for i, p := range ps[1:] {
				if !reflect.DeepEqual(p.Run, ps[0].Run) {
					fmt.Fprintf(cmd.ErrOrStderr(), "leash merge: note: run options differ; the merged profile takes those of %s, not %s\n", args[0], args[i+1])
				}
			}
			m, err := profiles.MergeWith(profiles.MergeOptions{Component: component}, ps...)
			if err != nil {
				if errors.Is(err, profiles.ErrComponentMismatch) {
					return Exit(ExitInput, err)
				}
				return err
			}
			data, err := profiles.Marshal(m)
			if err != nil {
				return err
			}
			// Never write a profile leash itself would refuse to read.
			if _, err := profiles.Parse(output, data); err != nil {
				return fmt.Errorf("merge profiles: merged profile is invalid: %w", err)
			}
			if output == "" || output == "-" {
				_, err = cmd.OutOrStdout().Write(data)
				return err
			}
			return atomicfile.Write(output, data, 0o644)
		},
	}
	cmd.Flags().StringVarP(&output, "output", "o", "-", "write the merged profile to OUT atomically (- is standard output)")
	cmd.Flags().StringVar(&component, "component", "", "name of the merged component (allows merging different components)")
	return cmd
}
