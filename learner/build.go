// Package learner turns what a learning session observed into a profile,
// and runs learning sessions: it starts the command through a stub that
// waits to be tracked, forwards signals, waits for the whole process tree
// (bounded by a linger time), and writes the profile atomically.
//
// Build is pure Go (observations in, profiles.Profile out) and is tested
// with recorded observations. Session handling uses learner/trace, which
// holds everything that touches the kernel.
//
// The start is race-free by construction: leash re-executes itself as a
// stub (StubRole) that drops to the training user, says it is ready on a
// pipe (its own execve is then behind it), and blocks on a second pipe.
// leash puts the stub's pid in the tracer's pending table and releases it;
// the stub execs CMD, and that execve starts the recording. Nothing of
// leash or the stub is recorded, and nothing of CMD is missed.
//
// CMD stays in leash's process group, so a terminal's ^C reaches it
// directly; leash also forwards SIGINT, SIGTERM, SIGHUP and SIGQUIT (so a
// ^C may arrive twice, as under most supervisors).
package learner

import (
	"fmt"
	"sort"
	"time"

	"github.com/leash-project/leash/learner/trace"
	"github.com/leash-project/leash/linux"
	"github.com/leash-project/leash/profiles"
)

// RunInfo is what Build needs besides the observations: the provenance of
// the training run.
type RunInfo struct {
	Component   string
	Command     []string
	User        string
	Host        string
	Kernel      string
	Leash       string
	Started     time.Time
	Duration    time.Duration
	ExitCode    int
	Methods     map[string]string
	Incomplete  []string // problems found outside the kernel maps
	Executables []profiles.Executable
}

