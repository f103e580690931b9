package profiles

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"regexp"
	"slices"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"

	"github.com/leash-project/leash/internal/testutil"
	"github.com/leash-project/leash/linux"
)

func TestExportGolden(t *testing.T) {
	for _, name := range []string{"web", "minimal", "netlink"} {
		p := mustLoad(t, name+".yaml")
		for _, f := range []struct {
			ext string
			fn  func(*Profile) ([]byte, error)
		}{
			{"systemd.conf", func(p *Profile) ([]byte, error) { return Systemd(p, ExportOptions{}) }},
			{"oci.json", func(p *Profile) ([]byte, error) { return OCI(p, ExportOptions{}) }},
			{"oci-caps.json", OCICapsJSON},
			{"k8s.yaml", func(p *Profile) ([]byte, error) { return K8s(p, ExportOptions{}) }},
		} {
			t.Run(name+"."+f.ext, func(t *testing.T) {
				data, err := f.fn(p)
				if err != nil {
					t.Fatal(err)
				}
				golden(t, name+"."+f.ext, data)
			})
		}
	}
}

// runtimeSpecSeccomp mirrors LinuxSeccomp of the OCI runtime spec
// (specs-go/config.go), which runc, crun and containerd decode.
type runtimeSpecSeccomp struct {
	DefaultAction    string               `json:"defaultAction"`
	DefaultErrnoRet  *uint                `json:"defaultErrnoRet,omitempty"`
	Architectures    []string             `json:"architectures,omitempty"`
	Flags            []string             `json:"flags,omitempty"`
	ListenerPath     string               `json:"listenerPath,omitempty"`
	ListenerMetadata string               `json:"listenerMetadata,omitempty"`
	Syscalls         []runtimeSpecSyscall `json:"syscalls,omitempty"`
}

type runtimeSpecSyscall struct {
	Names    []string         `json:"names"`
	Action   string           `json:"action"`
	ErrnoRet *uint            `json:"errnoRet,omitempty"`
	Args     []runtimeSpecArg `json:"args,omitempty"`
}

type runtimeSpecArg struct {
	Index    uint   `json:"index"`
	Value    uint64 `json:"value"`
	ValueTwo uint64 `json:"valueTwo,omitempty"`
	Op       string `json:"op"`
}

var (
	specActions = []string{"SCMP_ACT_KILL", "SCMP_ACT_KILL_PROCESS", "SCMP_ACT_KILL_THREAD", "SCMP_ACT_TRAP", "SCMP_ACT_ERRNO", "SCMP_ACT_TRACE", "SCMP_ACT_ALLOW", "SCMP_ACT_LOG", "SCMP_ACT_NOTIFY"}
	specOps     = []string{"SCMP_CMP_NE", "SCMP_CMP_LT", "SCMP_CMP_LE", "SCMP_CMP_EQ", "SCMP_CMP_GE", "SCMP_CMP_GT", "SCMP_CMP_MASKED_EQ"}
	specArches  = []string{"SCMP_ARCH_X86", "SCMP_ARCH_X86_64", "SCMP_ARCH_X32", "SCMP_ARCH_ARM", "SCMP_ARCH_AARCH64"}
)

func decodeSpec(t *testing.T, data []byte) runtimeSpecSeccomp {
	t.Helper()
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	var s runtimeSpecSeccomp
	if err := dec.Decode(&s); err != nil {
		t.Fatalf("not a runtime-spec LinuxSeccomp: %v", err)
	}
	return s
}

