package profiles

import (
	"bytes"
	"encoding/json"
	"fmt"
	"regexp"
	"sort"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"

	"github.com/leash-project/leash/linux"
)

// ExportOptions tune the exports.
type ExportOptions struct {
	// Allowed, when not nil, is the syscalls to allow per ABI instead of
	// the learned ones. leash export passes what the seccomp compiler
	// allows (learned, plus widenings), so the exports and leash's own
	// filter agree. clone3 in it is ignored: every export answers it
	// ENOSYS or leaves it to systemd.
	Allowed map[string][]string
	// K8sNamespace is the Kubernetes namespace the SeccompProfile is
	// created in ("default" when empty); it is part of the localhost path.
	K8sNamespace string
}

// allowed returns the syscalls to allow on abi, sorted: opts.Allowed, or
// the learned ones plus clone when clone3 was learned (clone3 is answered
// ENOSYS and libc falls back to clone).
func allowed(p *Profile, opts ExportOptions, abi string) []string {
	if opts.Allowed != nil {
		return sortedSet(cloneSlice(opts.Allowed[abi]))
	}
	calls := p.Syscalls[abi]
	names := sortedKeys(calls)
	if _, ok := calls["clone3"]; ok {
		if _, ok := calls["clone"]; !ok {
			names = sortedSet(append(names, "clone"))
		}
	}
	return names
}

func hasName(names []string, n string) bool {
	i := sort.SearchStrings(names, n)
	return i < len(names) && names[i] == n
}

// provenanceLines describes where p came from, for export headers.
func provenanceLines(p *Profile) []string {
	out := []string{fmt.Sprintf("learned by leash from %s", plural(len(p.Provenance.Runs), "training run"))}
	for _, r := range p.Provenance.Runs {
		var facts []string
		for _, f := range []string{r.Started, r.Host, r.User} {
			if f != "" {
				facts = append(facts, f)
			}
		}
		if r.Kernel != "" {
			facts = append(facts, "kernel "+r.Kernel)
		}
		if r.Leash != "" {
			facts = append(facts, "leash "+r.Leash)
		}
		out = append(out, fmt.Sprintf("  %s: %s", strings.Join(facts, ", "), shellJoin(r.Command)))
		for _, why := range r.Incomplete {
			out = append(out, "  INCOMPLETE: "+why)
		}
		for _, h := range r.Handoffs {
			out = append(out, fmt.Sprintf("  handed off: %s (%s)", h.Executable, handoffHow(h.How)))
		}
	}
	return out
}

// SystemdMayNotKnow lists syscalls added in Linux 6.8 and later (and the
// uprobe syscalls of 6.11 and 6.16). systemd resolves syscall names with
// libseccomp, and libseccomp 2.5.x (Debian 12, Ubuntu 24.04) does not know
// them: systemd then ignores the name with a warning, and the syscall
// gets SystemCallErrorNumber= (or kills). The systemd export names them in
// a comment so a reviewer knows.
var SystemdMayNotKnow = map[string]bool{
	"statmount": true, "listmount": true, "lsm_get_self_attr": true, "lsm_set_self_attr": true,
	"lsm_list_modules": true, "mseal": true, "setxattrat": true, "getxattrat": true,
	"listxattrat": true, "removexattrat": true, "open_tree_attr": true, "file_getattr": true,
	"file_setattr": true, "uretprobe": true, "uprobe": true,
}

// systemdNamespaces maps leash namespace names to RestrictNamespaces= names.
var systemdNamespaces = map[string]string{
	"cgroup": "cgroup", "ipc": "ipc", "mnt": "mnt", "net": "net", "pid": "pid", "time": "time", "user": "user", "uts": "uts",
}

