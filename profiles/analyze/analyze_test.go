package analyze

import (
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/leash-project/leash/linux"
	"github.com/leash-project/leash/profiles"
)

var update = flag.Bool("update", false, "rewrite the golden reports in testdata/analyze")

var goldenDir = filepath.Join("..", "..", "testdata", "analyze")

// TestGolden analyzes every profile in testdata/analyze and compares the
// text and JSON reports with NAME.txt and NAME.json.
func TestGolden(t *testing.T) {
	inputs, err := filepath.Glob(filepath.Join(goldenDir, "*.yaml"))
	if err != nil || len(inputs) < 3 {
		t.Fatalf("want several profiles in %s, found %d (%v)", goldenDir, len(inputs), err)
	}
	for _, in := range inputs {
		name := strings.TrimSuffix(filepath.Base(in), ".yaml")
		t.Run(name, func(t *testing.T) {
			p, err := profiles.Load(in)
			if err != nil {
				t.Fatal(err)
			}
			r := Analyze(p)
			var text, js bytes.Buffer
			if err := r.WriteText(&text); err != nil {
				t.Fatal(err)
			}
			if err := r.WriteJSON(&js); err != nil {
				t.Fatal(err)
			}
			golden(t, filepath.Join(goldenDir, name+".txt"), text.Bytes())
			golden(t, filepath.Join(goldenDir, name+".json"), js.Bytes())
		})
	}
}

func golden(t *testing.T, path string, got []byte) {
	t.Helper()
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -update to create it)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s differs (run go test -update and review the diff):\n--- got\n%s", path, got)
	}
}