// TestOCIStructure checks the OCI seccomp JSON against the runtime spec
// and against the profile's intent, rule by rule.
func TestOCIStructure(t *testing.T) {
	p := mustLoad(t, "web.yaml")
	data, err := OCI(p, ExportOptions{})
	if err != nil {
		t.Fatal(err)
	}
	s := decodeSpec(t, data)
	if s.DefaultAction != "SCMP_ACT_ERRNO" || s.DefaultErrnoRet == nil || *s.DefaultErrnoRet != 1 {
		t.Errorf("default %s %v, want ERRNO(EPERM)", s.DefaultAction, s.DefaultErrnoRet)
	}
	if !slices.Equal(s.Architectures, []string{"SCMP_ARCH_X86_64", "SCMP_ARCH_X86"}) {
		t.Errorf("architectures %v (i386 was learned)", s.Architectures)
	}
	allowedPlain := map[string]bool{}
	socketRules := map[[2]uint64]bool{}
	var cloneMask uint64
	seen := map[string]bool{}
	for _, r := range s.Syscalls {
		if !slices.Contains(specActions, r.Action) {
			t.Errorf("action %q not in the spec", r.Action)
		}
		if len(r.Names) == 0 {
			t.Error("rule without names")
		}
		for _, a := range r.Args {
			if !slices.Contains(specOps, a.Op) || a.Index > 5 {
				t.Errorf("bad arg %+v", a)
			}
		}
		for _, n := range r.Names {
			if _, ok := linux.SyscallNumber(linux.X86_64, n); !ok {
				if _, ok := linux.SyscallNumber(linux.I386, n); !ok {
					t.Errorf("unknown syscall name %q", n)
				}
			}
			if len(r.Args) == 0 && seen[n] {
				t.Errorf("%s has an unconditional rule and another one", n)
			}
			seen[n] = true
		}
		switch {
		case r.Names[0] == "clone3":
			if r.Action != "SCMP_ACT_ERRNO" || r.ErrnoRet == nil || *r.ErrnoRet != 38 {
				t.Errorf("clone3 rule %+v, want ERRNO(ENOSYS)", r)
			}
		case r.Names[0] == "socket":
			// One rule per family and type: the args of a rule are ANDed.
			if len(r.Args) != 2 || r.Args[0].Index != 0 || r.Args[0].Op != "SCMP_CMP_EQ" || r.Args[1].Op != "SCMP_CMP_MASKED_EQ" {
				t.Fatalf("socket rule %+v", r)
			}
			socketRules[[2]uint64{r.Args[0].Value, r.Args[1].ValueTwo}] = true
			if r.Args[1].Value&linux.SockFlagsMask != 0 || r.Args[1].Value&linux.SockTypeMask != linux.SockTypeMask {
				t.Errorf("type mask %#x must drop NONBLOCK|CLOEXEC and keep the type", r.Args[1].Value)
			}
		case r.Names[0] == "clone":
			if len(r.Args) != 1 || r.Args[0].Op != "SCMP_CMP_MASKED_EQ" || r.Args[0].ValueTwo != 0 {
				t.Fatalf("clone rule %+v", r)
			}
			cloneMask = r.Args[0].Value
		case r.Action == "SCMP_ACT_ALLOW" && len(r.Args) == 0:
			for _, n := range r.Names {
				allowedPlain[n] = true
			}
		}
	}
	for abi, calls := range p.Syscalls {
		for n := range calls {
			if n == "socket" || n == "clone3" {
				continue
			}
			if !allowedPlain[n] {
				t.Errorf("learned %s syscall %s not allowed", abi, n)
			}
		}
	}
	if !allowedPlain["clone"] && cloneMask == 0 {
		t.Error("clone3 learned: clone must be allowed for the ENOSYS fallback")
	}
	if cloneMask != linux.AllNamespaceFlags {
		t.Errorf("clone mask %#x: no namespace learned, every CLONE_NEW* flag must be denied", cloneMask)
	}
	want := map[[2]uint64]bool{}
	for f, fam := range p.Families {
		fn, _ := linux.FamilyNumber(f)
		for _, ty := range fam.Types {
			tn, _ := linux.SockTypeNumber(ty)
			want[[2]uint64{uint64(fn), uint64(tn)}] = true
		}
	}
	if len(want) != len(socketRules) {
		t.Errorf("socket rules %v, want %v", socketRules, want)
	}
	for k := range want {
		if !socketRules[k] {
			t.Errorf("no socket rule for family %d type %d", k[0], k[1])
		}
	}
	for n := range allowedPlain {
		if _, ok := p.Syscalls["x86_64"][n]; !ok {
			if _, ok := p.Syscalls["i386"][n]; !ok && n != "clone" {
				t.Errorf("%s allowed but not learned", n)
			}
		}
	}
}