// Systemd returns a drop-in for a service unit ([Service] section) that
// confines the component as far as systemd can express the profile.
func Systemd(p *Profile, opts ExportOptions) ([]byte, error) {
	p = p.Clone()
	p.Normalize()
	var b bytes.Buffer
	line := func(format string, a ...any) { fmt.Fprintf(&b, format+"\n", a...) }
	comment := func(s string) { line("# %s", s) }

	comment(fmt.Sprintf("systemd drop-in for component %q, written by leash export --format systemd.", p.Component))
	for _, l := range provenanceLines(p) {
		comment(l)
	}
	comment("Install it as /etc/systemd/system/UNIT.service.d/leash.conf, then run")
	comment("systemctl daemon-reload; systemd-analyze security UNIT rates the result.")
	comment("systemd builds its own seccomp filter with libseccomp: it allows syscalls by")
	comment("name only, without leash's argument rules on socket types and clone flags")
	comment("(RestrictAddressFamilies= and RestrictNamespaces= cover families and namespaces).")
	line("[Service]")

	r := p.Run
	setsUser := false
	if isRoot(r.User) {
		comment("User= not set: the profile runs the component as root (run.user is " + orDefault(r.User, "empty") + ").")
	} else if r.User == "nobody" {
		comment("User=nobody not set: nobody is shared by many services (systemd warns); set")
		comment("User= to a dedicated user, or DynamicUser=yes.")
	} else {
		line("User=%s", r.User)
		setsUser = true
	}
	switch {
	case r.Group != "" && r.Group != "root" && r.Group != "0":
		line("Group=%s", r.Group)
	case r.Group != "":
		comment("Group= not set: the profile runs the component in group " + r.Group + ".")
	}
	line("NoNewPrivileges=yes")

	caps := sortedKeys(p.Capabilities.Needed)
	if len(caps) == 0 {
		comment("No capability was granted in an audited check: the bounding set is empty.")
		line("CapabilityBoundingSet=")
	} else {
		line("CapabilityBoundingSet=%s", strings.Join(caps, " "))
		if setsUser {
			// Without them an unprivileged user has the bounding set but
			// no capability in effect.
			line("AmbientCapabilities=%s", strings.Join(caps, " "))
		}
	}
	if dropped := len(p.Capabilities.Noaudit) + len(p.Capabilities.Denied); dropped > 0 {
		comment(fmt.Sprintf("Dropped: %s (only probed silently or never granted).",
			strings.Join(append(sortedKeys(p.Capabilities.Noaudit), sortedKeys(p.Capabilities.Denied)...), " ")))
	}

	native := allowed(p, opts, "x86_64")
	if len(native) == 0 {
		// A profile learned on arm64: systemd on that host calls it native.
		native = allowed(p, opts, "arm64")
	}
	compat := allowed(p, opts, "i386")
	if len(compat) > 0 {
		line("SystemCallArchitectures=native x86")
	} else {
		line("SystemCallArchitectures=native")
	}
	names := sortedSet(append(cloneSlice(native), compat...))
	if hasName(names, "clone") && !hasName(names, "clone3") {
		// glibc tries clone3 first and falls back to clone only on ENOSYS;
		// systemd answers clone3 ENOSYS itself under RestrictNamespaces=.
		names = sortedSet(append(names, "clone3"))
	}
	var unknown []string
	for _, n := range names {
		if SystemdMayNotKnow[n] {
			unknown = append(unknown, n)
		}
	}
	if len(unknown) > 0 {
		comment("Newer than libseccomp 2.5 (systemd may ignore them with a warning, and then")
		comment("deny them): " + strings.Join(unknown, " "))
	}
	filterKey := "SystemCallFilter"
	switch r.DefaultAction {
	case "log":
		comment("defaultAction log: nothing is denied; every syscall outside the profile is logged.")
		filterKey = "SystemCallLog"
	case "kill-process":
		comment("defaultAction kill-process: a syscall outside the profile kills the process (SIGSYS).")
	}
	if len(names) == 0 {
		comment("No syscall was learned.")
	}
	for i := 0; i < len(names); i += 8 {
		prefix := ""
		if i == 0 && filterKey == "SystemCallLog" {
			prefix = "~"
		}
		line("%s=%s%s", filterKey, prefix, strings.Join(names[i:min(i+8, len(names))], " "))
	}
	if r.DefaultAction == "" || r.DefaultAction == "errno" {
		line("SystemCallErrorNumber=EPERM")
	}

	var fams []string
	for _, f := range sortedKeys(p.Families) {
		if f == "AF_UNSPEC" {
			// socket(AF_UNSPEC, ...) only ever fails; systemd has no name for it.
			comment("AF_UNSPEC was seen (such a socket call always fails): not listed.")
			continue
		}
		fams = append(fams, f)
	}
	if len(fams) == 0 {
		line("RestrictAddressFamilies=none")
	} else {
		line("RestrictAddressFamilies=%s", strings.Join(fams, " "))
	}
	if nl, ok := p.Families[netlinkFamily]; ok {
		if len(nl.Protocols) > 0 {
			comment("systemd cannot restrict netlink protocols: AF_NETLINK allows every one here,")
			comment("while leash run and the OCI export allow only the profile's:")
			comment("  " + strings.Join(nl.Protocols, " "))
		} else {
			comment("AF_NETLINK: the profile lists no netlink protocols, so any is allowed (as by leash run).")
		}
	}
	if hasName(names, "clone3") {
		comment("clone3 is listed so that libc can start threads; RestrictNamespaces= makes")
		comment("systemd answer it ENOSYS (its flags cannot be checked) and libc falls back to clone.")
	}
	if len(p.Namespaces) == 0 {
		line("RestrictNamespaces=yes")
	} else {
		var ns []string
		for _, n := range p.Namespaces {
			ns = append(ns, systemdNamespaces[n])
		}
		line("RestrictNamespaces=%s", strings.Join(ns, " "))
	}

	if r.PrivateTmp {
		line("PrivateTmp=yes")
	}
	if r.ProtectSystem != "" {
		line("ProtectSystem=%s", r.ProtectSystem)
	}
	if r.ProtectHome {
		line("ProtectHome=yes")
	}
	if r.DevicesPrivate() {
		line("PrivateDevices=yes")
	}
	if r.KernelTunablesProtected() {
		line("ProtectKernelTunables=yes")
	}
	runNS := map[string]bool{}
	for _, n := range r.Namespaces {
		runNS[n] = true
	}
	if runNS["net"] {
		line("PrivateNetwork=yes")
	}
	if runNS["ipc"] {
		line("PrivateIPC=yes")
	}
	if runNS["uts"] {
		line("ProtectHostname=yes")
	}
	if runNS["mnt"] {
		line("PrivateMounts=yes")
	}
	if runNS["pid"] {
		comment("run.namespaces has pid: systemd 257+ can give the service its own with PrivatePIDs=yes.")
	}
	learned := func(abiNames ...string) bool {
		for _, n := range abiNames {
			if hasName(native, n) || hasName(compat, n) {
				return true
			}
		}
		return false
	}
	if !learned("init_module", "finit_module", "delete_module") {
		line("ProtectKernelModules=yes")
	}
	line("ProtectKernelTunables=yes")
	if !learned("syslog") {
		line("ProtectKernelLogs=yes")
	}
	line("ProtectControlGroups=yes")
	if !learned("clock_settime", "clock_settime64", "settimeofday", "adjtimex", "clock_adjtime", "clock_adjtime64", "stime") {
		line("ProtectClock=yes")
	}
	if !learned("personality") {
		line("LockPersonality=yes")
	}
	if !learned("sched_setscheduler", "sched_setattr") {
		line("RestrictRealtime=yes")
	}
	line("RestrictSUIDSGID=yes")
	comment("Not set: MemoryDenyWriteExecute= (breaks JITs; the profile cannot tell), PrivateDevices=")
	comment("(the profile does not record which device files are opened).")
	if r.ClearEnv {
		comment("run.clearEnv: systemd starts services with a clean environment already.")
	}
	for _, e := range r.Env {
		// % starts a specifier in unit files.
		line("Environment=%s", strings.ReplaceAll(strconv.Quote(e), "%", "%%"))
	}
	return b.Bytes(), nil
}