func load(t *testing.T, name string) *profiles.Profile {
	t.Helper()
	p, err := profiles.Load(filepath.Join(goldenDir, name))
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// TestScoreBands: the everything-allowed root profile is unsafe, the tight
// one safe, and the others in between, in the order of what they grant.
func TestScoreBands(t *testing.T) {
	root := Analyze(load(t, "root-everything.yaml"))
	tight := Analyze(load(t, "tight.yaml"))
	executor := Analyze(load(t, "executor.yaml"))
	if root.Score < 9 || root.Rating != "unsafe" {
		t.Errorf("root everything-allowed: %.1f %s, want >= 9 unsafe", root.Score, root.Rating)
	}
	if tight.Score >= 1 || tight.Rating != "safe" {
		t.Errorf("tight: %.1f %s, want < 1 safe", tight.Score, tight.Rating)
	}
	if !(tight.Score < executor.Score && executor.Score < root.Score) {
		t.Errorf("scores tight %.1f, executor %.1f, root %.1f are not in order", tight.Score, executor.Score, root.Score)
	}
	// The executor's worst finding is the one the issue names.
	if f := executor.Findings[0]; f.Item != "CAP_DAC_READ_SEARCH" || f.Severity != Critical || !strings.Contains(f.Why, "credential files") {
		t.Errorf("executor's worst finding = %+v", f)
	}
}

// TestFindingsWorstFirst: points never increase down the list, ok lines
// come last and only they have no points.
func TestFindingsWorstFirst(t *testing.T) {
	for _, name := range []string{"root-everything.yaml", "web.yaml", "executor.yaml", "tight.yaml"} {
		r := Analyze(load(t, name))
		for i, f := range r.Findings {
			if (f.Severity == OK) != (f.Points == 0) {
				t.Errorf("%s: %+v: severity and points disagree", name, f)
			}
			if f.Why == "" || strings.Contains(f.Why, "\n") {
				t.Errorf("%s: %+v: want a one-line why", name, f)
			}
			if i > 0 && f.Points > r.Findings[i-1].Points {
				t.Errorf("%s: %q (%v) after %q (%v)", name, f.Item, f.Points, r.Findings[i-1].Item, r.Findings[i-1].Points)
			}
		}
	}
}

// TestDeterministic: maps in the profile never change the report.
func TestDeterministic(t *testing.T) {
	p := load(t, "root-everything.yaml")
	var first bytes.Buffer
	Analyze(p).WriteText(&first)
	for range 20 {
		var b bytes.Buffer
		Analyze(p).WriteText(&b)
		if !bytes.Equal(b.Bytes(), first.Bytes()) {
			t.Fatal("two analyses of one profile differ")
		}
	}
}

// TestTablesKnown: every capability leash knows is rated, and every name in
// the tables exists in the ABI tables, so a typo cannot hide a finding.
func TestTablesKnown(t *testing.T) {
	for _, c := range linux.CapNames() {
		if _, ok := capabilities[c]; !ok {
			t.Errorf("capability %s is not rated", c)
		}
	}
	for c := range capabilities {
		if _, ok := linux.CapNumber(c); !ok {
			t.Errorf("rated capability %s is unknown", c)
		}
	}
	seen := map[string]bool{}
	for _, g := range syscallGroups {
		if g.name == "" || g.why == "" || g.points <= 0 {
			t.Errorf("group %v: want a name, a why and points", g.syscalls)
		}
		for _, s := range g.syscalls {
			if seen[s] {
				t.Errorf("syscall %s is in two groups", s)
			}
			seen[s] = true
			found := false
			for _, a := range linux.Arches {
				_, ok := linux.SyscallNumber(a, s)
				found = found || ok
			}
			if !found {
				t.Errorf("syscall %s is in no syscall table", s)
			}
		}
	}
	for f := range families {
		if _, ok := linux.FamilyNumber(f); !ok {
			t.Errorf("rated family %s is unknown", f)
		}
	}
	for p, r := range netlinkProtocols {
		if _, ok := linux.NetlinkProtocolNumber(p); !ok || r.why == "" || r.points <= 0 {
			t.Errorf("rated netlink protocol %s is unknown, or has no why or points", p)
		}
	}
	// Any protocol weighs at least every protocol together, so listing
	// protocols never raises the score.
	all := profiles.Family{Types: []string{"SOCK_RAW"}}
	for n := 0; n < 32; n++ {
		name := linux.NetlinkProtocolName(n)
		if _, ok := linux.NetlinkProtocolNumber(name); ok {
			all.Protocols = append(all.Protocols, name)
		}
	}
	listed := &profiles.Profile{Families: map[string]profiles.Family{"AF_NETLINK": all}}
	anyp := &profiles.Profile{Families: map[string]profiles.Family{"AF_NETLINK": {Types: all.Types}}}
	if l, a := Analyze(listed).Points, Analyze(anyp).Points; l != a || anyNetlink.points <= 0 {
		t.Errorf("every netlink protocol listed: %v points, any protocol: %v", l, a)
	}
	for ns := range createNamespaces {
		if _, ok := linux.NamespaceFlag(ns); !ok {
			t.Errorf("rated namespace %s is unknown", ns)
		}
	}
}

func TestScoreFunction(t *testing.T) {
	if Score(0) != 0 || Score(-1) != 0 {
		t.Error("no points must score 0")
	}
	if got := Score(1000); got != 10 {
		t.Errorf("Score(1000) = %v, want 10", got)
	}
	prev := 0.0
	for p := 0.0; p < 200; p += 0.25 {
		s := Score(p)
		if s < prev || s > 10 {
			t.Fatalf("Score(%v) = %v after %v", p, s, prev)
		}
		prev = s
	}
}

// randomProfile grants a random part of what the tables rate.
func randomProfile(r *rand.Rand) *profiles.Profile {
	p := &profiles.Profile{
		APIVersion:   profiles.APIVersion,
		Component:    "random",
		Syscalls:     map[string]map[string]string{"x86_64": {"read": "/bin/x"}},
		Families:     map[string]profiles.Family{},
		Capabilities: profiles.Capabilities{Needed: map[string]profiles.CapUse{}},
	}
	caps := linux.CapNames()
	for range r.IntN(4) {
		p.Capabilities.Needed[caps[r.IntN(len(caps))]] = profiles.CapUse{Granted: 1, By: "/bin/x"}
	}
	for range r.IntN(4) {
		g := syscallGroups[r.IntN(len(syscallGroups))]
		p.Syscalls["x86_64"][g.syscalls[r.IntN(len(g.syscalls))]] = "/bin/x"
	}
	if r.IntN(4) == 0 {
		p.Syscalls["i386"] = map[string]string{"read": "/bin/x32"}
	}
	for range r.IntN(3) {
		f := linux.FamilyName(r.IntN(linux.AFMax))
		p.Families[f] = profiles.Family{Types: []string{[]string{"SOCK_STREAM", "SOCK_DGRAM", "SOCK_RAW"}[r.IntN(3)]}}
	}
	if r.IntN(3) == 0 {
		p.Families["AF_NETLINK"] = profiles.Family{Types: []string{"SOCK_RAW"}, Protocols: randomProtocols(r)}
	}
	for _, ns := range linux.NamespaceNames() {
		if r.IntN(5) == 0 {
			p.Namespaces = append(p.Namespaces, ns)
		}
		if r.IntN(2) == 0 {
			p.Run.Namespaces = append(p.Run.Namespaces, ns)
		}
	}
	p.Run.User = []string{"", "root", "app"}[r.IntN(3)]
	p.Run.Group = []string{"", "root", "app"}[r.IntN(3)]
	p.Run.DefaultAction = []string{"", "errno", "kill-process", "log"}[r.IntN(4)]
	p.Run.ProtectSystem = []string{"", "full", "strict"}[r.IntN(3)]
	p.Run.ProtectHome = r.IntN(2) == 0
	p.Run.PrivateTmp = r.IntN(2) == 0
	p.Run.ClearEnv = r.IntN(2) == 0
	return p
}

// randomProtocols draws a few netlink protocols, or none (any).
func randomProtocols(r *rand.Rand) []string {
	var out []string
	for range r.IntN(4) {
		name := linux.NetlinkProtocolName(r.IntN(23))
		if _, ok := linux.NetlinkProtocolNumber(name); ok && !slices.Contains(out, name) {
			out = append(out, name)
		}
	}
	return out
}

// clone deep-copies the parts of p that grants change.
func clone(p *profiles.Profile) *profiles.Profile {
	q := *p
	q.Syscalls = map[string]map[string]string{}
	for abi, calls := range p.Syscalls {
		q.Syscalls[abi] = map[string]string{}
		for k, v := range calls {
			q.Syscalls[abi][k] = v
		}
	}
	q.Capabilities.Needed = map[string]profiles.CapUse{}
	for k, v := range p.Capabilities.Needed {
		q.Capabilities.Needed[k] = v
	}
	q.Families = map[string]profiles.Family{}
	for k, v := range p.Families {
		q.Families[k] = profiles.Family{Types: slices.Clone(v.Types), Protocols: slices.Clone(v.Protocols), By: v.By}
	}
	q.Namespaces = slices.Clone(p.Namespaces)
	q.Run.Namespaces = slices.Clone(p.Run.Namespaces)
	return &q
}

// TestMonotone is a property test: granting more never lowers the score.
// Adding a capability the profile did not have always raises its points.
func TestMonotone(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 2026))
	caps := linux.CapNames()
	grants := []struct {
		name  string
		grant func(p *profiles.Profile) bool // false: nothing new was granted
	}{
		{"capability", func(p *profiles.Profile) bool {
			c := caps[r.IntN(len(caps))]
			_, had := p.Capabilities.Needed[c]
			p.Capabilities.Needed[c] = profiles.CapUse{Granted: 1}
			return !had
		}},
		{"syscall", func(p *profiles.Profile) bool {
			g := syscallGroups[r.IntN(len(syscallGroups))]
			p.Syscalls["x86_64"][g.syscalls[r.IntN(len(g.syscalls))]] = "/bin/y"
			return true
		}},
		{"family", func(p *profiles.Profile) bool {
			// Half the time an inet family, whose findings depend on the
			// run namespaces.
			f := []string{"AF_INET", "AF_INET6"}[r.IntN(2)]
			if r.IntN(2) == 0 {
				f = linux.FamilyName(r.IntN(linux.AFMax))
			}
			fam := p.Families[f]
			fam.Types = append(fam.Types, []string{"SOCK_STREAM", "SOCK_DGRAM", "SOCK_RAW"}[r.IntN(3)])
			p.Families[f] = fam
			return true
		}},
		{"namespace to create", func(p *profiles.Profile) bool {
			ns := linux.NamespaceNames()[r.IntN(8)]
			if !slices.Contains(p.Namespaces, ns) {
				p.Namespaces = append(p.Namespaces, ns)
			}
			return true
		}},
		{"fewer namespaces to run in", func(p *profiles.Profile) bool {
			if len(p.Run.Namespaces) > 0 {
				p.Run.Namespaces = slices.Delete(p.Run.Namespaces, 0, 1)
			}
			return true
		}},
		{"netlink protocol", func(p *profiles.Profile) bool {
			fam, had := p.Families["AF_NETLINK"]
			if had && len(fam.Protocols) == 0 {
				return false // already any protocol
			}
			if r.IntN(4) == 0 {
				fam.Protocols = nil // any protocol
			} else {
				name := linux.NetlinkProtocolName(r.IntN(23))
				if _, ok := linux.NetlinkProtocolNumber(name); !ok || slices.Contains(fam.Protocols, name) {
					return false
				}
				fam.Protocols = append(fam.Protocols, name)
			}
			if len(fam.Types) == 0 {
				fam.Types = []string{"SOCK_RAW"}
			}
			p.Families["AF_NETLINK"] = fam
			return true
		}},
		{"root", func(p *profiles.Profile) bool { p.Run.User = "root"; return true }},
		{"log", func(p *profiles.Profile) bool { p.Run.DefaultAction = "log"; return true }},
		{"i386", func(p *profiles.Profile) bool {
			p.Syscalls["i386"] = map[string]string{"read": "/bin/x32"}
			return true
		}},
	}
	for i := range 3000 {
		p := randomProfile(r)
		before := Analyze(p)
		g := grants[i%len(grants)]
		q := clone(p)
		isNew := g.grant(q)
		after := Analyze(q)
		if after.Score < before.Score || after.Points < before.Points {
			t.Fatalf("granting a %s lowered the exposure: %.1f (%v points) -> %.1f (%v points)", g.name, before.Score, before.Points, after.Score, after.Points)
		}
		if (g.name == "capability" || g.name == "netlink protocol") && isNew && after.Points <= before.Points {
			t.Fatalf("a new %s did not add points: %v -> %v", g.name, before.Points, after.Points)
		}
	}
}

