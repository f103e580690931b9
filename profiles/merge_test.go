package profiles

import (
	"errors"
	"reflect"
	"testing"
)

func TestMergeGolden(t *testing.T) {
	a, b := mustLoad(t, "merge-a.yaml"), mustLoad(t, "merge-b.yaml")
	ca, cb := a.Clone(), b.Clone()
	m, err := Merge(a, b)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(a, ca) || !reflect.DeepEqual(b, cb) {
		t.Error("Merge modified its inputs")
	}
	data, err := Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	golden(t, "merge.golden.yaml", data)
	if _, err := Parse("merged", data); err != nil {
		t.Errorf("merged profile does not validate: %v", err)
	}
}

// TestMergeRules checks each rule of MergeWith on the merged test profiles.
func TestMergeRules(t *testing.T) {
	a, b := mustLoad(t, "merge-a.yaml"), mustLoad(t, "merge-b.yaml")
	m, err := Merge(a, b)
	if err != nil {
		t.Fatal(err)
	}
	// syscalls: union, By of the first profile that has it.
	if got := m.Syscalls["x86_64"]["read"]; got != "/usr/sbin/web" {
		t.Errorf("read first by %q, want a's /usr/sbin/web", got)
	}
	if got := m.Syscalls["x86_64"]["wait4"]; got != "/bin/sh" {
		t.Errorf("wait4 (only in b) by %q", got)
	}
	if len(m.Syscalls["x86_64"]) != 7 || len(m.Syscalls["i386"]) != 1 {
		t.Errorf("syscalls not the union: %v", m.Syscalls)
	}
	caps := []struct {
		name, group string
		use         CapUse
	}{
		// noaudit in a, needed in b: needed, counts summed, By of the need.
		{"CAP_NET_BIND_SERVICE", "needed", CapUse{Granted: 4, Denied: 1, By: "/usr/sbin/web"}},
		// noaudit in both: noaudit.
		{"CAP_SYS_ADMIN", "noaudit", CapUse{Granted: 15, By: "/usr/sbin/web"}},
		// denied (audited) in a, noaudit in b: never granted in an audited check.
		{"CAP_DAC_OVERRIDE", "denied", CapUse{Granted: 7, Denied: 2, By: "/usr/sbin/web"}},
		{"CAP_NET_RAW", "denied", CapUse{Denied: 1, By: "/bin/sh"}},
	}
	groups := map[string]map[string]CapUse{"needed": m.Capabilities.Needed, "noaudit": m.Capabilities.Noaudit, "denied": m.Capabilities.Denied}
	for _, c := range caps {
		for g, set := range groups {
			u, ok := set[c.name]
			if ok != (g == c.group) {
				t.Errorf("%s in %s: %v, want only in %s", c.name, g, ok, c.group)
			}
			if ok && u != c.use {
				t.Errorf("%s = %+v, want %+v", c.name, u, c.use)
			}
		}
	}
	if got := m.Families["AF_INET"]; !reflect.DeepEqual(got, Family{Types: []string{"SOCK_DGRAM", "SOCK_STREAM"}, By: "/usr/sbin/web"}) {
		t.Errorf("AF_INET = %+v", got)
	}
	if !reflect.DeepEqual(m.Namespaces, []string{"net", "uts"}) || !reflect.DeepEqual(m.Widen, []string{"glibc-portability"}) {
		t.Errorf("namespaces %v widen %v", m.Namespaces, m.Widen)
	}
	if len(m.Provenance.Runs) != 2 || m.Provenance.Runs[0].Host != "host-b" || !m.Incomplete() {
		t.Errorf("runs not all kept (sorted by time, incomplete kept): %+v", m.Provenance.Runs)
	}
	if got := m.Handoffs(); !reflect.DeepEqual(got, []Handoff{{Executable: "/usr/local/bin/leash", How: HandoffLeash}}) || len(m.Provenance.Runs[0].Handoffs) != 1 {
		t.Errorf("handoffs %+v: want b's run's kept with its run", got)
	}
	if len(m.Provenance.Executables) != 3 {
		t.Errorf("executables %v: want both sha256 of /usr/sbin/web and /bin/sh", m.Provenance.Executables)
	}
	if m.Run.User != "www-data" {
		t.Errorf("run options not the first profile's: %+v", m.Run)
	}
}

func TestMergeComponents(t *testing.T) {
	a, other := mustLoad(t, "merge-a.yaml"), mustLoad(t, "merge-other.yaml")
	if _, err := Merge(a, other); !errors.Is(err, ErrComponentMismatch) {
		t.Errorf("merging web and db: %v, want ErrComponentMismatch", err)
	}
	m, err := MergeWith(MergeOptions{Component: "stack"}, a, other)
	if err != nil {
		t.Fatal(err)
	}
	if m.Component != "stack" || m.Syscalls["x86_64"]["pread64"] != "/usr/sbin/db" {
		t.Errorf("override merge: %+v", m)
	}
	if _, err := Merge(); err == nil {
		t.Error("merging nothing succeeded")
	}
}