// OCISeccomp is the seccomp section of an OCI runtime spec
// (linux.seccomp), and the profile format of Docker, Podman and
// containerd (--security-opt seccomp=FILE).
type OCISeccomp struct {
	DefaultAction   string       `json:"defaultAction" yaml:"defaultAction"`
	DefaultErrnoRet *uint        `json:"defaultErrnoRet,omitempty" yaml:"-"`
	Architectures   []string     `json:"architectures" yaml:"architectures,flow"`
	Syscalls        []OCISyscall `json:"syscalls" yaml:"syscalls"`
}

// OCISyscall is one rule: the syscalls named get Action when every Arg
// holds (the args of one rule are ANDed).
type OCISyscall struct {
	Names    []string `json:"names" yaml:"names,flow"`
	Action   string   `json:"action" yaml:"action"`
	ErrnoRet *uint    `json:"errnoRet,omitempty" yaml:"errnoRet,omitempty"`
	Args     []OCIArg `json:"args,omitempty" yaml:"args,omitempty"`
}

// OCIArg compares one syscall argument.
type OCIArg struct {
	Index    uint   `json:"index" yaml:"index"`
	Value    uint64 `json:"value" yaml:"value"`
	ValueTwo uint64 `json:"valueTwo,omitempty" yaml:"valueTwo,omitempty"`
	Op       string `json:"op" yaml:"op"`
}

