package profiles

import (
	"bytes"
	"encoding/json"
	"fmt"
	"reflect"
	"testing"
)

func TestDiffGolden(t *testing.T) {
	for _, tt := range []struct{ old, name string }{{"web", "diff-new"}, {"web", "diff-tight"}, {"netlink", "netlink-new"}} {
		name := tt.name
		t.Run(name, func(t *testing.T) {
			d := Diff(mustLoad(t, tt.old+".yaml"), mustLoad(t, name+".yaml"))
			var b bytes.Buffer
			if err := d.WriteText(&b, tt.old+".yaml", name+".yaml"); err != nil {
				t.Fatal(err)
			}
			golden(t, name+".diff.txt", b.Bytes())
			j, err := d.JSON(tt.old+".yaml", name+".yaml")
			if err != nil {
				t.Fatal(err)
			}
			golden(t, name+".diff.json", j)
			var back struct {
				Grants  bool     `json:"grants"`
				Changes []Change `json:"changes"`
			}
			if err := json.Unmarshal(j, &back); err != nil || back.Grants != d.Grants() || len(back.Changes) != len(d.Changes) {
				t.Errorf("JSON does not decode to the diff: %v", err)
			}
		})
	}
}

// TestDiffGrants: which changes count as granting (the CI gate).
func TestDiffGrants(t *testing.T) {
	base := func() *Profile { return mustLoad(t, "web.yaml") }
	tests := []struct {
		name   string
		change func(p *Profile)
		grants bool
		kind   string
	}{
		{"nothing", func(p *Profile) {}, false, ""},
		{"syscall added", func(p *Profile) { p.Syscalls["x86_64"]["ptrace"] = "/x" }, true, KindSyscall},
		{"compat syscall added", func(p *Profile) { p.Syscalls["i386"]["ptrace"] = "/x" }, true, KindSyscall},
		{"syscall removed", func(p *Profile) { delete(p.Syscalls["x86_64"], "futex") }, false, KindSyscall},
		{"whole ABI added", func(p *Profile) { p.Syscalls["arm64"] = map[string]string{"read": ""} }, true, KindSyscall},
		{"syscall By changed", func(p *Profile) { p.Syscalls["x86_64"]["futex"] = "/other" }, false, ""},
		{"capability needed", func(p *Profile) { p.Capabilities.Needed["CAP_SYS_ADMIN"] = CapUse{Granted: 1} }, true, KindCapability},
		{"capability dropped", func(p *Profile) { delete(p.Capabilities.Needed, "CAP_NET_BIND_SERVICE") }, false, KindCapability},
		{"capability counts", func(p *Profile) { p.Capabilities.Needed["CAP_NET_BIND_SERVICE"] = CapUse{Granted: 99} }, false, ""},
		{"noaudit capability added", func(p *Profile) { p.Capabilities.Noaudit["CAP_BPF"] = CapUse{Granted: 1} }, false, ""},
		{"family added", func(p *Profile) { p.Families["AF_NETLINK"] = Family{Types: []string{"SOCK_RAW"}} }, true, KindFamily},
		{"socket type added", func(p *Profile) { p.Families["AF_INET"] = Family{Types: []string{"SOCK_RAW", "SOCK_STREAM"}} }, true, KindSocketType},
		{"family removed", func(p *Profile) { delete(p.Families, "AF_INET6") }, false, KindFamily},
		{"namespace learned", func(p *Profile) { p.Namespaces = []string{"user"} }, true, KindNamespace},
		{"widening added", func(p *Profile) { p.Widen = append(p.Widen, "glibc-portability") }, true, KindWiden},
		{"widening removed", func(p *Profile) { p.Widen = nil }, false, KindWiden},
		{"user to root", func(p *Profile) { p.Run.User = "root" }, true, KindRun},
		{"user unset", func(p *Profile) { p.Run.User = "" }, true, KindRun},
		{"user to another", func(p *Profile) { p.Run.User = "nobody" }, true, KindRun},
		{"run namespace removed", func(p *Profile) { p.Run.Namespaces = []string{"ipc", "mnt"} }, true, KindRun},
		{"run namespace added", func(p *Profile) { p.Run.Namespaces = append(p.Run.Namespaces, "net") }, false, KindRun},
		{"defaultAction log", func(p *Profile) { p.Run.DefaultAction = "log" }, true, KindRun},
		{"defaultAction kill", func(p *Profile) { p.Run.DefaultAction = "kill-process" }, false, KindRun},
		{"privateTmp off", func(p *Profile) { p.Run.PrivateTmp = false }, true, KindRun},
		{"protectSystem weaker", func(p *Profile) { p.Run.ProtectSystem = "full" }, true, KindRun},
		{"protectHome off", func(p *Profile) { p.Run.ProtectHome = false }, true, KindRun},
		{"privateDevices off", func(p *Profile) { off := false; p.Run.PrivateDevices = &off }, true, KindRun},
		{"protectKernelTunables off", func(p *Profile) { off := false; p.Run.ProtectKernelTunables = &off }, true, KindRun},
		{"privateDevices set to its default", func(p *Profile) { on := true; p.Run.PrivateDevices = &on }, false, ""},
		{"env added", func(p *Profile) { p.Run.Env = append(p.Run.Env, "LD_PRELOAD=/tmp/x.so") }, true, KindRun},
		{"env removed", func(p *Profile) { p.Run.Env = p.Run.Env[:1] }, false, KindRun},
		{"executable changed", func(p *Profile) { p.Provenance.Executables[0].SHA256 = "ff" }, true, KindExecutable},
		{"executable removed", func(p *Profile) { p.Provenance.Executables = p.Provenance.Executables[1:] }, false, KindExecutable},
		{"runs differ", func(p *Profile) { p.Provenance.Runs = nil }, false, ""},
		{"handoff added", func(p *Profile) {
			p.Provenance.Runs[0].Handoffs = []Handoff{{Executable: "/usr/lib/web/plugin", How: HandoffAnnounced}}
		}, true, KindHandoff},
		{"nested leash handoff added", func(p *Profile) {
			p.Provenance.Runs[0].Handoffs = []Handoff{{Executable: "/usr/local/bin/leash", How: HandoffLeash}}
		}, true, KindHandoff},
		{"family added with protocols", func(p *Profile) {
			p.Families["AF_NETLINK"] = Family{Types: []string{"SOCK_RAW"}, Protocols: []string{"NETLINK_ROUTE"}}
		}, true, KindFamily},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			old, new := base(), base()
			tt.change(new)
			d := Diff(old, new)
			if d.Grants() != tt.grants {
				t.Errorf("Grants() = %v, want %v: %+v", d.Grants(), tt.grants, d.Changes)
			}
			if tt.kind == "" {
				if len(d.Changes) != 0 {
					t.Errorf("changes listed: %+v", d.Changes)
				}
				return
			}
			if len(d.Changes) != 1 || d.Changes[0].Kind != tt.kind {
				t.Errorf("changes %+v, want one of kind %s", d.Changes, tt.kind)
			}
			// The reverse never grants what the forward change took away.
			if !tt.grants && Diff(new, old).Granted() == 0 && tt.kind != KindRun {
				t.Errorf("neither direction grants: %+v", d.Changes)
			}
		})
	}
}

