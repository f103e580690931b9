package cli

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"
	"golang.org/x/sys/unix"

	"github.com/leash-project/leash/internal/atomicfile"
	"github.com/leash-project/leash/linux"
	"github.com/leash-project/leash/profiles"
	"github.com/leash-project/leash/seccomp"
)

func init() { register(30, "filter", newFilterCmd) }

func newFilterCmd() *cobra.Command {
	var (
		format   string
		disasm   bool
		explain  bool
		asJSON   bool
		action   string
		arch     string
		complain bool
		output   string
	)
	cmd := &cobra.Command{
		Use:   "filter [flags] PROFILE",
		Short: "Compile a profile into a seccomp filter",
		Long: `leash filter compiles PROFILE into the seccomp-bpf program leash run installs:
an architecture check, the x32 guard, a balanced search tree over syscall
numbers per ABI, and argument rules for socket, socketpair, clone, unshare
and setns. The default output is the disassembly, with the syscalls each
comparison and return is about.

Formats:
  disasm   annotated disassembly (the default)
  bpf      raw struct sock_filter array, native byte order, as bubblewrap's
           --seccomp FD and SECCOMP_SET_MODE_FILTER read it; never written to
           a terminal
  json     the program, and every syscall the filter lets through with why
  explain  every syscall the filter lets through, its rule and reason (which
           come from a widening, which are learned)`,
		Example: `  # Read the filter leash run would install
  leash filter app.yaml

  # Which syscalls came from a widening, and why
  leash filter --explain app.yaml

  # The same, with the program, for scripts
  leash filter --json app.yaml

  # Hand the filter to bubblewrap
  leash filter --format bpf -o app.bpf app.yaml
  bwrap --seccomp 9 9<app.bpf ... -- app

  # Kill instead of EPERM, for an arm64 host
  leash filter --default-action kill-process --arch arm64 app.yaml`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			// --disasm, --explain and --json name a format: at most one,
			// and not another --format.
			by := ""
			if cmd.Flags().Changed("format") {
				by = "--format " + format
			}
			for _, alias := range []struct {
				set  bool
				name string
			}{{disasm, "disasm"}, {explain, "explain"}, {asJSON, "json"}} {
				if !alias.set {
					continue
				}
				if by != "" && format != alias.name {
					return usageError("leash filter: --%s and %s disagree", alias.name, by)
				}
				format, by = alias.name, "--"+alias.name
			}
			switch format {
			case "disasm", "bpf", "json", "explain":
			default:
				return usageError("leash filter: unknown format %q (want disasm, bpf, json or explain)", format)
			}
			opts := seccomp.Options{DefaultAction: action, Complain: complain}
			if arch != "" {
				a, err := linux.ParseArch(arch)
				if err != nil {
					return usageError("leash filter: --arch: %v", err)
				}
				opts.Arch = a
			}
			if _, err := seccomp.ActionValue(action); err != nil {
				return usageError("leash filter: --default-action: %v", err)
			}
			path := args[0]
			p, err := profiles.Load(path)
			if err != nil {
				if errors.Is(err, fs.ErrNotExist) || errors.Is(err, fs.ErrPermission) {
					return Exit(ExitInput, err)
				}
				return err
			}
			f, err := seccomp.Compile(p, opts)
			if err != nil {
				if errors.Is(err, seccomp.ErrOptions) {
					return usageError("leash filter: %v", err)
				}
				// What Compile rejects beyond validation (an unknown
				// widening) is a problem of the profile file.
				return &profiles.Error{File: path, Msg: err.Error()}
			}
			data, err := renderFilter(f, format)
			if err != nil {
				return err
			}
			if output != "" && output != "-" {
				return atomicfile.Write(output, data, 0o644)
			}
			out := cmd.OutOrStdout()
			if format == "bpf" && isTerminal(out) {
				return usageError("leash filter: refusing to write a binary filter to a terminal (use -o FILE or a redirection)")
			}
			_, err = out.Write(data)
			return err
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&format, "format", "disasm", "output format: disasm, bpf, json or explain")
	fl.BoolVar(&disasm, "disasm", false, "print the disassembly (same as --format disasm)")
	fl.BoolVar(&explain, "explain", false, "list the syscalls let through and why (same as --format explain)")
	fl.BoolVar(&asJSON, "json", false, "print the program and what it lets through as JSON (same as --format json)")
	fl.StringVar(&action, "default-action", "", "action for syscalls outside the profile: errno (EPERM), kill-process or log (default: the profile's run.defaultAction)")
	fl.StringVar(&arch, "arch", "", "host architecture the filter is for: x86_64 or arm64 (default x86_64)")
	fl.BoolVar(&complain, "complain", false, "complain mode: log what would be denied instead of denying it")
	fl.StringVarP(&output, "output", "o", "", "write to FILE atomically instead of standard output")
	return cmd
}

func renderFilter(f *seccomp.Filter, format string) ([]byte, error) {
	switch format {
	case "bpf":
		return f.Bytes()
	case "json":
		return filterJSON(f)
	case "explain":
		return []byte(filterExplain(f)), nil
	}
	return []byte(f.Disasm()), nil
}

type jsonInsn struct {
	Op      uint16 `json:"op"`
	Jt      uint8  `json:"jt"`
	Jf      uint8  `json:"jf"`
	K       uint32 `json:"k"`
	Comment string `json:"comment,omitempty"`
}

func filterJSON(f *seccomp.Filter) ([]byte, error) {
	raw, err := f.Assemble()
	if err != nil {
		return nil, err
	}
	v := struct {
		Arch          linux.Arch      `json:"arch"`
		DefaultAction string          `json:"defaultAction"`
		Widened       []string        `json:"widened,omitempty"`
		Syscalls      []seccomp.Entry `json:"syscalls"`
		Program       []jsonInsn      `json:"program"`
	}{Arch: f.Arch, DefaultAction: seccomp.ActionName(f.DefaultAction), Widened: f.Widened, Syscalls: f.Syscalls}
	for i, r := range raw {
		v.Program = append(v.Program, jsonInsn{Op: r.Op, Jt: r.Jt, Jf: r.Jf, K: r.K, Comment: f.Comments[i]})
	}
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return nil, fmt.Errorf("encode filter: %w", err)
	}
	return append(b, '\n'), nil
}

func filterExplain(f *seccomp.Filter) string {
	var b strings.Builder
	fmt.Fprintf(&b, "default action: %s\n", seccomp.ActionName(f.DefaultAction))
	if len(f.Widened) == 0 {
		b.WriteString("widened: nothing (the profile names no widening)\n")
	}
	ws := seccomp.Widenings()
	for _, n := range f.Widened {
		fmt.Fprintf(&b, "widened: %s: %s\n", n, ws[n].Summary)
	}
	b.WriteString("\n")
	tw := tabwriter.NewWriter(&b, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "ABI\tNR\tSYSCALL\tRULE\tREASON")
	for _, e := range f.Syscalls {
		fmt.Fprintf(tw, "%s\t%d\t%s\t%s\t%s\n", e.ABI, e.Nr, e.Name, e.Action, e.Reason)
	}
	tw.Flush()
	return b.String()
}

func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	_, err := unix.IoctlGetTermios(int(f.Fd()), unix.TCGETS)
	return err == nil
}