// OCICapabilities is process.capabilities of an OCI runtime spec.
type OCICapabilities struct {
	Bounding    []string `json:"bounding"`
	Effective   []string `json:"effective"`
	Permitted   []string `json:"permitted"`
	Inheritable []string `json:"inheritable"`
	Ambient     []string `json:"ambient"`
}

var ociArch = map[string]string{"x86_64": "SCMP_ARCH_X86_64", "i386": "SCMP_ARCH_X86", "arm64": "SCMP_ARCH_AARCH64"}

const (
	errnoEPERM  uint = 1
	errnoENOSYS uint = 38
)

// OCIProfile builds the seccomp rules of p. They follow leash's filter:
// learned syscalls allowed by name; socket and socketpair only for the
// learned families and types (SOCK_NONBLOCK and SOCK_CLOEXEC masked), one
// rule per family and type since the args of a rule are ANDed, and socket
// for AF_NETLINK only with its protocols when the profile lists them (one
// rule per type and protocol; none listed: any protocol); clone and
// unshare only without the CLONE_NEW* flags of namespaces not learned;
// setns only with a non-zero nstype of learned namespaces; clone3
// answered ENOSYS so libc falls back to clone.
//
// Unlike leash's filter it has one name list for every architecture (the
// OCI format has no per-ABI list), so when i386 syscalls were learned the
// union is allowed on both ABIs; and it cannot answer syscalls newer than
// the table with ENOSYS. A test holds it to leash's filter for x86_64.
func OCIProfile(p *Profile, opts ExportOptions) *OCISeccomp {
	p = p.Clone()
	p.Normalize()
	s := &OCISeccomp{Architectures: []string{}, Syscalls: []OCISyscall{}}
	switch p.Run.DefaultAction {
	case "kill-process":
		s.DefaultAction = "SCMP_ACT_KILL_PROCESS"
	case "log":
		s.DefaultAction = "SCMP_ACT_LOG"
	default:
		s.DefaultAction = "SCMP_ACT_ERRNO"
		e := errnoEPERM
		s.DefaultErrnoRet = &e
	}
	var names []string
	for _, abi := range []string{"x86_64", "i386", "arm64"} {
		a := allowed(p, opts, abi)
		if len(a) > 0 || (abi == "x86_64" && len(p.Syscalls["arm64"]) == 0) {
			s.Architectures = append(s.Architectures, ociArch[abi])
		}
		names = append(names, a...)
	}
	names = sortedSet(names)

	var plain []string
	var rules []OCISyscall
	var nsLearned uint64
	for _, n := range p.Namespaces {
		f, _ := linux.NamespaceFlag(n)
		nsLearned |= f
	}
	nsDenied := linux.AllNamespaceFlags &^ nsLearned
	allow := func(name string, args ...OCIArg) {
		rules = append(rules, OCISyscall{Names: []string{name}, Action: "SCMP_ACT_ALLOW", Args: args})
	}
	for _, n := range names {
		switch n {
		case "clone3":
			// below
		case "socket", "socketpair":
			for _, f := range sortedKeys(p.Families) {
				nr, _ := linux.FamilyNumber(f)
				dom := OCIArg{Index: 0, Value: uint64(nr), Op: "SCMP_CMP_EQ"}
				// A family learned without a type allows nothing, as in
				// leash's filter.
				for _, t := range p.Families[f].Types {
					tn, _ := linux.SockTypeNumber(t)
					typ := OCIArg{Index: 1, Value: 0xffffffff &^ uint64(linux.SockFlagsMask), ValueTwo: uint64(tn), Op: "SCMP_CMP_MASKED_EQ"}
					protocols := p.Families[f].Protocols
					if n != "socket" || len(protocols) == 0 {
						// No protocols (any), or socketpair, which
						// leash's filter does not hold to them.
						allow(n, dom, typ)
						continue
					}
					for _, pr := range protocols {
						pn, _ := linux.NetlinkProtocolNumber(pr)
						// The low word only, as the kernel reads its int.
						allow(n, dom, typ, OCIArg{Index: 2, Value: 0xffffffff, ValueTwo: uint64(pn), Op: "SCMP_CMP_MASKED_EQ"})
					}
				}
			}
		case "clone", "unshare":
			if nsDenied == 0 {
				plain = append(plain, n)
			} else {
				// (flags & denied) == 0; valueTwo 0 is omitted in JSON.
				allow(n, OCIArg{Index: 0, Value: nsDenied, ValueTwo: 0, Op: "SCMP_CMP_MASKED_EQ"})
			}
		case "setns":
			if nsDenied == 0 {
				plain = append(plain, n)
				continue
			}
			if nsLearned != 0 {
				// nstype names only learned namespaces, and is not 0
				// (0 lets the fd choose any namespace).
				allow(n, OCIArg{Index: 1, Value: 0xffffffff &^ nsLearned, Op: "SCMP_CMP_MASKED_EQ"},
					OCIArg{Index: 1, Value: 0, Op: "SCMP_CMP_NE"})
			}
		default:
			plain = append(plain, n)
		}
	}
	if len(plain) > 0 {
		s.Syscalls = append(s.Syscalls, OCISyscall{Names: plain, Action: "SCMP_ACT_ALLOW"})
	}
	s.Syscalls = append(s.Syscalls, rules...)
	enosys := errnoENOSYS
	s.Syscalls = append(s.Syscalls, OCISyscall{Names: []string{"clone3"}, Action: "SCMP_ACT_ERRNO", ErrnoRet: &enosys})
	return s
}

