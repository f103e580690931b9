package profiles

import (
	"fmt"
	"io"
	"sort"
	"strings"
	"text/tabwriter"
)

// Summary is what `leash show --json` prints: the profile's privileges as
// sorted name lists, for scripts and tests, and the whole profile. Lists
// are never null.
type Summary struct {
	Component string `json:"component"`
	// Syscalls: native x86_64 names. CompatSyscalls: i386 names.
	Syscalls       []string `json:"syscalls"`
	CompatSyscalls []string `json:"compatSyscalls"`
	// SyscallsByABI holds every ABI's names, arm64 included.
	SyscallsByABI       map[string][]string `json:"syscallsByABI"`
	Capabilities        []string            `json:"capabilities"`
	NoauditCapabilities []string            `json:"noauditCapabilities"`
	DeniedCapabilities  []string            `json:"deniedCapabilities"`
	Families            []string            `json:"families"`
	SocketTypes         map[string][]string `json:"socketTypes"`
	// Protocols maps a family to its protocols where the profile lists
	// them (AF_NETLINK); AF_NETLINK without an entry allows any protocol.
	Protocols   map[string][]string `json:"protocols"`
	Namespaces  []string            `json:"namespaces"`
	Widen       []string            `json:"widen"`
	Executables []Executable        `json:"executables"`
	// Handoffs: the subtrees of any run handed to a nested tracer, whose
	// privileges are not in the profile.
	Handoffs   []Handoff `json:"handoffs"`
	Runs       int       `json:"runs"`
	Incomplete bool      `json:"incomplete"`
	Profile    *Profile  `json:"profile"`
}