// TestLogEnforcesNothing: with defaultAction log every dangerous syscall
// group is a finding, whatever the profile lists.
func TestLogEnforcesNothing(t *testing.T) {
	p := load(t, "tight.yaml")
	p.Run.DefaultAction = "log"
	r := Analyze(p)
	var groups []string
	for _, f := range r.Findings {
		if f.Kind == KindSyscall {
			if f.Severity == OK {
				t.Errorf("syscall group %q is ok under defaultAction log", f.Item)
			}
			groups = append(groups, f.Item)
		}
	}
	if len(groups) != len(syscallGroups) {
		t.Errorf("%d syscall findings under log, want %d", len(groups), len(syscallGroups))
	}
}

func TestJSONShape(t *testing.T) {
	var b bytes.Buffer
	if err := Analyze(load(t, "web.yaml")).WriteJSON(&b); err != nil {
		t.Fatal(err)
	}
	var got struct {
		Component string
		Score     float64
		Rating    string
		Findings  []map[string]any
	}
	if err := json.Unmarshal(b.Bytes(), &got); err != nil {
		t.Fatal(err)
	}
	if got.Component != "web" || got.Rating == "" || len(got.Findings) == 0 {
		t.Fatalf("JSON report %+v", got)
	}
	sev := map[string]bool{}
	for _, f := range got.Findings {
		sev[f["severity"].(string)] = true
	}
	keys := make([]string, 0, len(sev))
	for k := range sev {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		if !slices.Contains(severityNames[:], k) {
			t.Errorf("severity %q in JSON", k)
		}
	}
}

