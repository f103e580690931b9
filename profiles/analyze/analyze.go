// Package analyze rates how exposed a component is under its profile, in
// the manner of `systemd-analyze security`: a score from 0 to 10 (10 is
// the most exposed) and a list of findings, worst first, each saying in
// one line why it matters. It lives under profiles because it reads
// nothing but a profile; it needs no root and no kernel.
//
// # How the score is computed
//
// Every finding has points, a fixed judgement of how much it adds to what
// a compromised component could do (CAP_SYS_ADMIN 15, io_uring 10, running
// as root 10, AF_INET 1; checks.go lists them all). AF_NETLINK is rated
// by protocol (NETLINK_AUDIT 2, NETLINK_ROUTE 0.25, ...); AF_NETLINK with
// no protocols listed allows any, and weighs every protocol together. The points of all
// findings add up to P, and
//
//	score = 10 × (1 − e^(−P/20))
//
// rounded to one decimal. One serious finding alone gives a middling score
// (root: 3.9, CAP_SYS_ADMIN: 5.3), several push it towards 10, and
// nothing can exceed 10. Points are never negative and each finding only
// depends on what the profile grants, so granting more (a capability, a
// syscall, a family, a namespace to create, fewer namespaces to run in)
// never lowers the score. Ratings: below 1 "safe", below 3 "ok", below 5
// "medium", below 8 "exposed", else "unsafe".
//
// What is locked down is listed too, as "ok" lines with no points.
package analyze

import (
	"fmt"
	"math"
	"sort"
	"strings"

	"github.com/leash-project/leash/linux"
	"github.com/leash-project/leash/profiles"
)

// Scale is the points at which the score reaches 10 × (1 − 1/e) ≈ 6.3.
const Scale = 20

// Severity ranks a finding by its points.
type Severity int

// Severities, from locked down to worst.
const (
	OK Severity = iota
	Low
	Medium
	High
	Critical
)

var severityNames = [...]string{"ok", "low", "medium", "high", "critical"}

func (s Severity) String() string {
	if s < OK || s > Critical {
		return "unknown"
	}
	return severityNames[s]
}

// MarshalText encodes a severity by name, for JSON.
func (s Severity) MarshalText() ([]byte, error) { return []byte(s.String()), nil }

// UnmarshalText decodes a severity name, so that reports read back.
func (s *Severity) UnmarshalText(b []byte) error {
	for i, n := range severityNames {
		if string(b) == n {
			*s = Severity(i)
			return nil
		}
	}
	return fmt.Errorf("unknown severity %q", b)
}

// severityOf maps points to a severity: 10 and more critical, 5 high, 2
// medium, anything above 0 low.
func severityOf(points float64) Severity {
	switch {
	case points >= 10:
		return Critical
	case points >= 5:
		return High
	case points >= 2:
		return Medium
	case points > 0:
		return Low
	}
	return OK
}

// Finding kinds.
const (
	KindUser       = "user"
	KindAction     = "default-action"
	KindCapability = "capability"
	KindSyscall    = "syscall"
	KindABI        = "abi"
	KindFamily     = "family"
	KindNamespace  = "namespace"
	KindCreate     = "create-namespace"
	KindFilesystem = "filesystem"
	KindEnv        = "environment"
)

// Finding is one line of the report.
type Finding struct {
	Severity Severity `json:"severity"`
	Kind     string   `json:"kind"`
	Item     string   `json:"item"`
	Why      string   `json:"why"`
	// Points is what the finding adds to the score; 0 for ok lines.
	Points float64 `json:"points"`
	// By is the first executable seen using it, when the profile says.
	By string `json:"by,omitempty"`
}

// Report is the analysis of one profile.
type Report struct {
	Component string    `json:"component"`
	Score     float64   `json:"score"`
	Rating    string    `json:"rating"`
	Points    float64   `json:"points"`
	Findings  []Finding `json:"findings"`
}

// Score maps a sum of points to the 0-10 score, rounded to one decimal.
func Score(points float64) float64 {
	if points <= 0 {
		return 0
	}
	return math.Round(100*(1-math.Exp(-points/Scale))) / 10
}

// Rating names a score's band.
func Rating(score float64) string {
	switch {
	case score < 1:
		return "safe"
	case score < 3:
		return "ok"
	case score < 5:
		return "medium"
	case score < 8:
		return "exposed"
	}
	return "unsafe"
}

// Options add what the profile alone does not say.
type Options struct {
	// Widened maps syscalls the filter allows beyond the profile's own (its
	// widenings, see the seccomp package) to where they come from, shown
	// as who uses them. Syscalls the profile lists keep their executable.
	Widened map[string]string
}

// Analyze rates p from the profile alone.
func Analyze(p *profiles.Profile) *Report { return AnalyzeWith(p, Options{}) }