// OCI returns p's seccomp profile as indented JSON.
func OCI(p *Profile, opts ExportOptions) ([]byte, error) {
	data, err := json.MarshalIndent(OCIProfile(p, opts), "", "  ")
	if err != nil {
		return nil, fmt.Errorf("encode OCI seccomp profile: %w", err)
	}
	return append(data, '\n'), nil
}

// OCICaps returns process.capabilities for an OCI runtime spec: the needed
// capabilities bounding, effective and permitted; inheritable and ambient
// too when the component does not run as root (an unprivileged process
// keeps capabilities across execve only as ambient ones, which must also
// be inheritable).
func OCICaps(p *Profile) *OCICapabilities {
	caps := nonNil(sortedKeys(p.Capabilities.Needed))
	c := &OCICapabilities{Bounding: caps, Effective: caps, Permitted: caps, Inheritable: []string{}, Ambient: []string{}}
	if !isRoot(p.Run.User) {
		c.Inheritable, c.Ambient = caps, caps
	}
	return c
}

// OCICapsJSON returns OCICaps as indented JSON.
func OCICapsJSON(p *Profile) ([]byte, error) {
	data, err := json.MarshalIndent(OCICaps(p), "", "  ")
	if err != nil {
		return nil, fmt.Errorf("encode OCI capabilities: %w", err)
	}
	return append(data, '\n'), nil
}

var nonDNS = regexp.MustCompile(`[^a-z0-9.-]+`)

// k8sName turns a component name into a DNS-1123 subdomain.
func k8sName(s string) string {
	n := strings.Trim(nonDNS.ReplaceAllString(strings.ToLower(s), "-"), "-.")
	if len(n) > 253 {
		n = strings.Trim(n[:253], "-.")
	}
	if n == "" {
		n = "component"
	}
	return n
}

type k8sMeta struct {
	Name        string            `yaml:"name"`
	Namespace   string            `yaml:"namespace"`
	Annotations map[string]string `yaml:"annotations,omitempty"`
}

type k8sSeccompProfile struct {
	APIVersion string      `yaml:"apiVersion"`
	Kind       string      `yaml:"kind"`
	Metadata   k8sMeta     `yaml:"metadata"`
	Spec       *OCISeccomp `yaml:"spec"`
}

