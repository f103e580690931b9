package profiles

import (
	"sort"
	"strings"
	"time"
)

// Normalize puts p in its canonical form, so that profiles meaning the
// same thing are deeply equal and marshal to the same bytes: lists that
// are sets (socket types, netlink protocols, namespaces, widenings, run
// namespaces and environment, executables) are sorted and deduplicated,
// runs are sorted by start time, and empty maps and lists become nil.
func (p *Profile) Normalize() {
	for abi, calls := range p.Syscalls {
		if len(calls) == 0 {
			delete(p.Syscalls, abi)
		}
	}
	if len(p.Syscalls) == 0 {
		p.Syscalls = nil
	}
	p.Capabilities.Needed = nilIfEmpty(p.Capabilities.Needed)
	p.Capabilities.Noaudit = nilIfEmpty(p.Capabilities.Noaudit)
	p.Capabilities.Denied = nilIfEmpty(p.Capabilities.Denied)
	for f, fam := range p.Families {
		fam.Types = sortedSet(fam.Types)
		fam.Protocols = sortedSet(fam.Protocols)
		p.Families[f] = fam
	}
	p.Families = nilIfEmpty(p.Families)
	p.Namespaces = sortedSet(p.Namespaces)
	p.Widen = sortedSet(p.Widen)
	p.Run.Namespaces = sortedSet(p.Run.Namespaces)
	p.Run.Env = sortedSet(p.Run.Env)

	runs := p.Provenance.Runs
	for i := range runs {
		if len(runs[i].Command) == 0 {
			runs[i].Command = nil
		}
		runs[i].Methods = nilIfEmpty(runs[i].Methods)
		if len(runs[i].Incomplete) == 0 {
			runs[i].Incomplete = nil
		}
		runs[i].Handoffs = sortedHandoffs(runs[i].Handoffs)
	}
	sort.SliceStable(runs, func(i, j int) bool { return runLess(&runs[i], &runs[j]) })
	if len(runs) == 0 {
		runs = nil
	}
	p.Provenance.Runs = runs

	exes := p.Provenance.Executables
	sort.Slice(exes, func(i, j int) bool {
		if exes[i].Path != exes[j].Path {
			return exes[i].Path < exes[j].Path
		}
		return exes[i].SHA256 < exes[j].SHA256
	})
	out := exes[:0]
	for i, e := range exes {
		if i == 0 || e != exes[i-1] {
			out = append(out, e)
		}
	}
	if len(out) == 0 {
		out = nil
	}
	p.Provenance.Executables = out
}

// runLess orders runs by start time, then by anything else that tells
// them apart, so that the order never depends on how they were merged.
func runLess(a, b *Run) bool {
	ta, ea := time.Parse(time.RFC3339Nano, a.Started)
	tb, eb := time.Parse(time.RFC3339Nano, b.Started)
	if ea == nil && eb == nil && !ta.Equal(tb) {
		return ta.Before(tb)
	}
	if (ea == nil) != (eb == nil) {
		return ea == nil // runs with a time first
	}
	for _, c := range [][2]string{
		{a.Started, b.Started}, {a.Host, b.Host}, {a.User, b.User},
		{strings.Join(a.Command, "\x00"), strings.Join(b.Command, "\x00")},
		{a.Kernel, b.Kernel}, {a.Leash, b.Leash}, {a.Duration, b.Duration},
		{strings.Join(a.Incomplete, "\x00"), strings.Join(b.Incomplete, "\x00")},
		{joinMap(a.Methods), joinMap(b.Methods)},
		{joinHandoffs(a.Handoffs), joinHandoffs(b.Handoffs)},
	} {
		if c[0] != c[1] {
			return c[0] < c[1]
		}
	}
	if a.ExitCode != b.ExitCode {
		return a.ExitCode < b.ExitCode
	}
	return a.Processes < b.Processes
}