// AnalyzeWith rates p, counting what o adds.
func AnalyzeWith(p *profiles.Profile, o Options) *Report {
	a := &analysis{p: p, opts: o}
	a.user()
	a.action()
	a.capabilities()
	a.syscalls()
	a.families()
	a.runNamespaces()
	a.createNamespaces()
	a.filesystem()

	r := &Report{Component: p.Component, Findings: a.findings}
	for _, f := range r.Findings {
		r.Points += f.Points
	}
	r.Points = math.Round(r.Points*100) / 100
	r.Score = Score(r.Points)
	r.Rating = Rating(r.Score)
	// Worst first; findings of equal points by kind and item, so that the
	// order never depends on map iteration; ok lines in the order checked.
	sort.SliceStable(r.Findings, func(i, j int) bool {
		fi, fj := r.Findings[i], r.Findings[j]
		if fi.Points != fj.Points {
			return fi.Points > fj.Points
		}
		if fi.Points == 0 {
			return false
		}
		if fi.Kind != fj.Kind {
			return fi.Kind < fj.Kind
		}
		return fi.Item < fj.Item
	})
	if r.Findings == nil {
		r.Findings = []Finding{}
	}
	return r
}

type analysis struct {
	p        *profiles.Profile
	opts     Options
	findings []Finding
}

func (a *analysis) add(kind, item string, r rated, by string) {
	a.findings = append(a.findings, Finding{Severity: severityOf(r.points), Kind: kind, Item: item, Why: r.why, Points: r.points, By: by})
}

func (a *analysis) ok(kind, item, why string) {
	a.findings = append(a.findings, Finding{Severity: OK, Kind: kind, Item: item, Why: why})
}

func (a *analysis) logMode() bool { return a.p.Run.DefaultAction == "log" }

func (a *analysis) user() {
	run := a.p.Run
	switch run.User {
	case "", "root", "0":
		item := "runs as root"
		if run.User == "" {
			item = "runs as root (no run.user)"
		}
		a.add(KindUser, item, rootUser, "")
	default:
		a.ok(KindUser, "runs as "+run.User, "not root: only what the user owns and the capabilities below")
	}
	switch run.Group {
	case "root", "0":
		a.add(KindUser, "group root", rootGroup, "")
	}
	if !run.ClearEnv {
		a.add(KindEnv, "environment inherited", keepEnv, "")
	} else {
		a.ok(KindEnv, "environment cleared", "starts with an empty environment but for run.env")
	}
}

func (a *analysis) action() {
	switch a.p.Run.DefaultAction {
	case "log":
		a.add(KindAction, "defaultAction log", logAction, "")
	case "kill-process":
		a.ok(KindAction, "defaultAction kill-process", "a syscall outside the profile kills the component")
	default:
		a.ok(KindAction, "defaultAction errno", "a syscall outside the profile fails with EPERM")
	}
}

func (a *analysis) capabilities() {
	needed := a.p.Capabilities.Needed
	if len(needed) == 0 {
		a.ok(KindCapability, "no capabilities", "the bounding, permitted and ambient sets are empty")
		return
	}
	for name, use := range needed {
		r, known := capabilities[name]
		if !known {
			r = unratedCapability
		}
		a.add(KindCapability, name, r, use.By)
	}
}

// allowed returns the syscalls the component may make on any ABI, with
// the first executable seen making each.
func (a *analysis) allowed() map[string]string {
	abis := make([]string, 0, len(a.p.Syscalls))
	for abi := range a.p.Syscalls {
		abis = append(abis, abi)
	}
	// A stable By: native ABIs first, the i386 compat ABI last.
	sort.Slice(abis, func(i, j int) bool {
		if ci, cj := abis[i] == "i386", abis[j] == "i386"; ci != cj {
			return cj
		}
		return abis[i] < abis[j]
	})
	out := map[string]string{}
	for _, abi := range abis {
		for name, by := range a.p.Syscalls[abi] {
			if _, seen := out[name]; !seen {
				out[name] = by
			}
		}
	}
	for name, from := range a.opts.Widened {
		if _, seen := out[name]; !seen {
			out[name] = from
		}
	}
	return out
}

func (a *analysis) syscalls() {
	allowed := a.allowed()
	for _, g := range syscallGroups {
		var names []string
		by := ""
		for _, s := range g.syscalls {
			b, ok := allowed[s]
			if !ok && !a.logMode() {
				continue
			}
			names = append(names, s)
			if by == "" {
				by = b
			}
		}
		if len(names) == 0 {
			a.ok(KindSyscall, g.name, "denied: "+strings.Join(g.syscalls, ", "))
			continue
		}
		item := strings.Join(names, ", ")
		r := g.rated
		if a.logMode() {
			item = g.name + " (not enforced)"
		} else if g.name == unshareGroup && len(a.p.Namespaces) == 0 {
			r = unshareNoNew
		}
		a.add(KindSyscall, item, r, by)
	}
	if calls := a.p.Syscalls["i386"]; len(calls) > 0 {
		a.add(KindABI, "i386 ABI", i386ABI, "")
	} else if _, native := a.p.Syscalls["x86_64"]; native {
		a.ok(KindABI, "x86_64 only", "the i386 compat ABI is denied")
	}
}