// TestMergeIdempotent: a profile merged with itself allows the same.
func TestMergeIdempotent(t *testing.T) {
	p := mustLoad(t, "web.yaml")
	m, err := Merge(p, p)
	if err != nil {
		t.Fatal(err)
	}
	if d := Diff(p, m); d.Grants() || len(d.Changes) != 0 {
		t.Errorf("self-merge changed privileges: %+v", d.Changes)
	}
	if len(m.Provenance.Runs) != 2*len(p.Provenance.Runs) {
		t.Errorf("runs: %d", len(m.Provenance.Runs))
	}
}

// TestMergeDiffProperty: for every pair of profiles in testdata, the merge
// grants everything each input grants (Diff from an input to the merge
// removes no privilege), and takes nothing from the first's run options
// (Diff from the merge back to the first grants nothing).
func TestMergeDiffProperty(t *testing.T) {
	var ps []*Profile
	for _, f := range testdataProfiles(t) {
		p, err := Load(f)
		if err != nil {
			t.Fatal(err)
		}
		ps = append(ps, p)
	}
	if len(ps) < 10 {
		t.Fatalf("only %d profiles", len(ps))
	}
	privilege := map[string]bool{KindSyscall: true, KindCapability: true, KindFamily: true, KindSocketType: true, KindProtocol: true, KindNamespace: true, KindWiden: true}
	for i, a := range ps {
		for j, b := range ps {
			m, err := MergeWith(MergeOptions{Component: "merged"}, a, b)
			if err != nil {
				t.Fatal(err)
			}
			for _, in := range []*Profile{a, b} {
				for _, c := range Diff(in, m).Changes {
					if lostPrivilege(c, privilege) {
						t.Errorf("merge of %d and %d lost %+v", i, j, c)
					}
				}
			}
			if d := Diff(m, a); d.Grants() {
				t.Errorf("merge of %d and %d has less than %d: %+v", i, j, i, d.Changes)
			}
		}
	}
}

// lostPrivilege reports whether c, a change from an input to the merge,
// takes a privilege away: a removal, or narrowing any netlink protocol to
// some.
func lostPrivilege(c Change, privilege map[string]bool) bool {
	return (c.Op == "-" && privilege[c.Kind]) || (c.Kind == KindProtocol && c.Op == "~" && !c.Grants)
}

// TestMergeProtocols: netlink protocols are a union, and a profile
// without them (any protocol) makes the merge allow any protocol.
func TestMergeProtocols(t *testing.T) {
	nl := func(by string, protocols ...string) *Profile {
		return &Profile{APIVersion: APIVersion, Component: "c", Families: map[string]Family{
			"AF_NETLINK": {Types: []string{"SOCK_RAW"}, Protocols: protocols, By: by},
			"AF_UNIX":    {Types: []string{"SOCK_STREAM"}},
		}}
	}
	none := &Profile{APIVersion: APIVersion, Component: "c"}
	for _, tt := range []struct {
		name string
		in   []*Profile
		want []string
	}{
		{"union", []*Profile{nl("/a", "NETLINK_ROUTE"), nl("/b", "NETLINK_AUDIT", "NETLINK_ROUTE")}, []string{"NETLINK_AUDIT", "NETLINK_ROUTE"}},
		{"same", []*Profile{nl("/a", "NETLINK_ROUTE"), nl("/b", "NETLINK_ROUTE")}, []string{"NETLINK_ROUTE"}},
		{"any first", []*Profile{nl("/a"), nl("/b", "NETLINK_AUDIT")}, nil},
		{"any last", []*Profile{nl("/a", "NETLINK_AUDIT"), nl("/b", "NETLINK_ROUTE"), nl("/c")}, nil},
		{"family only in one", []*Profile{none, nl("/b", "NETLINK_XFRM")}, []string{"NETLINK_XFRM"}},
		{"any only in one", []*Profile{nl("/a"), none}, nil},
	} {
		t.Run(tt.name, func(t *testing.T) {
			m, err := Merge(tt.in...)
			if err != nil {
				t.Fatal(err)
			}
			got := m.Families["AF_NETLINK"]
			if !reflect.DeepEqual(got.Protocols, tt.want) {
				t.Errorf("protocols %v, want %v", got.Protocols, tt.want)
			}
			if got.By == "" || m.Families["AF_UNIX"].Protocols != nil {
				t.Errorf("families %+v", m.Families)
			}
			for _, in := range tt.in {
				for _, c := range Diff(in, m).Changes {
					if lostPrivilege(c, map[string]bool{KindFamily: true, KindSocketType: true, KindProtocol: true}) {
						t.Errorf("merge lost %+v", c)
					}
				}
			}
		})
	}
}
