package profiles

import (
	"encoding/json"
	"fmt"
	"io"
	"sort"
	"strings"
)

// Change kinds, in the order Diff lists them.
const (
	KindSyscall    = "syscall"
	KindCapability = "capability"
	KindFamily     = "family"
	KindSocketType = "socket-type"
	KindProtocol   = "protocol"
	KindNamespace  = "namespace"
	KindWiden      = "widen"
	KindRun        = "run"
	KindExecutable = "executable"
	KindHandoff    = "handoff"
	KindComponent  = "component"
)

var kindOrder = map[string]int{
	KindComponent: 0, KindSyscall: 1, KindCapability: 2, KindFamily: 3, KindSocketType: 4,
	KindProtocol: 5, KindNamespace: 6, KindWiden: 7, KindRun: 8, KindExecutable: 9, KindHandoff: 10,
}

var kindTitle = map[string]string{
	KindComponent: "component", KindSyscall: "syscalls", KindCapability: "capabilities (needed)",
	KindFamily: "address families", KindSocketType: "socket types", KindProtocol: "netlink protocols",
	KindNamespace: "namespaces it may create or join", KindWiden: "widenings", KindRun: "run options",
	KindExecutable: "executables", KindHandoff: "handed to a nested tracer (not in the profile)",
}

// Change is one difference between two profiles.
type Change struct {
	// Op is "+" (NEW has it, OLD does not), "-" (OLD has it, NEW does not)
	// or "~" (changed).
	Op   string `json:"op"`
	Kind string `json:"kind"`
	// ABI of a syscall; the family of a socket type or protocol.
	Scope string `json:"scope,omitempty"`
	// Name of the syscall, capability, family, type, protocol, namespace,
	// widening, run option or executable path. A change between any
	// protocol and listed ones is named "protocols".
	Name string `json:"name"`
	// Old and New values of a changed run option or executable digest,
	// or of a family's protocols ("any", or the names listed).
	Old string `json:"old,omitempty"`
	New string `json:"new,omitempty"`
	// By is the executable that first used the privilege (from NEW for
	// additions, OLD for removals).
	By string `json:"by,omitempty"`
	// Grants is true when the change gives the component something OLD
	// did not: the CI gate fails on it.
	Grants bool `json:"grants"`
	// Note explains a run option change.
	Note string `json:"note,omitempty"`
}

// Delta lists every difference in privilege between two profiles.
type Delta struct {
	Changes []Change `json:"changes"`
}

// Grants reports whether NEW grants anything OLD does not.
func (d Delta) Grants() bool {
	for _, c := range d.Changes {
		if c.Grants {
			return true
		}
	}
	return false
}

// Granted counts the changes that grant something.
func (d Delta) Granted() int {
	n := 0
	for _, c := range d.Changes {
		if c.Grants {
			n++
		}
	}
	return n
}