// sortedHandoffs sorts hs by executable, then how, and drops repeats, in
// place; empty becomes nil.
func sortedHandoffs(hs []Handoff) []Handoff {
	if len(hs) == 0 {
		return nil
	}
	sort.Slice(hs, func(i, j int) bool {
		if hs[i].Executable != hs[j].Executable {
			return hs[i].Executable < hs[j].Executable
		}
		return hs[i].How < hs[j].How
	})
	out := hs[:1]
	for _, h := range hs[1:] {
		if h != out[len(out)-1] {
			out = append(out, h)
		}
	}
	return out
}

func joinHandoffs(hs []Handoff) string {
	var b strings.Builder
	for _, h := range hs {
		b.WriteString(h.Executable + "\x00" + h.How + "\x00")
	}
	return b.String()
}

func joinMap(m map[string]string) string {
	var b strings.Builder
	for _, k := range sortedKeys(m) {
		b.WriteString(k + "=" + m[k] + "\x00")
	}
	return b.String()
}

func nilIfEmpty[V any](m map[string]V) map[string]V {
	if len(m) == 0 {
		return nil
	}
	return m
}

// sortedSet sorts s and drops repeats, in place; empty becomes nil.
func sortedSet(s []string) []string {
	if len(s) == 0 {
		return nil
	}
	sort.Strings(s)
	out := s[:1]
	for _, v := range s[1:] {
		if v != out[len(out)-1] {
			out = append(out, v)
		}
	}
	return out
}

// Clone returns a deep copy of p.
func (p *Profile) Clone() *Profile {
	if p == nil {
		return nil
	}
	q := *p
	if p.Syscalls != nil {
		q.Syscalls = make(map[string]map[string]string, len(p.Syscalls))
		for abi, calls := range p.Syscalls {
			q.Syscalls[abi] = cloneMap(calls)
		}
	}
	q.Capabilities.Needed = cloneMap(p.Capabilities.Needed)
	q.Capabilities.Noaudit = cloneMap(p.Capabilities.Noaudit)
	q.Capabilities.Denied = cloneMap(p.Capabilities.Denied)
	if p.Families != nil {
		q.Families = make(map[string]Family, len(p.Families))
		for f, fam := range p.Families {
			fam.Types = cloneSlice(fam.Types)
			fam.Protocols = cloneSlice(fam.Protocols)
			q.Families[f] = fam
		}
	}
	q.Namespaces = cloneSlice(p.Namespaces)
	q.Widen = cloneSlice(p.Widen)
	q.Run.Namespaces = cloneSlice(p.Run.Namespaces)
	q.Run.Env = cloneSlice(p.Run.Env)
	q.Run.PrivateDevices = clonePtr(p.Run.PrivateDevices)
	q.Run.ProtectKernelTunables = clonePtr(p.Run.ProtectKernelTunables)
	if p.Provenance.Runs != nil {
		q.Provenance.Runs = make([]Run, len(p.Provenance.Runs))
		for i, r := range p.Provenance.Runs {
			r.Command = cloneSlice(r.Command)
			r.Methods = cloneMap(r.Methods)
			r.Incomplete = cloneSlice(r.Incomplete)
			r.Handoffs = cloneSlice(r.Handoffs)
			q.Provenance.Runs[i] = r
		}
	}
	q.Provenance.Executables = cloneSlice(p.Provenance.Executables)
	return &q
}

func cloneMap[V any](m map[string]V) map[string]V {
	if m == nil {
		return nil
	}
	out := make(map[string]V, len(m))
	for k, v := range m {
		out[k] = v
	}
	return out
}

func cloneSlice[T any](s []T) []T {
	if s == nil {
		return nil
	}
	return append([]T(nil), s...)
}

// Handoffs lists the handoffs of every training run, sorted, without
// repeats.
func (p *Profile) Handoffs() []Handoff {
	var out []Handoff
	for _, r := range p.Provenance.Runs {
		out = append(out, r.Handoffs...)
	}
	return sortedHandoffs(out)
}

// Incomplete reports whether any training run may have missed something.
func (p *Profile) Incomplete() bool {
	for _, r := range p.Provenance.Runs {
		if len(r.Incomplete) > 0 {
			return true
		}
	}
	return false
}

func clonePtr[T any](p *T) *T {
	if p == nil {
		return nil
	}
	v := *p
	return &v
}