func TestDiffRootUsers(t *testing.T) {
	for _, tt := range []struct {
		old, new string
		grants   bool
	}{
		{"", "root", false}, {"root", "0", false}, {"root", "web", false}, {"", "web", false},
		{"web", "root", true}, {"web", "", true}, {"web", "db", true},
	} {
		o, n := &Profile{Run: RunOptions{User: tt.old}}, &Profile{Run: RunOptions{User: tt.new}}
		if got := Diff(o, n).Grants(); got != tt.grants {
			t.Errorf("user %q -> %q grants %v, want %v", tt.old, tt.new, got, tt.grants)
		}
	}
}

// TestDiffProtocols: an added netlink protocol grants, a removed one does
// not; no protocols listed means any, so listing some narrows (no grant)
// and dropping the list grants.
func TestDiffProtocols(t *testing.T) {
	nl := func(protocols ...string) *Profile {
		return &Profile{Families: map[string]Family{"AF_NETLINK": {Types: []string{"SOCK_RAW"}, Protocols: protocols, By: "/x"}}}
	}
	tests := []struct {
		name     string
		old, new *Profile
		grants   bool
		lines    []string
	}{
		{"same", nl("NETLINK_ROUTE"), nl("NETLINK_ROUTE"), false, nil},
		{"both any", nl(), nl(), false, nil},
		{"protocol added", nl("NETLINK_ROUTE"), nl("NETLINK_AUDIT", "NETLINK_ROUTE"), true,
			[]string{"+ protocol AF_NETLINK NETLINK_AUDIT (first by /x)"}},
		{"protocol removed", nl("NETLINK_AUDIT", "NETLINK_ROUTE"), nl("NETLINK_ROUTE"), false,
			[]string{"- protocol AF_NETLINK NETLINK_AUDIT (first by /x)"}},
		{"protocol swapped", nl("NETLINK_ROUTE"), nl("NETLINK_XFRM"), true,
			[]string{"+ protocol AF_NETLINK NETLINK_XFRM (first by /x)", "- protocol AF_NETLINK NETLINK_ROUTE (first by /x)"}},
		{"any to listed", nl(), nl("NETLINK_ROUTE"), false,
			[]string{"~ protocol AF_NETLINK protocols any -> NETLINK_ROUTE (first by /x; now only the protocols listed)"}},
		{"listed to any", nl("NETLINK_ROUTE", "NETLINK_SOCK_DIAG"), nl(), true,
			[]string{"~ protocol AF_NETLINK protocols NETLINK_ROUTE NETLINK_SOCK_DIAG -> any (first by /x; no protocols listed: any protocol is allowed) [grants]"}},
		{"family added, listed", &Profile{}, nl("NETLINK_AUDIT"), true,
			[]string{"+ family AF_NETLINK (first by /x; types SOCK_RAW, protocols NETLINK_AUDIT)"}},
		{"family added, any", &Profile{}, nl(), true,
			[]string{"+ family AF_NETLINK (first by /x; types SOCK_RAW, any protocol)"}},
		{"family removed", nl("NETLINK_AUDIT"), &Profile{}, false,
			[]string{"- family AF_NETLINK (first by /x; types SOCK_RAW, protocols NETLINK_AUDIT)"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := Diff(tt.old, tt.new)
			if d.Grants() != tt.grants {
				t.Errorf("Grants() = %v, want %v: %+v", d.Grants(), tt.grants, d.Changes)
			}
			var lines []string
			for _, c := range d.Changes {
				lines = append(lines, c.line())
			}
			if !reflect.DeepEqual(lines, tt.lines) {
				t.Errorf("lines\n%q\nwant\n%q", lines, tt.lines)
			}
			j, err := d.JSON("old", "new")
			if err != nil {
				t.Fatal(err)
			}
			var back struct {
				Grants  bool     `json:"grants"`
				Changes []Change `json:"changes"`
			}
			if err := json.Unmarshal(j, &back); err != nil || back.Grants != tt.grants || !reflect.DeepEqual(back.Changes, d.Changes) {
				t.Errorf("JSON does not carry the diff (%v): %s", err, j)
			}
		})
	}
}

