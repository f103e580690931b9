package cli

import (
	"github.com/spf13/cobra"

	"github.com/leash-project/leash/profiles"
)

func init() { register(41, "diff", newDiffCmd) }

func newDiffCmd() *cobra.Command {
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "diff OLD NEW [--json]",
		Short: "Show what privilege NEW adds or removes compared to OLD (a CI gate)",
		Long: `leash diff lists every privilege that differs between two profiles, grouped:
syscalls per ABI, capabilities moving into or out of needed, address families
and socket types, netlink protocols (AF_NETLINK without protocols means any:
listing some narrows it, dropping the list grants), namespaces the component
may create or join, widenings, run
options that weaken or strengthen confinement (user, namespaces, privateTmp,
protectSystem, protectHome, defaultAction, environment), and executables (a
new path, or a new sha256 for the same path). Each line names the executable
that first used the privilege.

  + syscall x86_64 ptrace (first by /usr/bin/gdb)
  - capability CAP_NET_RAW (first by /usr/bin/ping)
  ~ run user: app -> root (now runs as root) [grants]

Use it in CI to stop a profile from quietly growing. --json prints an object
with old, new, grants, granted and changes (op, kind, scope, name, old, new,
by, grants, note).

Exit status:
  0  NEW grants nothing OLD does not (it may take privileges away)
  1  NEW grants something OLD does not
  2  bad usage, or OLD or NEW is missing or invalid`,
		Example: `  # Review what a new training run adds
  leash diff web.yaml web-new.yaml

  # CI gate: fail when the committed profile grows
  leash diff main/web.yaml web.yaml || { echo "profile grew: review it"; exit 1; }

  # For scripts
  leash diff --json web.yaml web-new.yaml | jq '.changes[] | select(.grants)'`,
		Args: cobra.ExactArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			old, err := loadInput(args[0])
			if err != nil {
				return err
			}
			new, err := loadInput(args[1])
			if err != nil {
				return err
			}
			d := profiles.Diff(old, new)
			out := cmd.OutOrStdout()
			if asJSON {
				data, err := d.JSON(args[0], args[1])
				if err != nil {
					return err
				}
				if _, err := out.Write(data); err != nil {
					return err
				}
			} else if err := d.WriteText(out, args[0], args[1]); err != nil {
				return err
			}
			if d.Grants() {
				return Exit(ExitGate, nil)
			}
			return nil
		},
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, "print JSON for scripts")
	return cmd
}