// TestOCINetlinkProtocols: socket(AF_NETLINK) gets one rule per type and
// listed protocol, the protocol compared on its low word (the kernel's
// int); socketpair and a profile without protocols (any) get none.
func TestOCINetlinkProtocols(t *testing.T) {
	p := mustLoad(t, "netlink.yaml")
	rules := func(p *Profile) (socket, socketpair map[string]bool) {
		socket, socketpair = map[string]bool{}, map[string]bool{}
		for _, r := range OCIProfile(p, ExportOptions{}).Syscalls {
			if r.Names[0] != "socket" && r.Names[0] != "socketpair" || r.Args[0].Value != uint64(linux.AFNetlink) {
				continue
			}
			key := fmt.Sprint(r.Args[1].ValueTwo)
			if len(r.Args) == 3 {
				a := r.Args[2]
				if a.Index != 2 || a.Op != "SCMP_CMP_MASKED_EQ" || a.Value != 0xffffffff {
					t.Errorf("protocol arg %+v, want the low word of args[2] compared", a)
				}
				key += " " + linux.NetlinkProtocolName(int(a.ValueTwo))
			}
			map[bool]map[string]bool{true: socket, false: socketpair}[r.Names[0] == "socket"][key] = true
		}
		return socket, socketpair
	}
	socket, pair := rules(p)
	want := map[string]bool{}
	for _, ty := range []int{2, 3} {
		for _, pr := range []string{"NETLINK_AUDIT", "NETLINK_ROUTE", "NETLINK_SOCK_DIAG"} {
			want[fmt.Sprint(ty)+" "+pr] = true
		}
	}
	if !reflect.DeepEqual(socket, want) || !reflect.DeepEqual(pair, map[string]bool{"2": true, "3": true}) {
		t.Errorf("socket rules %v (want %v), socketpair %v", socket, want, pair)
	}
	anyProto := p.Clone()
	anyProto.Families["AF_NETLINK"] = Family{Types: []string{"SOCK_RAW"}}
	if socket, pair := rules(anyProto); !reflect.DeepEqual(socket, map[string]bool{"3": true}) || !reflect.DeepEqual(pair, socket) {
		t.Errorf("any protocol: socket rules %v, socketpair %v", socket, pair)
	}
}

func TestOCIActions(t *testing.T) {
	for _, tt := range []struct{ action, want string }{
		{"", "SCMP_ACT_ERRNO"}, {"errno", "SCMP_ACT_ERRNO"}, {"kill-process", "SCMP_ACT_KILL_PROCESS"}, {"log", "SCMP_ACT_LOG"},
	} {
		p := mustLoad(t, "minimal.yaml")
		p.Run.DefaultAction = tt.action
		p.Namespaces = []string{"cgroup", "ipc", "mnt", "net", "pid", "time", "user", "uts"}
		p.Syscalls["x86_64"]["clone"] = ""
		p.Syscalls["x86_64"]["setns"] = ""
		data, err := OCI(p, ExportOptions{})
		if err != nil {
			t.Fatal(err)
		}
		s := decodeSpec(t, data)
		if s.DefaultAction != tt.want || (s.DefaultErrnoRet != nil) != (tt.want == "SCMP_ACT_ERRNO") {
			t.Errorf("%q: default %s errno %v", tt.action, s.DefaultAction, s.DefaultErrnoRet)
		}
		if !slices.Equal(s.Architectures, []string{"SCMP_ARCH_X86_64"}) {
			t.Errorf("architectures %v", s.Architectures)
		}
		// every namespace learned: clone and setns need no argument rule.
		if !slices.Contains(s.Syscalls[0].Names, "clone") || !slices.Contains(s.Syscalls[0].Names, "setns") {
			t.Errorf("clone/setns not plainly allowed: %+v", s.Syscalls)
		}
	}
}