// TestDiffHandoffs: handoffs are compared by executable across all runs:
// a new one grants (its subtree's privileges were never reviewed), one
// gone or one only moved to another run does not.
func TestDiffHandoffs(t *testing.T) {
	plugin := Handoff{Executable: "/usr/lib/web/plugin", How: HandoffAnnounced}
	leash := Handoff{Executable: "/usr/local/bin/leash", How: HandoffLeash}
	tests := []struct {
		name     string
		old, new [][]Handoff // per run
		want     []string    // "op name"
		grants   bool
	}{
		{"none", [][]Handoff{nil}, [][]Handoff{nil}, nil, false},
		{"added", [][]Handoff{nil}, [][]Handoff{{plugin}}, []string{"+ /usr/lib/web/plugin"}, true},
		{"removed", [][]Handoff{{plugin}}, [][]Handoff{nil}, []string{"- /usr/lib/web/plugin"}, false},
		{"same", [][]Handoff{{leash, plugin}}, [][]Handoff{{plugin, leash}}, nil, false},
		{"moved to another run", [][]Handoff{{plugin}, nil}, [][]Handoff{nil, {plugin}}, nil, false},
		{"one more", [][]Handoff{{leash}}, [][]Handoff{{leash}, {plugin}}, []string{"+ /usr/lib/web/plugin"}, true},
	}
	mk := func(runs [][]Handoff) *Profile {
		p := &Profile{APIVersion: APIVersion, Component: "web"}
		for i, hs := range runs {
			p.Provenance.Runs = append(p.Provenance.Runs, Run{Started: fmt.Sprintf("2026-11-28T10:0%d:00Z", i), Handoffs: hs})
		}
		return p
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := Diff(mk(tt.old), mk(tt.new))
			var got []string
			for _, c := range d.Changes {
				if c.Kind != KindHandoff {
					t.Errorf("unexpected change %+v", c)
				}
				got = append(got, c.Op+" "+c.Name)
			}
			if !reflect.DeepEqual(got, tt.want) || d.Grants() != tt.grants {
				t.Errorf("changes %q grants %v, want %q grants %v", got, d.Grants(), tt.want, tt.grants)
			}
		})
	}
}