// K8s returns a multi-document YAML: a security-profiles-operator
// SeccompProfile holding p's seccomp rules, and a pod spec fragment with
// the securityContext that runs the component under it: capabilities
// dropped but for the needed ones, no privilege escalation, non-root where
// the profile's user is a known uid, and the operator's Localhost profile.
func K8s(p *Profile, opts ExportOptions) ([]byte, error) {
	p = p.Clone()
	p.Normalize()
	ns := opts.K8sNamespace
	if ns == "" {
		ns = "default"
	}
	name := k8sName(p.Component)
	sp := OCIProfile(p, opts)
	var b bytes.Buffer
	fmt.Fprintf(&b, "# Kubernetes export of component %q, written by leash export --format k8s.\n", p.Component)
	for _, l := range provenanceLines(p) {
		fmt.Fprintf(&b, "# %s\n", l)
	}
	b.WriteString("# 1. A security-profiles-operator SeccompProfile (kubectl apply -f).\n")
	doc1 := k8sSeccompProfile{
		APIVersion: "security-profiles-operator.x-k8s.io/v1beta1",
		Kind:       "SeccompProfile",
		Metadata: k8sMeta{Name: name, Namespace: ns, Annotations: map[string]string{
			"leash.dev/component": p.Component,
		}},
		Spec: sp,
	}
	if err := encodeYAML(&b, doc1); err != nil {
		return nil, err
	}
	b.WriteString("---\n")
	b.WriteString("# 2. The pod spec fragment that runs the component under it: merge into your\n")
	b.WriteString("# Deployment's spec.template.spec (the container name is the component's).\n")

	var caps []string
	for _, c := range sortedKeys(p.Capabilities.Needed) {
		caps = append(caps, strings.TrimPrefix(c, "CAP_"))
	}
	podSC := yamlMap()
	r := p.Run
	uid, uidErr := strconv.ParseUint(r.User, 10, 32)
	switch {
	case isRoot(r.User):
		b.WriteString("# runAsNonRoot not set: the profile runs the component as root.\n")
	case uidErr == nil:
		podSC.add("runAsNonRoot", true)
		podSC.add("runAsUser", uid)
	default:
		fmt.Fprintf(&b, "# The profile runs the component as user %q: set runAsUser to its uid, and\n# runAsNonRoot: true (Kubernetes checks only numeric users).\n", r.User)
	}
	if gid, err := strconv.ParseUint(r.Group, 10, 32); err == nil && gid != 0 {
		podSC.add("runAsGroup", gid)
	}
	sc := yamlMap()
	sc.add("type", "Localhost")
	sc.add("localhostProfile", fmt.Sprintf("operator/%s/%s.json", ns, name))
	podSC.add("seccompProfile", sc.node)

	capsNode := yamlMap()
	capsNode.add("drop", []string{"ALL"})
	if len(caps) > 0 {
		capsNode.add("add", caps)
	}
	csc := yamlMap()
	csc.add("allowPrivilegeEscalation", false)
	csc.add("privileged", false)
	csc.add("capabilities", capsNode.node)
	container := yamlMap()
	container.add("name", name)
	container.add("securityContext", csc.node)
	spec := yamlMap()
	spec.add("securityContext", podSC.node)
	spec.add("containers", []*yaml.Node{container.node})
	doc2 := yamlMap()
	doc2.add("spec", spec.node)
	if err := encodeYAML(&b, doc2.node); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}

// mapNode builds an ordered YAML mapping.
type mapNode struct{ node *yaml.Node }

func yamlMap() mapNode { return mapNode{&yaml.Node{Kind: yaml.MappingNode}} }

func (m mapNode) add(key string, v any) {
	var val *yaml.Node
	switch x := v.(type) {
	case *yaml.Node:
		val = x
	default:
		val = &yaml.Node{}
		if err := val.Encode(v); err != nil {
			panic(fmt.Sprintf("encode %T: %v", v, err)) // only fixed types reach here
		}
		if _, ok := v.([]string); ok {
			val.Style = yaml.FlowStyle
		}
	}
	m.node.Content = append(m.node.Content, &yaml.Node{Kind: yaml.ScalarNode, Value: key}, val)
}

func encodeYAML(b *bytes.Buffer, v any) error {
	enc := yaml.NewEncoder(b)
	enc.SetIndent(2)
	if err := enc.Encode(v); err != nil {
		return fmt.Errorf("encode YAML: %w", err)
	}
	return enc.Close()
}