// Diff lists what changed from old to new: syscalls per ABI,
// capabilities moved into or out of needed, families and socket types,
// netlink protocols (see compareProtocols), namespaces, widenings, run
// options (a change that weakens confinement grants), and executables (a
// new path, or a new sha256 for a path, grants: leash run would accept
// that program), and handoffs by executable (a new one grants: what that
// subtree did is not in the profile, so no reviewer saw it). Other run
// provenance and capability counts are not privileges and are not
// compared.
func Diff(old, new *Profile) Delta {
	var d Delta
	add := func(c Change) { d.Changes = append(d.Changes, c) }
	if old.Component != new.Component {
		add(Change{Op: "~", Kind: KindComponent, Name: "name", Old: old.Component, New: new.Component})
	}
	for _, abi := range unionKeys(old.Syscalls, new.Syscalls) {
		o, n := old.Syscalls[abi], new.Syscalls[abi]
		for _, name := range unionKeys(o, n) {
			ob, inOld := o[name]
			nb, inNew := n[name]
			switch {
			case inNew && !inOld:
				add(Change{Op: "+", Kind: KindSyscall, Scope: abi, Name: name, By: nb, Grants: true})
			case inOld && !inNew:
				add(Change{Op: "-", Kind: KindSyscall, Scope: abi, Name: name, By: ob})
			}
		}
	}
	for _, name := range unionKeys(old.Capabilities.Needed, new.Capabilities.Needed) {
		o, inOld := old.Capabilities.Needed[name]
		n, inNew := new.Capabilities.Needed[name]
		switch {
		case inNew && !inOld:
			add(Change{Op: "+", Kind: KindCapability, Name: name, By: n.By, Grants: true, Note: capWas(old, name)})
		case inOld && !inNew:
			add(Change{Op: "-", Kind: KindCapability, Name: name, By: o.By, Note: capNow(new, name)})
		}
	}
	for _, f := range unionKeys(old.Families, new.Families) {
		o, inOld := old.Families[f]
		n, inNew := new.Families[f]
		switch {
		case inNew && !inOld:
			add(Change{Op: "+", Kind: KindFamily, Name: f, By: n.By, Grants: true, Note: familyNote(f, n)})
		case inOld && !inNew:
			add(Change{Op: "-", Kind: KindFamily, Name: f, By: o.By, Note: familyNote(f, o)})
		default:
			for _, t := range setDiff(n.Types, o.Types) {
				add(Change{Op: "+", Kind: KindSocketType, Scope: f, Name: t, By: n.By, Grants: true})
			}
			for _, t := range setDiff(o.Types, n.Types) {
				add(Change{Op: "-", Kind: KindSocketType, Scope: f, Name: t, By: o.By})
			}
			for _, c := range compareProtocols(f, o, n) {
				add(c)
			}
		}
	}
	for _, ns := range setDiff(new.Namespaces, old.Namespaces) {
		add(Change{Op: "+", Kind: KindNamespace, Name: ns, Grants: true})
	}
	for _, ns := range setDiff(old.Namespaces, new.Namespaces) {
		add(Change{Op: "-", Kind: KindNamespace, Name: ns})
	}
	for _, w := range setDiff(new.Widen, old.Widen) {
		add(Change{Op: "+", Kind: KindWiden, Name: w, Grants: true})
	}
	for _, w := range setDiff(old.Widen, new.Widen) {
		add(Change{Op: "-", Kind: KindWiden, Name: w})
	}
	for _, c := range compareRun(old.Run, new.Run) {
		add(c)
	}
	oe, ne := exeMap(old), exeMap(new)
	for _, path := range unionKeys(oe, ne) {
		o, n := oe[path], ne[path]
		switch {
		case len(o) == 0:
			add(Change{Op: "+", Kind: KindExecutable, Name: path, New: strings.Join(n, " "), Grants: true})
		case len(n) == 0:
			add(Change{Op: "-", Kind: KindExecutable, Name: path, Old: strings.Join(o, " ")})
		default:
			added, removed := setDiff(n, o), setDiff(o, n)
			if len(added) > 0 || len(removed) > 0 {
				add(Change{Op: "~", Kind: KindExecutable, Name: path, Old: strings.Join(o, " "), New: strings.Join(n, " "),
					Grants: len(added) > 0, Note: "same path, different sha256"})
			}
		}
	}
	oh, nh := handoffMap(old), handoffMap(new)
	for _, exe := range unionKeys(oh, nh) {
		o, n := oh[exe], nh[exe]
		switch {
		case len(o) == 0:
			add(Change{Op: "+", Kind: KindHandoff, Name: exe, New: strings.Join(n, " "), Grants: true,
				Note: "its subtree's privileges are not in the profile"})
		case len(n) == 0:
			add(Change{Op: "-", Kind: KindHandoff, Name: exe, Old: strings.Join(o, " ")})
		}
	}
	sort.SliceStable(d.Changes, func(i, j int) bool {
		return kindOrder[d.Changes[i].Kind] < kindOrder[d.Changes[j].Kind]
	})
	if d.Changes == nil {
		d.Changes = []Change{}
	}
	return d
}

// familyNote describes an added or removed family: its types, and for
// AF_NETLINK its protocols.
func familyNote(f string, fam Family) string {
	note := "types " + orNone(strings.Join(fam.Types, " "))
	switch {
	case len(fam.Protocols) > 0:
		note += ", protocols " + strings.Join(fam.Protocols, " ")
	case f == netlinkFamily:
		note += ", any protocol"
	}
	return note
}

// compareProtocols lists the protocol changes of family f, present in
// both profiles. No protocols listed means any protocol: listing some
// narrows it (no grant), dropping the list widens it to any (a grant),
// and between two lists every added protocol grants.
func compareProtocols(f string, o, n Family) []Change {
	var out []Change
	switch {
	case len(o.Protocols) == 0 && len(n.Protocols) == 0:
	case len(o.Protocols) == 0:
		out = append(out, Change{Op: "~", Kind: KindProtocol, Scope: f, Name: "protocols", Old: "any", New: strings.Join(n.Protocols, " "),
			By: n.By, Note: "now only the protocols listed"})
	case len(n.Protocols) == 0:
		out = append(out, Change{Op: "~", Kind: KindProtocol, Scope: f, Name: "protocols", Old: strings.Join(o.Protocols, " "), New: "any",
			By: n.By, Grants: true, Note: "no protocols listed: any protocol is allowed"})
	default:
		for _, p := range setDiff(n.Protocols, o.Protocols) {
			out = append(out, Change{Op: "+", Kind: KindProtocol, Scope: f, Name: p, By: n.By, Grants: true})
		}
		for _, p := range setDiff(o.Protocols, n.Protocols) {
			out = append(out, Change{Op: "-", Kind: KindProtocol, Scope: f, Name: p, By: o.By})
		}
	}
	return out
}