// Summarize returns p's summary.
func Summarize(p *Profile) Summary {
	q := p.Clone()
	q.Normalize()
	s := Summary{
		Component:           q.Component,
		Syscalls:            nonNil(sortedKeys(q.Syscalls["x86_64"])),
		CompatSyscalls:      nonNil(sortedKeys(q.Syscalls["i386"])),
		SyscallsByABI:       map[string][]string{},
		Capabilities:        nonNil(sortedKeys(q.Capabilities.Needed)),
		NoauditCapabilities: nonNil(sortedKeys(q.Capabilities.Noaudit)),
		DeniedCapabilities:  nonNil(sortedKeys(q.Capabilities.Denied)),
		Families:            nonNil(sortedKeys(q.Families)),
		SocketTypes:         map[string][]string{},
		Protocols:           map[string][]string{},
		Namespaces:          nonNil(q.Namespaces),
		Widen:               nonNil(q.Widen),
		Executables:         q.Provenance.Executables,
		Handoffs:            q.Handoffs(),
		Runs:                len(q.Provenance.Runs),
		Incomplete:          q.Incomplete(),
		Profile:             q,
	}
	if s.Executables == nil {
		s.Executables = []Executable{}
	}
	if s.Handoffs == nil {
		s.Handoffs = []Handoff{}
	}
	for abi, calls := range q.Syscalls {
		s.SyscallsByABI[abi] = nonNil(sortedKeys(calls))
	}
	for f, fam := range q.Families {
		s.SocketTypes[f] = nonNil(fam.Types)
		if len(fam.Protocols) > 0 {
			s.Protocols[f] = fam.Protocols
		}
	}
	return s
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

// abiOrder lists ABIs native first.
func abiOrder(m map[string]map[string]string) []string {
	rank := map[string]int{"x86_64": 0, "i386": 1, "arm64": 2}
	abis := sortedKeys(m)
	sort.SliceStable(abis, func(i, j int) bool { return rank[abis[i]] < rank[abis[j]] })
	return abis
}

// WriteText writes a summary of p for a reviewer: component and runs,
// syscalls per ABI grouped by the executable that first made them, in
// columns, capabilities with counts, families with types (and netlink
// protocols), namespaces, run
// options and executables with their sha256.
func WriteText(w io.Writer, p *Profile) error {
	q := p.Clone()
	q.Normalize()
	var b strings.Builder
	fmt.Fprintf(&b, "component  %s\n", q.Component)
	state := "complete"
	if q.Incomplete() {
		state = "INCOMPLETE: a training run may have missed something"
	}
	if n := len(q.Handoffs()); n > 0 {
		state += fmt.Sprintf("; %s handed to a nested tracer, not in this profile", plural(n, "subtree"))
	}
	fmt.Fprintf(&b, "profile    %s, %s, %s\n", q.APIVersion, plural(len(q.Provenance.Runs), "training run"), state)

	b.WriteString("\nruns\n")
	if len(q.Provenance.Runs) == 0 {
		b.WriteString("  none recorded\n")
	}
	for i, r := range q.Provenance.Runs {
		var facts []string
		add := func(label, v string) {
			if v != "" {
				facts = append(facts, label+v)
			}
		}
		add("", r.Started)
		add("host ", r.Host)
		add("user ", r.User)
		add("kernel ", r.Kernel)
		add("leash ", r.Leash)
		add("took ", r.Duration)
		facts = append(facts, fmt.Sprintf("exit %d", r.ExitCode))
		if r.Processes > 0 {
			facts = append(facts, plural(int(r.Processes), "process"))
		}
		fmt.Fprintf(&b, "  %d. %s\n", i+1, strings.Join(facts, ", "))
		fmt.Fprintf(&b, "     $ %s\n", shellJoin(r.Command))
		for _, k := range sortedKeys(r.Methods) {
			fmt.Fprintf(&b, "     %s: %s\n", k, r.Methods[k])
		}
		for _, why := range r.Incomplete {
			fmt.Fprintf(&b, "     INCOMPLETE: %s\n", why)
		}
		for _, h := range r.Handoffs {
			fmt.Fprintf(&b, "     handed off: %s (%s)\n", h.Executable, handoffHow(h.How))
		}
	}

	b.WriteString("\nsyscalls\n")
	if len(q.Syscalls) == 0 {
		b.WriteString("  none\n")
	}
	for _, abi := range abiOrder(q.Syscalls) {
		calls := q.Syscalls[abi]
		fmt.Fprintf(&b, "  %s: %d\n", abi, len(calls))
		byExe := map[string][]string{}
		for name, by := range calls {
			byExe[by] = append(byExe[by], name)
		}
		for _, by := range sortedKeys(byExe) {
			names := byExe[by]
			sort.Strings(names)
			if by == "" {
				by = "(executable not recorded)"
			}
			fmt.Fprintf(&b, "    first by %s (%d)\n", by, len(names))
			columns(&b, names, "      ", 78)
		}
	}

	b.WriteString("\ncapabilities\n")
	for _, g := range []struct {
		name, about string
		caps        map[string]CapUse
	}{
		{"needed", "kept", q.Capabilities.Needed},
		{"noaudit", "only silent probes, dropped", q.Capabilities.Noaudit},
		{"denied", "never granted, dropped", q.Capabilities.Denied},
	} {
		fmt.Fprintf(&b, "  %s (%s): %d\n", g.name, g.about, len(g.caps))
		tw := tabwriter.NewWriter(&b, 0, 0, 2, ' ', 0)
		for _, c := range sortedKeys(g.caps) {
			u := g.caps[c]
			fmt.Fprintf(tw, "    %s\tgranted %d\tdenied %d\tby %s\n", c, u.Granted, u.Denied, orNone(u.By))
		}
		tw.Flush()
	}

	b.WriteString("\nfamilies\n")
	if len(q.Families) == 0 {
		b.WriteString("  none\n")
	}
	tw := tabwriter.NewWriter(&b, 0, 0, 2, ' ', 0)
	for _, f := range sortedKeys(q.Families) {
		fam := q.Families[f]
		fmt.Fprintf(tw, "  %s\t%s\tby %s\n", f, orNone(strings.Join(fam.Types, " "))+protocolsText(f, fam), orNone(fam.By))
	}
	tw.Flush()

	fmt.Fprintf(&b, "\nnamespaces it may create or join  %s\n", orNone(strings.Join(q.Namespaces, " ")))
	fmt.Fprintf(&b, "widen                             %s\n", orNone(strings.Join(q.Widen, " ")))

	b.WriteString("\nrun\n")
	r := q.Run
	tw = tabwriter.NewWriter(&b, 0, 0, 2, ' ', 0)
	fmt.Fprintf(tw, "  user\t%s\n", orDefault(r.User, "(unset: the invoking user)"))
	fmt.Fprintf(tw, "  group\t%s\n", orDefault(r.Group, "(unset: the user's group)"))
	fmt.Fprintf(tw, "  namespaces\t%s\n", orNone(strings.Join(r.Namespaces, " ")))
	fmt.Fprintf(tw, "  defaultAction\t%s\n", actionName(r.DefaultAction))
	fmt.Fprintf(tw, "  privateTmp\t%t\n", r.PrivateTmp)
	fmt.Fprintf(tw, "  protectSystem\t%s\n", orNone(r.ProtectSystem))
	fmt.Fprintf(tw, "  protectHome\t%t\n", r.ProtectHome)
	fmt.Fprintf(tw, "  privateDevices\t%t\n", r.DevicesPrivate())
	fmt.Fprintf(tw, "  protectKernelTunables\t%t\n", r.KernelTunablesProtected())
	fmt.Fprintf(tw, "  clearEnv\t%t\n", r.ClearEnv)
	for _, e := range r.Env {
		fmt.Fprintf(tw, "  env\t%s\n", e)
	}
	tw.Flush()

	b.WriteString("\nexecutables\n")
	if len(q.Provenance.Executables) == 0 {
		b.WriteString("  none recorded\n")
	}
	tw = tabwriter.NewWriter(&b, 0, 0, 2, ' ', 0)
	for _, e := range q.Provenance.Executables {
		fmt.Fprintf(tw, "  %s\tsha256 %s\n", e.Path, e.SHA256)
	}
	tw.Flush()
	_, err := io.WriteString(w, b.String())
	return err
}

// protocolsText describes the protocols of family f after its types:
// ", protocols NETLINK_AUDIT NETLINK_ROUTE", or for AF_NETLINK without
// protocols ", any protocol".
func protocolsText(f string, fam Family) string {
	switch {
	case len(fam.Protocols) > 0:
		return ", protocols " + strings.Join(fam.Protocols, " ")
	case f == netlinkFamily:
		return ", any protocol"
	}
	return ""
}

// columns writes names in columns, down then across, within width.
func columns(b *strings.Builder, names []string, indent string, width int) {
	wide := 0
	for _, n := range names {
		wide = max(wide, len(n))
	}
	colw := wide + 2
	cols := max(1, (width-len(indent)+2)/colw)
	rows := (len(names) + cols - 1) / cols
	for r := 0; r < rows; r++ {
		b.WriteString(indent)
		var line strings.Builder
		for c := 0; c < cols; c++ {
			i := c*rows + r
			if i >= len(names) {
				break
			}
			fmt.Fprintf(&line, "%-*s", colw, names[i])
		}
		b.WriteString(strings.TrimRight(line.String(), " "))
		b.WriteByte('\n')
	}
}

func plural(n int, what string) string {
	if n == 1 {
		return "1 " + what
	}
	if strings.HasSuffix(what, "s") {
		return fmt.Sprintf("%d %ses", n, what)
	}
	return fmt.Sprintf("%d %ss", n, what)
}

func orNone(s string) string { return orDefault(s, "none") }

func orDefault(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

// shellJoin quotes a command line for display.
func shellJoin(args []string) string {
	if len(args) == 0 {
		return "(command not recorded)"
	}
	out := make([]string, len(args))
	for i, a := range args {
		if a != "" && strings.IndexFunc(a, func(r rune) bool {
			return !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || strings.ContainsRune("-_./=:,+@%", r))
		}) < 0 {
			out[i] = a
			continue
		}
		out[i] = "'" + strings.ReplaceAll(a, "'", `'\''`) + "'"
	}
	return strings.Join(out, " ")
}

// handoffHow describes how a process left a recording.
func handoffHow(how string) string {
	switch how {
	case HandoffLeash:
		return "leash's own binary: a nested leash took its subtree"
	case HandoffAnnounced:
		return "another binary announced itself as a leash tracer: its subtree is not recorded"
	}
	return how
}