func (a *analysis) usesInet() bool {
	_, v4 := a.p.Families["AF_INET"]
	_, v6 := a.p.Families["AF_INET6"]
	return v4 || v6
}

func (a *analysis) hasRunNamespace(ns string) bool {
	for _, n := range a.p.Run.Namespaces {
		if n == ns {
			return true
		}
	}
	return false
}

func (a *analysis) families() {
	for name, fam := range a.p.Families {
		if name == netlinkFamily {
			a.netlink(fam)
			continue
		}
		r, known := families[name]
		if !known {
			r = rareFamily
		}
		inet := name == "AF_INET" || name == "AF_INET6"
		if inet && a.hasRunNamespace("net") {
			r = isolatedInet
		}
		if r.points > 0 {
			a.add(KindFamily, name, r, fam.By)
		}
		if inet {
			for _, t := range fam.Types {
				if t == "SOCK_RAW" || t == "SOCK_PACKET" {
					a.add(KindFamily, name+" "+t, rawSocket, fam.By)
				}
			}
		}
	}
}

// netlinkFamily is the family rated by protocol.
var netlinkFamily = linux.FamilyName(linux.AFNetlink)

// netlink rates AF_NETLINK: one finding per protocol, or one for any
// protocol when the profile lists none.
func (a *analysis) netlink(fam profiles.Family) {
	if len(fam.Protocols) == 0 {
		a.add(KindFamily, netlinkFamily+" (any netlink protocol)", anyNetlink, fam.By)
		return
	}
	for _, p := range fam.Protocols {
		r, known := netlinkProtocols[p]
		if !known {
			r = rareNetlink
		}
		a.add(KindFamily, netlinkFamily+" "+p, r, fam.By)
	}
}

// netlinkTotal is the points of every netlink protocol leash knows
// together, rounded to hundredths: what any protocol weighs.
func netlinkTotal() float64 {
	sum := 0.0
	for n := 0; n < 32; n++ {
		name := linux.NetlinkProtocolName(n)
		if _, ok := linux.NetlinkProtocolNumber(name); !ok {
			continue
		}
		r, rated := netlinkProtocols[name]
		if !rated {
			r = rareNetlink
		}
		sum += r.points
	}
	return math.Round(sum*100) / 100
}

func (a *analysis) runNamespaces() {
	for _, ns := range runNamespaces {
		if a.hasRunNamespace(ns.name) {
			a.ok(KindNamespace, ns.name+" namespace", ns.ok)
			continue
		}
		r := ns.rated
		if ns.name == "net" && a.usesInet() {
			r.why = netWithInet
		}
		a.add(KindNamespace, "no "+ns.name+" namespace", r, "")
	}
}

func (a *analysis) createNamespaces() {
	if len(a.p.Namespaces) == 0 {
		a.ok(KindCreate, "creates no namespaces", "clone and unshare may not create namespaces")
		return
	}
	for _, ns := range a.p.Namespaces {
		r, known := createNamespaces[ns]
		if !known {
			r = unratedNamespace
		}
		a.add(KindCreate, "creates "+ns+" namespaces", r, "")
	}
}

func (a *analysis) filesystem() {
	run := a.p.Run
	switch run.ProtectSystem {
	case "strict":
		a.ok(KindFilesystem, "protectSystem strict", "the whole file system is read-only but for what the profile allows")
	case "full":
		a.add(KindFilesystem, "protectSystem full", fullProtect, "")
	default:
		a.add(KindFilesystem, "no protectSystem", noProtectSys, "")
	}
	if run.ProtectHome {
		a.ok(KindFilesystem, "protectHome", "/home, /root and /run/user are hidden")
	} else {
		a.add(KindFilesystem, "no protectHome", noProtectHome, "")
	}
	if run.PrivateTmp {
		a.ok(KindFilesystem, "privateTmp", "a /tmp of its own")
	} else {
		a.add(KindFilesystem, "no privateTmp", noPrivateTmp, "")
	}
	if run.DevicesPrivate() {
		a.ok(KindFilesystem, "privateDevices", "a /dev of its own with the pseudo devices only")
	} else {
		a.add(KindFilesystem, "privateDevices off", hostDevices, "")
	}
	if run.KernelTunablesProtected() {
		a.ok(KindFilesystem, "protectKernelTunables", "/proc/sys, /sys and the other kernel tunables are read-only")
	} else {
		a.add(KindFilesystem, "protectKernelTunables off", rwTunables, "")
	}
	if (run.ProtectSystem != "" || run.ProtectHome || run.PrivateTmp) && !a.hasRunNamespace("pid") {
		a.add(KindFilesystem, "file-system protections without a pid namespace", protectNoPID, "")
	}
}