func capWas(p *Profile, name string) string {
	if _, ok := p.Capabilities.Denied[name]; ok {
		return "was denied"
	}
	if _, ok := p.Capabilities.Noaudit[name]; ok {
		return "was noaudit only"
	}
	return ""
}

func capNow(p *Profile, name string) string {
	if _, ok := p.Capabilities.Denied[name]; ok {
		return "now denied"
	}
	if _, ok := p.Capabilities.Noaudit[name]; ok {
		return "now noaudit only"
	}
	return ""
}

func exeMap(p *Profile) map[string][]string {
	m := map[string][]string{}
	for _, e := range p.Provenance.Executables {
		m[e.Path] = append(m[e.Path], e.SHA256)
	}
	for k, v := range m {
		m[k] = sortedSet(v)
	}
	return m
}

// handoffMap maps each handoff executable of p to how it left, sorted.
func handoffMap(p *Profile) map[string][]string {
	m := map[string][]string{}
	for _, h := range p.Handoffs() {
		m[h.Executable] = append(m[h.Executable], h.How)
	}
	return m
}

func isRoot(user string) bool { return user == "" || user == "root" || user == "0" }

// protectSystemRank orders protectSystem by strength.
var protectSystemRank = map[string]int{"": 0, "full": 1, "strict": 2}

// compareRun lists changes of run options; a change grants when it
// weakens confinement.
func compareRun(o, n RunOptions) []Change {
	var out []Change
	ch := func(name, ov, nv string, grants bool, note string) {
		if ov != nv {
			out = append(out, Change{Op: "~", Kind: KindRun, Name: name, Old: ov, New: nv, Grants: grants, Note: note})
		}
	}
	shown := func(s string) string {
		if s == "" {
			return "(unset)"
		}
		return s
	}
	// Any user is less than root; between two other users, the new one may
	// reach files the old one could not.
	userGrants, userNote := true, "another user may reach other files"
	switch {
	case isRoot(o.User) && isRoot(n.User):
		userGrants, userNote = false, "both run as root"
	case isRoot(o.User):
		userGrants, userNote = false, "no longer runs as root"
	case isRoot(n.User):
		userNote = "now runs as root"
	}
	ch("user", shown(o.User), shown(n.User), userGrants, userNote)
	groupGrants := !(o.Group == "root" || o.Group == "0")
	ch("group", shown(o.Group), shown(n.Group), groupGrants, "another group may reach other files")
	for _, ns := range setDiff(o.Namespaces, n.Namespaces) {
		out = append(out, Change{Op: "-", Kind: KindRun, Name: "namespace " + ns, Grants: true, Note: "no longer isolated in its own " + ns + " namespace"})
	}
	for _, ns := range setDiff(n.Namespaces, o.Namespaces) {
		out = append(out, Change{Op: "+", Kind: KindRun, Name: "namespace " + ns, Note: "now isolated in its own " + ns + " namespace"})
	}
	b := func(v bool) string { return fmt.Sprint(v) }
	ch("privateTmp", b(o.PrivateTmp), b(n.PrivateTmp), o.PrivateTmp && !n.PrivateTmp, "")
	ch("protectHome", b(o.ProtectHome), b(n.ProtectHome), o.ProtectHome && !n.ProtectHome, "")
	od, nd := o.DevicesPrivate(), n.DevicesPrivate()
	ch("privateDevices", b(od), b(nd), od && !nd, "")
	ok, nk := o.KernelTunablesProtected(), n.KernelTunablesProtected()
	ch("protectKernelTunables", b(ok), b(nk), ok && !nk, "")
	ch("protectSystem", shown(o.ProtectSystem), shown(n.ProtectSystem),
		protectSystemRank[n.ProtectSystem] < protectSystemRank[o.ProtectSystem], "")
	oa, na := actionName(o.DefaultAction), actionName(n.DefaultAction)
	note := ""
	if na == "log" && oa != "log" {
		note = "syscalls outside the profile are now allowed and logged"
	}
	ch("defaultAction", oa, na, na == "log" && oa != "log", note)
	ch("clearEnv", b(o.ClearEnv), b(n.ClearEnv), o.ClearEnv && !n.ClearEnv, "")
	for _, e := range setDiff(n.Env, o.Env) {
		out = append(out, Change{Op: "+", Kind: KindRun, Name: "env " + e, Grants: true, Note: "set in the component's environment"})
	}
	for _, e := range setDiff(o.Env, n.Env) {
		out = append(out, Change{Op: "-", Kind: KindRun, Name: "env " + e})
	}
	return out
}