func TestOCIAllowedOption(t *testing.T) {
	p := mustLoad(t, "minimal.yaml")
	data, err := OCI(p, ExportOptions{Allowed: map[string][]string{"x86_64": {"read", "futex"}}})
	if err != nil {
		t.Fatal(err)
	}
	s := decodeSpec(t, data)
	if !slices.Equal(s.Syscalls[0].Names, []string{"futex", "read"}) {
		t.Errorf("Allowed not used: %v", s.Syscalls[0].Names)
	}
}

func TestOCICaps(t *testing.T) {
	web := OCICaps(mustLoad(t, "web.yaml"))
	if !slices.Equal(web.Ambient, []string{"CAP_NET_BIND_SERVICE"}) || !slices.Equal(web.Inheritable, web.Ambient) || !slices.Equal(web.Bounding, web.Ambient) {
		t.Errorf("web (not root) caps %+v", web)
	}
	root := mustLoad(t, "web.yaml")
	root.Run.User = ""
	c := OCICaps(root)
	if len(c.Ambient) != 0 || len(c.Inheritable) != 0 || !slices.Equal(c.Effective, []string{"CAP_NET_BIND_SERVICE"}) {
		t.Errorf("root caps %+v", c)
	}
	data, _ := OCICapsJSON(mustLoad(t, "minimal.yaml"))
	if !strings.Contains(string(data), `"bounding": []`) {
		t.Errorf("no caps must be [] not null:\n%s", data)
	}
}

func TestK8sStructure(t *testing.T) {
	data, err := K8s(mustLoad(t, "web.yaml"), ExportOptions{K8sNamespace: "apps"})
	if err != nil {
		t.Fatal(err)
	}
	dec := yaml.NewDecoder(bytes.NewReader(data))
	var sp struct {
		APIVersion string `yaml:"apiVersion"`
		Kind       string `yaml:"kind"`
		Metadata   struct{ Name, Namespace string }
		Spec       struct {
			DefaultAction string   `yaml:"defaultAction"`
			Architectures []string `yaml:"architectures"`
			Syscalls      []struct {
				Names  []string
				Action string
				Args   []map[string]any
			}
		}
	}
	if err := dec.Decode(&sp); err != nil {
		t.Fatal(err)
	}
	if sp.APIVersion != "security-profiles-operator.x-k8s.io/v1beta1" || sp.Kind != "SeccompProfile" || sp.Metadata.Name != "web" || sp.Metadata.Namespace != "apps" {
		t.Errorf("SeccompProfile header %+v", sp)
	}
	if sp.Spec.DefaultAction != "SCMP_ACT_ERRNO" || len(sp.Spec.Architectures) != 2 || len(sp.Spec.Syscalls) < 3 {
		t.Errorf("spec %+v", sp.Spec)
	}
	var pod struct {
		Spec struct {
			SecurityContext struct {
				RunAsNonRoot   *bool `yaml:"runAsNonRoot"`
				SeccompProfile struct {
					Type             string
					LocalhostProfile string `yaml:"localhostProfile"`
				} `yaml:"seccompProfile"`
			} `yaml:"securityContext"`
			Containers []struct {
				Name            string
				SecurityContext struct {
					AllowPrivilegeEscalation *bool `yaml:"allowPrivilegeEscalation"`
					Capabilities             struct{ Drop, Add []string }
				} `yaml:"securityContext"`
			}
		}
	}
	if err := dec.Decode(&pod); err != nil {
		t.Fatal(err)
	}
	sc := pod.Spec.SecurityContext
	if sc.SeccompProfile.Type != "Localhost" || sc.SeccompProfile.LocalhostProfile != "operator/apps/web.json" {
		t.Errorf("seccompProfile %+v", sc.SeccompProfile)
	}
	if sc.RunAsNonRoot != nil {
		t.Error("runAsNonRoot set for a named user (Kubernetes cannot check it)")
	}
	if len(pod.Spec.Containers) != 1 {
		t.Fatalf("containers %+v", pod.Spec.Containers)
	}
	c := pod.Spec.Containers[0].SecurityContext
	if c.AllowPrivilegeEscalation == nil || *c.AllowPrivilegeEscalation || !slices.Equal(c.Capabilities.Drop, []string{"ALL"}) || !slices.Equal(c.Capabilities.Add, []string{"NET_BIND_SERVICE"}) {
		t.Errorf("container securityContext %+v", c)
	}
	var extra any
	if err := dec.Decode(&extra); err == nil {
		t.Error("more than two documents")
	}

	p := mustLoad(t, "web.yaml")
	p.Run.User = "1001"
	data, _ = K8s(p, ExportOptions{})
	if !strings.Contains(string(data), "runAsNonRoot: true\n    runAsUser: 1001\n") {
		t.Errorf("numeric user: no runAsNonRoot/runAsUser:\n%s", data)
	}
}