// Build makes the profile of one training run.
func Build(obs *trace.Observations, run RunInfo) *profiles.Profile {
	p := &profiles.Profile{
		APIVersion: profiles.APIVersion,
		Component:  run.Component,
		Syscalls:   map[string]map[string]string{},
	}
	for _, sc := range obs.Syscalls {
		name := linux.SyscallName(linux.Arch(sc.ABI), sc.Nr)
		if name == "" {
			run.Incomplete = append(run.Incomplete, fmt.Sprintf("unknown %s syscall %d seen", sc.ABI, sc.Nr))
			continue
		}
		if p.Syscalls[sc.ABI] == nil {
			p.Syscalls[sc.ABI] = map[string]string{}
		}
		p.Syscalls[sc.ABI][name] = sc.Exe
	}

	// Capabilities: audited checks decide needed/denied; a capability only
	// ever checked silently is noaudit.
	type capSum struct {
		audited, noaudit profiles.CapUse
		hasAudited       bool
		hasNoaudit       bool
	}
	caps := map[int]*capSum{}
	var capOrder []int
	for _, c := range obs.Caps {
		s := caps[c.Cap]
		if s == nil {
			s = &capSum{}
			caps[c.Cap] = s
			capOrder = append(capOrder, c.Cap)
		}
		u := &s.audited
		if c.Noaudit {
			u = &s.noaudit
			s.hasNoaudit = true
		} else {
			s.hasAudited = true
		}
		u.Granted += c.Granted
		u.Denied += c.Denied
		if u.By == "" {
			u.By = c.Exe
		}
	}
	sort.Ints(capOrder)
	for _, c := range capOrder {
		s := caps[c]
		name := linux.CapName(c)
		if _, ok := linux.CapNumber(name); !ok {
			run.Incomplete = append(run.Incomplete, fmt.Sprintf("capability %d (unknown to leash) checked and left out", c))
			continue
		}
		switch {
		case s.hasAudited && s.audited.Granted > 0:
			p.Capabilities.Needed = setCap(p.Capabilities.Needed, name, s.audited)
		case s.hasAudited:
			p.Capabilities.Denied = setCap(p.Capabilities.Denied, name, s.audited)
		case s.hasNoaudit:
			p.Capabilities.Noaudit = setCap(p.Capabilities.Noaudit, name, s.noaudit)
		}
	}

	for _, f := range obs.Families {
		name := linux.FamilyName(f.Family)
		t := linux.SockTypeName(f.Type)
		_, knownFamily := linux.FamilyNumber(name)
		_, knownType := linux.SockTypeNumber(t)
		if !knownFamily || !knownType {
			// socket(2) fails for these: nothing to allow, but say so.
			run.Incomplete = append(run.Incomplete, fmt.Sprintf("socket family %d type %d (unknown to leash) seen and left out", f.Family, f.Type))
			continue
		}
		var proto string
		if f.Family == linux.AFNetlink {
			proto = linux.NetlinkProtocolName(f.Protocol)
			if _, ok := linux.NetlinkProtocolNumber(proto); !ok {
				run.Incomplete = append(run.Incomplete, fmt.Sprintf("netlink protocol %d (unknown to leash) seen and left out", f.Protocol))
				continue
			}
		}
		fam := p.Families[name]
		if !contains(fam.Types, t) {
			fam.Types = append(fam.Types, t)
			sort.Strings(fam.Types)
		}
		if proto != "" && !contains(fam.Protocols, proto) {
			fam.Protocols = append(fam.Protocols, proto)
			sort.Strings(fam.Protocols)
		}
		if fam.By == "" {
			fam.By = f.Exe
		}
		if p.Families == nil {
			p.Families = map[string]profiles.Family{}
		}
		p.Families[name] = fam
	}

	for _, ns := range linux.NamespaceNames() {
		flag, _ := linux.NamespaceFlag(ns)
		if obs.NamespaceFlags&flag != 0 {
			p.Namespaces = append(p.Namespaces, ns)
		}
	}

	var handoffs []profiles.Handoff
	for _, h := range obs.Handoffs {
		exe := h.Exe
		if exe == "" {
			exe = profiles.HandoffUnknownExecutable
		}
		how := profiles.HandoffLeash
		if !h.Leash {
			how = profiles.HandoffAnnounced
			run.Incomplete = append(run.Incomplete, AnnouncedIncomplete(exe))
		}
		handoffs = append(handoffs, profiles.Handoff{Executable: exe, How: how})
	}

	p.Run.User = run.User
	r := profiles.Run{
		Command:    run.Command,
		User:       run.User,
		Host:       run.Host,
		Kernel:     run.Kernel,
		Leash:      run.Leash,
		Started:    run.Started.UTC().Format(time.RFC3339),
		ExitCode:   run.ExitCode,
		Processes:  obs.Processes,
		Methods:    run.Methods,
		Incomplete: append(append([]string(nil), obs.Incomplete...), run.Incomplete...),
		Handoffs:   handoffs,
	}
	if run.Duration > 0 {
		r.Duration = run.Duration.Round(time.Millisecond).String()
	}
	p.Provenance.Runs = []profiles.Run{r}
	p.Provenance.Executables = run.Executables
	return p
}

// AnnouncedIncomplete is the incompleteness of a run in which a process
// of exe, not leash's own binary, announced itself as a nested tracer.
func AnnouncedIncomplete(exe string) string {
	return fmt.Sprintf("%s announced itself as a nested leash tracer but is not this leash's binary: what it and its children did afterwards is not recorded", exe)
}

// HandoffNote is the note leash prints for a handoff.
func HandoffNote(h profiles.Handoff) string {
	if h.How == profiles.HandoffLeash {
		return fmt.Sprintf("%s (leash) took over part of the run: what it and its children did is in its own profile, not this one (provenance handoffs)", h.Executable)
	}
	return fmt.Sprintf("%s announced itself as a nested leash tracer: what it and its children did afterwards is not in this profile (provenance handoffs)", h.Executable)
}

func setCap(m map[string]profiles.CapUse, name string, u profiles.CapUse) map[string]profiles.CapUse {
	if m == nil {
		m = map[string]profiles.CapUse{}
	}
	m[name] = u
	return m
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}
