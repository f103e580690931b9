package cli

import (
	"fmt"
	"math"
	"strings"

	"github.com/spf13/cobra"

	"github.com/leash-project/leash/profiles"
	"github.com/leash-project/leash/profiles/analyze"
	"github.com/leash-project/leash/seccomp"
)

func init() { register(80, "analyze", newAnalyzeCmd) }

func newAnalyzeCmd() *cobra.Command {
	var asJSON bool
	var maxScore float64
	cmd := &cobra.Command{
		Use:   "analyze [--json] [--max-score N] PROFILE",
		Short: "Rate how exposed a component is under its profile (0-10)",
		Long: `Report how much a compromised component could still do under PROFILE, in the
manner of systemd-analyze security: an exposure score from 0 to 10 (10 is
the most exposed) and a table of findings, worst first, each with its
severity, its points and why it matters in one line. What is locked down
is listed last as "ok" lines.

Findings: dangerous capabilities kept (CAP_SYS_ADMIN, CAP_DAC_READ_SEARCH,
CAP_SYS_PTRACE, ...), dangerous syscalls allowed (io_uring_*, ptrace,
process_vm_*, bpf, userfaultfd, keyctl, mount, kexec_*, ...), including
those the profile's widenings add, the i386 ABI, address families
(AF_PACKET, AF_NETLINK per netlink protocol, raw inet sockets, rare
protocols), namespaces it
does not run in, namespaces it may create, running as root, defaultAction
log (nothing enforced), and file system and environment options.

The score: every finding has fixed points (critical >= 10, high >= 5,
medium >= 2, low > 0); with P their sum, score = 10 x (1 - e^(-P/20)),
rounded to one decimal. Granting more never lowers it. Ratings: below 1
safe, below 3 ok, below 5 medium, below 8 exposed, else unsafe.

Exit status: 0 reported; 1 the score is above --max-score; 2 bad usage
or an unreadable or invalid profile.`,
		Example: `  leash analyze profiles/executor.yaml
  leash analyze --json profiles/executor.yaml | jq '.findings[] | select(.severity == "critical")'

  # A CI gate: fail when a component is more exposed than 3.0.
  leash analyze --max-score 3 profiles/web.yaml`,
		Args: exactArgs("PROFILE"),
		RunE: func(cmd *cobra.Command, args []string) error {
			if math.IsNaN(maxScore) || maxScore < 0 || maxScore > 10 {
				return usageError("leash analyze: --max-score %v is not between 0 and 10", maxScore)
			}
			p, err := profiles.Load(args[0])
			if err != nil {
				return Exit(ExitInput, err)
			}
			opts, err := widenedSyscalls(p)
			if err != nil {
				return Exit(ExitInput, fmt.Errorf("%s: %w", args[0], err))
			}
			r := analyze.AnalyzeWith(p, opts)
			out := cmd.OutOrStdout()
			if asJSON {
				err = r.WriteJSON(out)
			} else {
				err = r.WriteText(out)
			}
			if err != nil {
				return err
			}
			if cmd.Flags().Changed("max-score") && r.Score > maxScore {
				return Exit(ExitGate, fmt.Errorf("%s: exposure %.1f is above --max-score %.1f", args[0], r.Score, maxScore))
			}
			return nil
		},
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, "print the report as JSON")
	cmd.Flags().Float64Var(&maxScore, "max-score", 10, "exit 1 when the score is above this")
	return cmd
}

// widenedSyscalls returns the syscalls the filter allows beyond what p
// lists, from the widenings p names, so that the report rates what will
// be enforced rather than what was learned.
func widenedSyscalls(p *profiles.Profile) (analyze.Options, error) {
	if len(p.Widen) == 0 {
		return analyze.Options{}, nil
	}
	f, err := seccomp.Compile(p, seccomp.Options{})
	if err != nil {
		return analyze.Options{}, fmt.Errorf("compile filter to see its widenings: %w", err)
	}
	from := "widen: " + strings.Join(f.Widened, ", ")
	o := analyze.Options{Widened: map[string]string{}}
	for _, e := range f.Syscalls {
		if e.Action == "enosys" {
			continue
		}
		if _, learned := p.Syscalls[string(e.ABI)][e.Name]; !learned {
			o.Widened[e.Name] = from
		}
	}
	return o, nil
}