func TestK8sName(t *testing.T) {
	for in, want := range map[string]string{"web": "web", "My_App 2": "my-app-2", "--": "component", "a.b": "a.b"} {
		if got := k8sName(in); got != want || !regexp.MustCompile(`^[a-z0-9]([a-z0-9.-]*[a-z0-9])?$`).MatchString(got) {
			t.Errorf("k8sName(%q) = %q, want %q", in, got, want)
		}
	}
}

// systemdVerify writes a service with ExecStart=/bin/true and the drop-in's
// settings and runs systemd-analyze verify on it. It returns the warnings;
// a unit systemd rejects fails the test.
func systemdVerify(t *testing.T, dropIn []byte) []string {
	t.Helper()
	warnings, err := systemdAnalyze(t, dropIn)
	if err != nil {
		t.Fatal(err)
	}
	return warnings
}

// systemdAnalyze runs systemd-analyze verify on a service built around the
// drop-in (systemd verifies units, not drop-ins, and refuses a service
// without ExecStart=). It returns the warnings about the unit, and an
// error when systemd rejects it.
func systemdAnalyze(t *testing.T, dropIn []byte) ([]string, error) {
	t.Helper()
	analyze, err := exec.LookPath("systemd-analyze")
	if err != nil {
		testutil.SkipOrFail(t, "systemd-analyze not installed (Debian package systemd)")
	}
	dir := t.TempDir()
	unit := filepath.Join(dir, "leash-export-test.service")
	body := "[Unit]\nDescription=leash export test\n\n" + strings.Replace(string(dropIn), "[Service]\n", "[Service]\nExecStart=/bin/true\n", 1)
	if err := os.WriteFile(unit, []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(analyze, "verify", "--man=no", unit)
	cmd.Env = append(os.Environ(), "SYSTEMD_LOG_COLOR=0")
	out, err := cmd.CombinedOutput()
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		return nil, fmt.Errorf("systemd-analyze verify rejects the unit (%v):\n%s\n%s", err, out, body)
	} else if err != nil {
		t.Fatal(err)
	}
	var warnings []string
	for _, l := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		if strings.Contains(l, unit) {
			warnings = append(warnings, l)
		}
	}
	return warnings, nil
}

// TestSystemdVerifyCanFail: the harness of TestSystemdVerify sees what
// systemd objects to, so that its passing means something.
func TestSystemdVerifyCanFail(t *testing.T) {
	good := "[Service]\nNoNewPrivileges=yes\nSystemCallFilter=read write\n"
	if w, err := systemdAnalyze(t, []byte(good)); err != nil || len(w) > 0 {
		t.Fatalf("a good drop-in: warnings %q, %v", w, err)
	}
	for name, dropIn := range map[string]string{
		"unknown syscall": "[Service]\nSystemCallFilter=read frobnicate\n",
		"unknown family":  "[Service]\nRestrictAddressFamilies=AF_BOGUS\n",
		"bad boolean":     "[Service]\nNoNewPrivileges=maybe\n",
		"unknown key":     "[Service]\nSystemCallFilters=read\n",
	} {
		w, err := systemdAnalyze(t, []byte(dropIn))
		if err == nil && len(w) == 0 {
			t.Errorf("%s: systemd-analyze verify found nothing wrong with %q", name, dropIn)
		}
	}
	// A unit systemd refuses (no ExecStart=) is an error, not a warning.
	if _, err := systemdAnalyze(t, []byte("[Service]\nExecStart=\n")); err == nil {
		t.Error("a service whose ExecStart= is reset is not reported as rejected")
	}
}