// TestWidenedAndUnshare: syscalls the filter adds are rated with where they
// come from; unshare without namespaces to create is nearly harmless.
func TestWidenedAndUnshare(t *testing.T) {
	p := load(t, "tight.yaml")
	r := AnalyzeWith(p, Options{Widened: map[string]string{"io_uring_setup": "widen: test", "read": "widen: test"}})
	f := r.Findings[0]
	if f.Item != "io_uring_setup" || f.By != "widen: test" || f.Severity != Critical {
		t.Errorf("worst finding %+v, want the widened io_uring_setup", f)
	}

	p = load(t, "tight.yaml")
	p.Syscalls["x86_64"]["unshare"] = "/usr/bin/backend"
	low := findItem(t, Analyze(p), "unshare")
	p.Namespaces = []string{"ipc"}
	full := findItem(t, Analyze(p), "unshare")
	if low.Points >= full.Points || full.Points != 6 {
		t.Errorf("unshare: %v points without namespaces to create, %v with", low.Points, full.Points)
	}
}

func findItem(t *testing.T, r *Report, item string) Finding {
	t.Helper()
	for _, f := range r.Findings {
		if f.Item == item {
			return f
		}
	}
	t.Fatalf("no finding %q", item)
	return Finding{}
}

// TestNetlinkFindings: one finding per netlink protocol, worst first,
// each with its why; none listed is one finding for any protocol, worth
// more than any list.
func TestNetlinkFindings(t *testing.T) {
	nl := func(protocols ...string) *Report {
		return Analyze(&profiles.Profile{Component: "nl", Families: map[string]profiles.Family{
			"AF_NETLINK": {Types: []string{"SOCK_RAW"}, Protocols: protocols, By: "/bin/nl"},
		}})
	}
	items := func(r *Report) (out []string) {
		for _, f := range r.Findings {
			if f.Kind == KindFamily {
				out = append(out, fmt.Sprintf("%s %v", f.Item, f.Points))
				if f.Why == "" || f.By != "/bin/nl" {
					t.Errorf("%s: why %q, by %q", f.Item, f.Why, f.By)
				}
			}
		}
		return out
	}
	got := items(nl("NETLINK_ROUTE", "NETLINK_GENERIC", "NETLINK_AUDIT", "NETLINK_SMC", "NETLINK_XFRM"))
	want := []string{"AF_NETLINK NETLINK_AUDIT 2", "AF_NETLINK NETLINK_XFRM 1.5", "AF_NETLINK NETLINK_GENERIC 1", "AF_NETLINK NETLINK_ROUTE 0.25", "AF_NETLINK NETLINK_SMC 0.1"}
	if !slices.Equal(got, want) {
		t.Errorf("findings %q, want %q", got, want)
	}
	anyProto := nl()
	if got := items(anyProto); len(got) != 1 || !strings.HasPrefix(got[0], "AF_NETLINK (any netlink protocol) ") {
		t.Errorf("any protocol: findings %q", got)
	}
	route, audit := nl("NETLINK_ROUTE"), nl("NETLINK_AUDIT", "NETLINK_ROUTE")
	if !(route.Points < audit.Points && audit.Points < anyProto.Points) {
		t.Errorf("points: route %v, audit+route %v, any %v", route.Points, audit.Points, anyProto.Points)
	}
	var js bytes.Buffer
	if err := audit.WriteJSON(&js); err != nil || !strings.Contains(js.String(), `"item": "AF_NETLINK NETLINK_AUDIT"`) {
		t.Errorf("--json lacks the protocol finding (%v):\n%s", err, js.String())
	}
}
