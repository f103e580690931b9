package profiles

import (
	"errors"
	"fmt"
)

// ErrComponentMismatch is returned by Merge when the profiles are of
// different components and no component was given to override it.
var ErrComponentMismatch = errors.New("profiles are of different components")

// MergeOptions change how Merge combines profiles.
type MergeOptions struct {
	// Component, when set, names the merged profile, and profiles of other
	// components may be merged into it.
	Component string
}

// Merge is MergeWith with no options: every profile must be of the same
// component.
func Merge(ps ...*Profile) (*Profile, error) { return MergeWith(MergeOptions{}, ps...) }

// MergeWith combines training runs, across runs and hosts, into one
// profile that allows what any of them needed:
//
//   - syscalls per ABI, families and their socket types, netlink
//     protocols, namespaces, widenings, executables: the union; each
//     entry keeps the By of the first profile (in argument order) that
//     has it. AF_NETLINK without protocols in any profile (any protocol)
//     stays without protocols: the union of any and some is any;
//   - capabilities: counts are summed, and the group is recomputed: needed
//     if needed in any profile; else denied if an audited check was denied
//     in any (it was never granted in an audited check); else noaudit;
//   - runs: concatenated, so the provenance of every training run is kept.
//
// Run options (user, namespaces, ...) are taken from the first profile:
// they are how to confine the component, not something learned.
// The inputs are not modified.
func MergeWith(opts MergeOptions, ps ...*Profile) (*Profile, error) {
	if len(ps) == 0 {
		return nil, errors.New("merge profiles: nothing to merge")
	}
	for i, p := range ps {
		if p == nil {
			return nil, fmt.Errorf("merge profiles: profile %d is nil", i+1)
		}
	}
	out := &Profile{
		APIVersion: APIVersion,
		Component:  ps[0].Component,
		Run:        ps[0].Clone().Run,
	}
	if opts.Component != "" {
		out.Component = opts.Component
	} else {
		for _, p := range ps[1:] {
			if p.Component != out.Component {
				return nil, fmt.Errorf("merge profiles: component %q and %q: %w (name the merged one with --component)", out.Component, p.Component, ErrComponentMismatch)
			}
		}
	}

	type capSum struct {
		use                     CapUse
		needed, denied, noaudit bool
		neededBy, deniedBy      string
	}
	caps := map[string]*capSum{}
	var capOrder []string
	addCaps := func(m map[string]CapUse, set func(*capSum, string)) {
		for _, name := range sortedKeys(m) {
			u := m[name]
			s, ok := caps[name]
			if !ok {
				s = &capSum{}
				caps[name] = s
				capOrder = append(capOrder, name)
			}
			s.use.Granted += u.Granted
			s.use.Denied += u.Denied
			if s.use.By == "" {
				s.use.By = u.By
			}
			set(s, u.By)
		}
	}

	widen := map[string]bool{}
	ns := map[string]bool{}
	// Families some profile lists without protocols: any protocol.
	anyProtocol := map[string]bool{}
	for _, p := range ps {
		for abi, calls := range p.Syscalls {
			if out.Syscalls == nil {
				out.Syscalls = map[string]map[string]string{}
			}
			if out.Syscalls[abi] == nil {
				out.Syscalls[abi] = map[string]string{}
			}
			for name, by := range calls {
				if old, ok := out.Syscalls[abi][name]; !ok || old == "" {
					out.Syscalls[abi][name] = by
				}
			}
		}
		addCaps(p.Capabilities.Needed, func(s *capSum, by string) {
			s.needed = true
			if s.neededBy == "" {
				s.neededBy = by
			}
		})
		addCaps(p.Capabilities.Denied, func(s *capSum, by string) {
			s.denied = true
			if s.deniedBy == "" {
				s.deniedBy = by
			}
		})
		addCaps(p.Capabilities.Noaudit, func(s *capSum, _ string) { s.noaudit = true })
		for f, fam := range p.Families {
			if out.Families == nil {
				out.Families = map[string]Family{}
			}
			cur, ok := out.Families[f]
			if !ok || cur.By == "" {
				cur.By = fam.By
			}
			cur.Types = append(cur.Types, fam.Types...)
			cur.Protocols = append(cur.Protocols, fam.Protocols...)
			out.Families[f] = cur
			if len(fam.Protocols) == 0 {
				anyProtocol[f] = true
			}
		}
		for _, n := range p.Namespaces {
			ns[n] = true
		}
		for _, w := range p.Widen {
			widen[w] = true
		}
		q := p.Clone()
		out.Provenance.Runs = append(out.Provenance.Runs, q.Provenance.Runs...)
		out.Provenance.Executables = append(out.Provenance.Executables, q.Provenance.Executables...)
	}
	for _, name := range capOrder {
		s := caps[name]
		var group *map[string]CapUse
		switch {
		case s.needed:
			group = &out.Capabilities.Needed
			s.use.By = firstNonEmpty(s.neededBy, s.use.By)
		case s.denied:
			group = &out.Capabilities.Denied
			s.use.By = firstNonEmpty(s.deniedBy, s.use.By)
		default:
			group = &out.Capabilities.Noaudit
		}
		if *group == nil {
			*group = map[string]CapUse{}
		}
		(*group)[name] = s.use
	}
	for f := range anyProtocol {
		fam := out.Families[f]
		fam.Protocols = nil
		out.Families[f] = fam
	}
	out.Namespaces = sortedKeys(ns)
	out.Widen = sortedKeys(widen)
	out.Normalize()
	return out, nil
}

func firstNonEmpty(s ...string) string {
	for _, v := range s {
		if v != "" {
			return v
		}
	}
	return ""
}