// TestSystemdVerify: systemd accepts the drop-ins without a warning about
// any of their lines (a name systemd does not know is only a warning, so
// warnings are failures here).
func TestSystemdVerify(t *testing.T) {
	cases := map[string]*Profile{}
	for _, name := range []string{"web", "minimal", "merge-b", "netlink"} {
		cases[name] = mustLoad(t, name+".yaml")
	}
	arm, err := Load("../testdata/seccomp/arm64.yaml")
	if err != nil {
		t.Fatal(err)
	}
	cases["arm64"] = arm
	logp := mustLoad(t, "web.yaml")
	logp.Run.DefaultAction = "log"
	logp.Run.User = "root"
	logp.Namespaces = []string{"net", "user"}
	logp.Run.Env = []string{"A=50%", `B=x "y"`}
	cases["log"] = logp
	for name, p := range cases {
		t.Run(name, func(t *testing.T) {
			data, err := Systemd(p, ExportOptions{})
			if err != nil {
				t.Fatal(err)
			}
			if !strings.Contains(string(data), "\nSystemCallFilter=") && p.Run.DefaultAction != "log" {
				t.Errorf("no SystemCallFilter= line:\n%s", data)
			}
			if w := systemdVerify(t, data); len(w) > 0 {
				t.Errorf("systemd-analyze verify warns:\n%s\n%s", strings.Join(w, "\n"), data)
			}
		})
	}
}

// TestSystemdSyscallNames: every x86_64 and i386 syscall name of leash's
// tables is known to this host's systemd, except those listed in
// SystemdMayNotKnow; and the families table likewise.
func TestSystemdSyscallNames(t *testing.T) {
	all := map[string][]string{"x86_64": linux.SyscallNames(linux.X86_64), "i386": linux.SyscallNames(linux.I386)}
	p := &Profile{APIVersion: APIVersion, Component: "all", Families: map[string]Family{}}
	for f := 0; f < linux.AFMax; f++ {
		p.Families[linux.FamilyName(f)] = Family{}
	}
	data, err := Systemd(p, ExportOptions{Allowed: all})
	if err != nil {
		t.Fatal(err)
	}
	unknown := regexp.MustCompile(`Failed to parse system call, ignoring: (\S+)`)
	for _, w := range systemdVerify(t, data) {
		m := unknown.FindStringSubmatch(w)
		if m == nil {
			t.Errorf("warning: %s", w)
			continue
		}
		if !SystemdMayNotKnow[m[1]] {
			t.Errorf("systemd does not know %s, and SystemdMayNotKnow does not list it", m[1])
		}
	}
}

// TestSystemdNewSyscallsNoted: syscalls older systemd may not know are
// still allowed, and named in a comment.
func TestSystemdNewSyscallsNoted(t *testing.T) {
	p := mustLoad(t, "minimal.yaml")
	p.Syscalls["x86_64"]["mseal"] = "/usr/bin/true"
	data, err := Systemd(p, ExportOptions{})
	if err != nil {
		t.Fatal(err)
	}
	s := string(data)
	if !regexp.MustCompile(`(?m)^SystemCallFilter=.* mseal`).MatchString(s) || !regexp.MustCompile(`(?m)^# deny them\): mseal$`).MatchString(s) {
		t.Errorf("mseal not allowed and noted:\n%s", s)
	}
}