func actionName(a string) string {
	if a == "" {
		return "errno"
	}
	return a
}

// setDiff returns the sorted members of a not in b.
func setDiff(a, b []string) []string {
	in := map[string]bool{}
	for _, v := range b {
		in[v] = true
	}
	var out []string
	for _, v := range a {
		if !in[v] {
			out = append(out, v)
			in[v] = true
		}
	}
	sort.Strings(out)
	return out
}

func unionKeys[V any](a, b map[string]V) []string {
	m := map[string]bool{}
	for k := range a {
		m[k] = true
	}
	for k := range b {
		m[k] = true
	}
	return sortedKeys(m)
}

// JSON returns d as an indented JSON object: the file names, whether NEW
// grants anything OLD does not, how many changes do, and the changes.
func (d Delta) JSON(oldName, newName string) ([]byte, error) {
	out := struct {
		Old     string   `json:"old"`
		New     string   `json:"new"`
		Grants  bool     `json:"grants"`
		Granted int      `json:"granted"`
		Changes []Change `json:"changes"`
	}{oldName, newName, d.Grants(), d.Granted(), d.Changes}
	if out.Changes == nil {
		out.Changes = []Change{}
	}
	data, err := json.MarshalIndent(out, "", "  ")
	if err != nil {
		return nil, fmt.Errorf("encode diff: %w", err)
	}
	return append(data, '\n'), nil
}

// WriteText writes d for a reviewer: one line per change, grouped by kind,
// and a last line saying whether NEW grants more than OLD.
func (d Delta) WriteText(w io.Writer, oldName, newName string) error {
	var b strings.Builder
	fmt.Fprintf(&b, "--- %s\n+++ %s\n", oldName, newName)
	kind := ""
	for _, c := range d.Changes {
		if c.Kind != kind {
			kind = c.Kind
			fmt.Fprintf(&b, "\n%s:\n", kindTitle[kind])
		}
		b.WriteString(c.line())
		b.WriteByte('\n')
	}
	if len(d.Changes) > 0 {
		b.WriteByte('\n')
	}
	switch n := d.Granted(); {
	case len(d.Changes) == 0:
		b.WriteString("no change in privilege\n")
	case n == 0:
		b.WriteString("NEW grants nothing OLD does not (removals only)\n")
	case n == 1:
		b.WriteString("NEW grants 1 privilege OLD does not\n")
	default:
		fmt.Fprintf(&b, "NEW grants %d privileges OLD does not\n", n)
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// line renders one change: "+ syscall x86_64 ptrace (first by /usr/bin/foo)".
func (c Change) line() string {
	var b strings.Builder
	b.WriteString(c.Op + " " + c.Kind)
	if c.Scope != "" {
		b.WriteString(" " + c.Scope)
	}
	b.WriteString(" " + c.Name)
	switch {
	case c.Kind == KindExecutable && c.Op == "~":
		fmt.Fprintf(&b, " sha256 %s -> %s", c.Old, c.New)
	case c.Kind == KindExecutable && c.Op == "+":
		b.WriteString(" sha256 " + c.New)
	case c.Kind == KindExecutable && c.Op == "-":
		b.WriteString(" sha256 " + c.Old)
	case c.Kind == KindHandoff && c.Op == "+":
		b.WriteString(" (" + c.New + ")")
	case c.Kind == KindHandoff && c.Op == "-":
		b.WriteString(" (" + c.Old + ")")
	case c.Kind == KindProtocol && c.Op == "~":
		fmt.Fprintf(&b, " %s -> %s", c.Old, c.New)
	case c.Op == "~":
		fmt.Fprintf(&b, ": %s -> %s", c.Old, c.New)
	}
	var notes []string
	if c.By != "" {
		notes = append(notes, "first by "+c.By)
	}
	if c.Note != "" {
		notes = append(notes, c.Note)
	}
	if len(notes) > 0 {
		b.WriteString(" (" + strings.Join(notes, "; ") + ")")
	}
	if c.Grants && c.Op != "+" {
		b.WriteString(" [grants]")
	}
	return b.String()
}
