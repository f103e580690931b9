package main

// Tests of leash run: they start real confined processes and read what
// the kernel says about them (/proc/PID/status of the target). They need
// root (testutil.RequireRoot): in CI they fail rather than skip.

import (
	"bufio"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/leash-project/leash/internal/launch"
	"github.com/leash-project/leash/internal/testutil"
	"github.com/leash-project/leash/linux"
	"github.com/leash-project/leash/profiles"
)

// allNamespaces is every namespace leash run creates.
var allNamespaces = []string{"ipc", "mnt", "net", "pid", "uts"}

// openProfile allows every syscall of the host ABI, so a test sees the
// other steps of the confinement without the filter getting in the way;
// the filter is still installed (Seccomp: 2).
func openProfile(user, group string, caps ...string) *profiles.Profile {
	arch := launch.HostArch()
	p := &profiles.Profile{
		APIVersion: profiles.APIVersion,
		Component:  "probe",
		Syscalls:   map[string]map[string]string{string(arch): {}},
		Families: map[string]profiles.Family{
			"AF_INET":    {Types: []string{"SOCK_STREAM", "SOCK_DGRAM"}},
			"AF_NETLINK": {Types: []string{"SOCK_RAW", "SOCK_DGRAM"}},
			"AF_UNIX":    {Types: []string{"SOCK_STREAM", "SOCK_DGRAM"}},
		},
		Run: profiles.RunOptions{User: user, Group: group, Namespaces: allNamespaces, DefaultAction: "errno"},
	}
	for _, name := range linux.SyscallNames(arch) {
		p.Syscalls[string(arch)][name] = "/probe"
	}
	if len(caps) > 0 {
		p.Capabilities.Needed = map[string]profiles.CapUse{}
		for _, c := range caps {
			p.Capabilities.Needed[c] = profiles.CapUse{Granted: 1, By: "/probe"}
		}
	}
	return p
}

// saveProfile writes p as a root-owned 0644 file, as leash run requires.
func saveProfile(t *testing.T, p *profiles.Profile) string {
	t.Helper()
	path := filepath.Join(worldDir(t), "profile.yaml")
	if err := profiles.Save(path, p); err != nil {
		t.Fatal(err)
	}
	secureProfile(t, path)
	return path
}

func secureProfile(t *testing.T, path string) {
	t.Helper()
	if err := os.Chmod(path, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Chown(path, 0, 0); err != nil {
		t.Fatal(err)
	}
}

// probeBin compiles testdata/run/probe.c.
func probeBin(t *testing.T) string {
	t.Helper()
	return compileC(t, "probe", []string{"../../testdata/run/probe.c"})
}

// statusField returns the value of a /proc/PID/status line.
func statusField(t *testing.T, out, name string) string {
	t.Helper()
	for _, line := range strings.Split(out, "\n") {
		if v, ok := strings.CutPrefix(line, name+":"); ok {
			return strings.Join(strings.Fields(v), " ")
		}
	}
	t.Fatalf("no %s line in:\n%s", name, out)
	return ""
}

func capMask(caps ...string) string {
	var m uint64
	for _, c := range caps {
		n, ok := linux.CapNumber(c)
		if !ok {
			panic(c)
		}
		m |= 1 << n
	}
	return fmt.Sprintf("%016x", m)
}

func TestRunStatus(t *testing.T) {
	testutil.RequireRoot(t)
	probe := probeBin(t)
	tests := []struct {
		name       string
		user       string
		caps       []string
		wantUID    string
		wantAmb    string
		namespaces []string
		nspidLevel int
	}{
		{name: "nobody with a capability", user: "nobody", caps: []string{"CAP_NET_BIND_SERVICE"},
			wantUID: "65534", wantAmb: capMask("CAP_NET_BIND_SERVICE"), namespaces: allNamespaces, nspidLevel: 2},
		{name: "nobody without capabilities", user: "65534", wantUID: "65534", wantAmb: capMask(),
			namespaces: []string{"net"}, nspidLevel: 1},
		{name: "root keeps only its learned capabilities", user: "root", caps: []string{"CAP_CHOWN", "CAP_KILL"},
			wantUID: "0", wantAmb: capMask(), namespaces: allNamespaces, nspidLevel: 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := openProfile(tt.user, "", tt.caps...)
			p.Run.Namespaces = tt.namespaces
			res := runLeash(t, "run", "-p", saveProfile(t, p), "--", probe, "status")
			if res.Code != 0 {
				t.Fatalf("exit %d\n%s%s", res.Code, res.Stdout, res.Stderr)
			}
			out := res.Stdout
			want := tt.wantUID + " " + tt.wantUID + " " + tt.wantUID + " " + tt.wantUID
			if got := statusField(t, out, "Uid"); got != want {
				t.Errorf("Uid = %q, want %q", got, want)
			}
			wantGID := tt.wantUID // nobody's group is 65534, root's 0
			if got := statusField(t, out, "Gid"); got != strings.Repeat(wantGID+" ", 3)+wantGID {
				t.Errorf("Gid = %q, want %s x4", got, wantGID)
			}
			if got := statusField(t, out, "Groups"); got != "" {
				t.Errorf("Groups = %q, want none", got)
			}
			caps := capMask(tt.caps...)
			for _, f := range []string{"CapBnd", "CapPrm", "CapEff"} {
				if got := statusField(t, out, f); got != caps {
					t.Errorf("%s = %s, want %s", f, got, caps)
				}
			}
			if got := statusField(t, out, "CapAmb"); got != tt.wantAmb {
				t.Errorf("CapAmb = %s, want %s", got, tt.wantAmb)
			}
			for f, want := range map[string]string{"NoNewPrivs": "1", "Seccomp": "2", "Seccomp_filters": "1"} {
				if got := statusField(t, out, f); got != want {
					t.Errorf("%s = %s, want %s", f, got, want)
				}
			}
			// The target's /proc is its own PID namespace's (NSpid of
			// both levels is checked from outside in
			// TestRunForwardsSignals).
			if pid := statusField(t, out, "Pid"); tt.nspidLevel == 2 && (pid == "1" || len(pid) > 3) {
				t.Errorf("Pid = %s inside the PID namespace: want a small pid under leash's init", pid)
			}
		})
	}
}

func TestRunNetworkNamespace(t *testing.T) {
	testutil.RequireRoot(t)
	probe := probeBin(t)
	res := runLeash(t, "run", "-p", saveProfile(t, openProfile("nobody", "")), "--", probe, "net")
	if res.Code != 0 {
		t.Fatalf("exit %d\n%s%s", res.Code, res.Stdout, res.Stderr)
	}
	want := "iface: lo up\ntcp: ok\n"
	if res.Stdout != want {
		t.Errorf("inside the net namespace:\n%s\nwant only loopback, up:\n%s", res.Stdout, want)
	}
}

func TestRunMounts(t *testing.T) {
	testutil.RequireRoot(t)
	// The probe must live where the target can still see it: not under
	// /tmp or /var/tmp (private), nor /root or /home (ProtectHome), which
	// rules out the checkout itself when it is cloned there. /var/lib is
	// read-only under ProtectSystem=strict but visible.
	outside, err := os.MkdirTemp("/var/lib", "leash-probe-")
	if err != nil {
		t.Fatal(err)
	}
	defer os.RemoveAll(outside)
	probe, err := filepath.Abs(filepath.Join(outside, "probe"))
	if err != nil {
		t.Fatal(err)
	}
	copyFile(t, probeBin(t), probe)
	marker, err := os.CreateTemp("/tmp", "leash-run-marker-")
	if err != nil {
		t.Fatal(err)
	}
	marker.Close()
	defer os.Remove(marker.Name())
	inside := "/tmp/leash-run-inside-" + strconv.Itoa(os.Getpid())
	defer os.Remove(inside)

	tests := []struct {
		system string
		home   bool
		checks []string
		want   []string
	}{
		{system: "full", checks: []string{"write:/usr/leash-ro", "write:/etc/leash-ro", "write:" + inside, "ls:/tmp", "write:/var/tmp/leash-x"},
			want: []string{"write /usr/leash-ro: Read-only file system", "write /etc/leash-ro: Read-only file system",
				"write " + inside + ": ok", "ls /tmp: 1", "write /var/tmp/leash-x: ok"}},
		{system: "strict", home: true, checks: []string{"write:/usr/leash-ro", "write:/var/leash-ro", "write:" + inside, "write:/dev/null", "ls:/root", "write:/root/x"},
			want: []string{"write /usr/leash-ro: Read-only file system", "write /var/leash-ro: Read-only file system",
				"write " + inside + ": ok", "write /dev/null: ok", "ls /root: 0", "write /root/x: Read-only file system"}},
	}
	for _, tt := range tests {
		t.Run(tt.system, func(t *testing.T) {
			// root without capabilities: file modes allow root to write
			// /usr, so only the read-only mount stops it.
			p := openProfile("root", "")
			p.Run.PrivateTmp, p.Run.ProtectSystem, p.Run.ProtectHome = true, tt.system, tt.home
			res := runLeash(t, append([]string{"run", "-p", saveProfile(t, p), "--", probe}, tt.checks...)...)
			if res.Code != 0 {
				t.Fatalf("exit %d\n%s%s", res.Code, res.Stdout, res.Stderr)
			}
			got := strings.Split(strings.TrimSpace(res.Stdout), "\n")
			if strings.Join(got, "\n") != strings.Join(tt.want, "\n") {
				t.Errorf("got:\n%s\nwant:\n%s", res.Stdout, strings.Join(tt.want, "\n"))
			}
			if _, err := os.Stat(inside); err == nil {
				t.Errorf("%s written inside the private /tmp shows on the host", inside)
			}
			if _, err := os.Stat("/usr/leash-ro"); err == nil {
				os.Remove("/usr/leash-ro")
				t.Errorf("/usr/leash-ro was written")
			}
		})
	}
}

func TestRunFileDescriptors(t *testing.T) {
	testutil.RequireRoot(t)
	probe := probeBin(t)
	// Two descriptors without O_CLOEXEC: leash inherits both; one must
	// not reach the target, the other is asked for with --keep-fd.
	leak, err := syscall.Open("/dev/null", syscall.O_RDONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer syscall.Close(leak)
	kept, err := syscall.Open("/dev/null", syscall.O_RDONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer syscall.Close(kept)
	profile := saveProfile(t, openProfile("nobody", ""))
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"no leak", nil, "fd: 0\nfd: 1\nfd: 2\n"},
		{"kept", []string{"--keep-fd", strconv.Itoa(kept)}, fmt.Sprintf("fd: 0\nfd: 1\nfd: 2\nfd: %d\n", kept)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			args := append([]string{"run", "-p", profile}, tt.args...)
			res := runLeash(t, append(args, "--", probe, "fds")...)
			if res.Code != 0 {
				t.Fatalf("exit %d\n%s%s", res.Code, res.Stdout, res.Stderr)
			}
			if res.Stdout != tt.want {
				t.Errorf("descriptors of the target:\n%s\nwant:\n%s", res.Stdout, tt.want)
			}
		})
	}
}

// TestRunSession: the target runs in a session of its own (it cannot
// reach leash's terminal with TIOCSTI) unless --no-new-session.
func TestRunSession(t *testing.T) {
	testutil.RequireRoot(t)
	probe := probeBin(t)
	p := openProfile("nobody", "")
	p.Run.Namespaces = []string{"net"} // pids as the test sees them
	profile := saveProfile(t, p)
	ours, err := unix.Getsid(0)
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		args    []string
		ownSess bool
	}{{nil, true}, {[]string{"--no-new-session"}, false}} {
		res := runLeash(t, append(append([]string{"run", "-p", profile}, tt.args...), "--", probe, "sid")...)
		var sid, pid int
		if _, err := fmt.Sscanf(res.Stdout, "sid: %d pid: %d", &sid, &pid); err != nil || res.Code != 0 {
			t.Fatalf("%v: exit %d, %q %s", tt.args, res.Code, res.Stdout, res.Stderr)
		}
		if tt.ownSess && sid != pid {
			t.Errorf("%v: target in session %d, want its own (%d)", tt.args, sid, pid)
		}
		if !tt.ownSess && sid != ours {
			t.Errorf("%v: target in session %d, want leash's (%d)", tt.args, sid, ours)
		}
	}
}

func TestRunExitStatus(t *testing.T) {
	testutil.RequireRoot(t)
	probe := probeBin(t)
	for _, ns := range [][]string{allNamespaces, {"net"}} {
		p := openProfile("nobody", "")
		p.Run.Namespaces = ns
		profile := saveProfile(t, p)
		tests := []struct {
			name string
			cmd  []string
			want int
		}{
			{"success", []string{probe, "exit:0"}, 0},
			{"failure", []string{probe, "exit:7"}, 7},
			{"killed", []string{"/bin/sh", "-c", "kill -KILL $$"}, 128 + 9},
			{"terminated", []string{"/bin/sh", "-c", "kill -TERM $$"}, 128 + 15},
			{"not found", []string{"/nonexistent/leash-test"}, 127},
			{"not executable", []string{"/etc/hostname"}, 126},
		}
		for _, tt := range tests {
			t.Run(strings.Join(ns, ",")+"/"+tt.name, func(t *testing.T) {
				res := runLeash(t, append([]string{"run", "-p", profile, "--"}, tt.cmd...)...)
				if res.Code != tt.want {
					t.Errorf("exit %d, want %d\n%s%s", res.Code, tt.want, res.Stdout, res.Stderr)
				}
			})
		}
	}
}

func TestRunForwardsSignals(t *testing.T) {
	testutil.RequireRoot(t)
	probe := probeBin(t)
	for _, ns := range [][]string{allNamespaces, {"net"}} {
		t.Run(strings.Join(ns, ","), func(t *testing.T) {
			p := openProfile("nobody", "")
			p.Run.Namespaces = ns
			cmd := exec.Command(leashBin(t), "run", "-p", saveProfile(t, p), "--", probe, "wait")
			sc, stderr := testutil.StartLines(t, cmd)
			awaitReady(t, cmd, sc, stderr)
			checkPIDNamespace(t, cmd.Process.Pid, len(ns) > 1)
			cmd.Process.Signal(syscall.SIGTERM)
			var rest []string
			for sc.Scan() {
				rest = append(rest, sc.Text())
			}
			timer := time.AfterFunc(30*time.Second, func() { cmd.Process.Kill() })
			defer timer.Stop()
			cmd.Wait()
			if got := exitStatus(cmd.ProcessState); got != 42 {
				t.Errorf("exit %d, want 42 (the target's SIGTERM handler)\n%s", got, stderr.String())
			}
			if strings.Join(rest, "\n") != "got: SIGTERM" {
				t.Errorf("target said %q after SIGTERM", rest)
			}
		})
	}
}

// TestRunForwardsSignalsToGroup: in a session of its own (the default)
// the target's whole process group gets the forwarded signal, so a shell
// stops together with the command it waits for; with --no-new-session
// only the target gets it. The shell traps SIGTERM and runs the trap only
// once its foreground sleep has ended: it ends early only if the sleep
// got the signal too.
func TestRunForwardsSignalsToGroup(t *testing.T) {
	testutil.RequireRoot(t)
	tests := []struct {
		name  string
		ns    []string
		args  []string
		group bool
	}{
		{"own session", []string{"net"}, nil, true},
		{"own session, pid namespace", allNamespaces, nil, true},
		{"no new session", []string{"net"}, []string{"--no-new-session"}, false},
		{"no new session, pid namespace", allNamespaces, []string{"--no-new-session"}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			sleep := []string{"sleep", testutil.UniqueSleep(60)}
			testutil.KillAtCleanup(t, sleep...)
			p := openProfile("nobody", "")
			p.Run.Namespaces = tt.ns
			script := `trap 'echo sh: TERM' TERM; echo ready; ` + strings.Join(sleep, " ") + `; echo sh: done`
			args := append(append([]string{"run", "-p", saveProfile(t, p)}, tt.args...), "--", "/bin/sh", "-c", script)
			cmd := exec.Command(leashBin(t), args...)
			sc, stderr := testutil.StartLines(t, cmd)
			// A leftover sleep holds stdout: end it too when leash hangs.
			timer := time.AfterFunc(15*time.Second, func() {
				cmd.Process.Kill()
				for _, pid := range testutil.Processes(sleep...) {
					syscall.Kill(pid, syscall.SIGKILL)
				}
			})
			defer timer.Stop()
			awaitReady(t, cmd, sc, stderr)
			// Signal once the sleep runs: a shell signalled before it
			// forks would wait for the sleep whoever gets the signal.
			if len(testutil.WaitStarted(10*time.Second, sleep...)) == 0 {
				cmd.Process.Kill()
				cmd.Wait()
				t.Fatalf("the sleep did not start: %s", stderr.String())
			}
			start := time.Now()
			cmd.Process.Signal(syscall.SIGTERM)
			if !tt.group {
				// Only the shell got it: the sleep still runs, and the
				// shell waits for it. End the sleep to let it go on.
				time.Sleep(500 * time.Millisecond)
				pids := testutil.Processes(sleep...)
				if len(pids) != 1 {
					t.Errorf("sleep processes after SIGTERM: %v, want one (--no-new-session forwards to the target only)", pids)
				}
				for _, pid := range pids {
					syscall.Kill(pid, syscall.SIGKILL)
				}
			}
			var rest []string
			for sc.Scan() {
				rest = append(rest, sc.Text())
			}
			cmd.Wait()
			if d := time.Since(start); tt.group && d > 5*time.Second {
				t.Errorf("leash run took %s after SIGTERM: the sleep did not get it", d.Round(time.Millisecond))
			}
			if got := exitStatus(cmd.ProcessState); got != 0 {
				t.Errorf("exit %d, want 0 (the shell's trap)\n%s", got, stderr.String())
			}
			if got := strings.Join(rest, "\n"); got != "sh: TERM\nsh: done" {
				t.Errorf("the shell said %q after SIGTERM", got)
			}
			if left := testutil.WaitGone(2*time.Second, sleep...); len(left) > 0 {
				t.Errorf("sleep %v still running after leash run exited", left)
			}
		})
	}
}

// checkPIDNamespace finds the target below leash (pid) and checks its
// NSpid: two levels under leash's init with a PID namespace, one without.
func checkPIDNamespace(t *testing.T, pid int, pidns bool) {
	t.Helper()
	child := testutil.Children(pid)
	if len(child) != 1 {
		t.Errorf("leash has children %v, want one", child)
		return
	}
	target := child[0]
	if pidns {
		init, _ := os.ReadFile(fmt.Sprintf("/proc/%d/status", child[0]))
		if got, want := statusField(t, string(init), "NSpid"), fmt.Sprintf("%d 1", child[0]); got != want {
			t.Errorf("init NSpid = %q, want %q", got, want)
		}
		grand := testutil.Children(child[0])
		if len(grand) != 1 {
			t.Errorf("leash's init has children %v, want one", grand)
			return
		}
		target = grand[0]
	}
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", target))
	if err != nil {
		t.Fatal(err)
	}
	nspid := strings.Fields(statusField(t, string(b), "NSpid"))
	want := 1
	if pidns {
		want = 2
	}
	if len(nspid) != want || nspid[0] != strconv.Itoa(target) {
		t.Errorf("target NSpid = %v, want %d levels starting with %d", nspid, want, target)
	}
	if comm := statusField(t, string(b), "Name"); comm != "probe" {
		t.Errorf("target is %q, want probe", comm)
	}
}

func TestRunProfilePermissions(t *testing.T) {
	testutil.RequireRoot(t)
	tests := []struct {
		name  string
		mode  os.FileMode
		owner int
		want  string
	}{
		{"group writable", 0o664, 0, "writable by group or others (mode 0664)"},
		{"world writable", 0o646, 0, "writable by group or others (mode 0646)"},
		{"not owned by root", 0o644, 65534, "owned by uid 65534"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := saveProfile(t, openProfile("nobody", ""))
			if err := os.Chmod(path, tt.mode); err != nil {
				t.Fatal(err)
			}
			if err := os.Chown(path, tt.owner, 0); err != nil {
				t.Fatal(err)
			}
			res := runLeash(t, "run", "-p", path, "--", "/bin/true")
			if res.Code != 2 || !strings.Contains(res.Stderr, tt.want) {
				t.Errorf("exit %d, stderr %q; want 2 and %q", res.Code, res.Stderr, tt.want)
			}
		})
	}
}

func TestRunRequiresExecve(t *testing.T) {
	testutil.RequireRoot(t)
	p := openProfile("nobody", "")
	delete(p.Syscalls[string(launch.HostArch())], "execve")
	res := runLeash(t, "run", "-p", saveProfile(t, p), "--", "/bin/true")
	if res.Code != 2 || !strings.Contains(res.Stderr, "must list execve") {
		t.Errorf("exit %d, stderr %q; want 2 and an execve error", res.Code, res.Stderr)
	}
}

// TestRunSetuidAndFileCaps: under no_new_privs a set-uid-root copy of a
// program runs with the caller's ids, and a program with file
// capabilities it cannot get is refused with a reason. The controls show
// that both files work as such without leash.
func TestRunSetuidAndFileCaps(t *testing.T) {
	testutil.RequireRoot(t)
	dir := worldDir(t)
	idCopy := filepath.Join(dir, "id-suid")
	copyFile(t, "/usr/bin/id", idCopy)
	if err := syscall.Chmod(idCopy, 0o4755); err != nil { // os.Chmod drops 0o4000
		t.Fatal(err)
	}
	nobody := &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: 65534, Gid: 65534}}
	ctl := exec.Command(idCopy, "-u")
	ctl.SysProcAttr = nobody
	if out, err := ctl.Output(); err != nil || strings.TrimSpace(string(out)) != "0" {
		t.Fatalf("control: set-uid copy of id run by nobody says %q (%v), want euid 0", out, err)
	}
	profile := saveProfile(t, openProfile("nobody", ""))
	res := runLeash(t, "run", "-p", profile, "--", idCopy, "-u")
	if res.Code != 0 || strings.TrimSpace(res.Stdout) != "65534" {
		t.Errorf("set-uid copy under leash run: exit %d, euid %q; want 0 and 65534\n%s", res.Code, res.Stdout, res.Stderr)
	}

	// A capability-dumb program: file capabilities with the effective bit.
	// The kernel refuses to exec it when it cannot grant them all.
	capCopy := filepath.Join(dir, "id-caps")
	copyFile(t, "/usr/bin/id", capCopy)
	setFileCaps(t, capCopy, "CAP_NET_RAW")
	ctl = exec.Command(capCopy, "-u")
	ctl.SysProcAttr = nobody
	if out, err := ctl.Output(); err != nil {
		t.Fatalf("control: %s with file capabilities, run by nobody: %v %s", capCopy, err, out)
	}
	res = runLeash(t, "run", "-p", profile, "--", capCopy, "-u")
	if res.Code != 126 || !strings.Contains(res.Stderr, "file capabilities") {
		t.Errorf("file-capability program under leash run: exit %d, stderr %q; want 126 and a reason", res.Code, res.Stderr)
	}
}

func copyFile(t *testing.T, from, to string) {
	t.Helper()
	b, err := os.ReadFile(from)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(to, b, 0o755); err != nil {
		t.Fatal(err)
	}
}

// setFileCaps gives path the permitted and effective file capability
// (struct vfs_cap_data, revision 2), as setcap cap+ep would.
func setFileCaps(t *testing.T, path, capName string) {
	t.Helper()
	n, ok := linux.CapNumber(capName)
	if !ok {
		t.Fatal(capName)
	}
	var b [20]byte
	le := func(off int, v uint32) {
		b[off], b[off+1], b[off+2], b[off+3] = byte(v), byte(v>>8), byte(v>>16), byte(v>>24)
	}
	le(0, 0x02000000|0x1) // VFS_CAP_REVISION_2 | VFS_CAP_FLAGS_EFFECTIVE
	le(4+8*(n/32), 1<<(n%32))
	if err := syscall.Setxattr(path, "security.capability", b[:], 0); err != nil {
		t.Fatalf("set file capabilities on %s: %v", path, err)
	}
}

// TestRunTrueThousandTimes: the profile leash learn writes for /bin/true,
// run with every namespace and a kill-process default, launches /bin/true
// every time: none of leash's own syscalls may reach the filter.
func TestRunTrueThousandTimes(t *testing.T) {
	testutil.RequireRoot(t)
	res, learned := learn(t, worldDir(t), "true", "--user", "nobody", "--", "/bin/true")
	if res.Code != 0 {
		t.Fatalf("leash learn -- /bin/true: exit %d\n%s", res.Code, res.Stderr)
	}
	p := loadProfile(t, learned, res)
	if len(p.Provenance.Executables) == 0 {
		t.Fatalf("%s records no executable digest: leash run would not check the binary", learned)
	}
	p.Run.Group = "nogroup"
	p.Run.Namespaces = []string{"ipc", "mnt", "net", "pid", "uts"}
	p.Run.DefaultAction = "kill-process"
	profile := saveProfile(t, p)
	bin := leashBin(t)
	const n = 1000
	ok := 0
	var last string
	for i := 0; i < n; i++ {
		cmd := exec.Command(bin, "run", "-p", profile, "--", "/bin/true")
		out, err := cmd.CombinedOutput()
		if err == nil {
			ok++
		} else {
			last = fmt.Sprintf("%v: %s", err, out)
		}
	}
	if ok != n {
		t.Errorf("/bin/true under kill-process: %d of %d launches succeeded; last failure: %s", ok, n, last)
	}

	// Without root: no namespaces, no id switch, but no_new_privs and the
	// same filter, as any user may run leash.
	p.Run.User, p.Run.Group, p.Run.Namespaces = "", "", nil
	unpriv := saveProfile(t, p)
	const m = 200
	ok = 0
	for i := 0; i < m; i++ {
		cmd := exec.Command(bin, "run", "-p", unpriv, "--", "/bin/true")
		cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: 65534, Gid: 65534}}
		out, err := cmd.CombinedOutput()
		if err == nil {
			ok++
		} else {
			last = fmt.Sprintf("%v: %s", err, out)
		}
	}
	if ok != m {
		t.Errorf("/bin/true under kill-process, leash run by nobody: %d of %d launches succeeded; last failure: %s", ok, m, last)
	}
}

// TestRunDenialReports: enforce mode names what it denied, on stderr and
// as JSON lines; complain mode denies nothing and writes what it would
// have denied as a profile fragment.
func TestRunDenialReports(t *testing.T) {
	testutil.RequireRoot(t)
	profile := filepath.Join(worldDir(t), "true.yaml")
	copyFile(t, "../../testdata/run/true.yaml", profile)
	secureProfile(t, profile)
	dir := t.TempDir()
	// cat of a file needs fadvise64/getrandom/write beyond /bin/true's
	// profile; under kill-process the first one kills it.
	jsonl := filepath.Join(dir, "denials.jsonl")
	var res leashResult
	// The kernel rate-limits its audit printks (10 in 5 s, shared with
	// every other process): try again after the window when none shows.
	for try := 0; try < 3; try++ {
		res = runLeash(t, "run", "-p", profile, "--denials-json", jsonl, "--", "/bin/cat", "/etc/hostname")
		if strings.Contains(res.Stderr, "leash: denied: component true: syscall ") {
			break
		}
		time.Sleep(5 * time.Second)
	}
	if res.Code != 128+int(syscall.SIGSYS) {
		t.Errorf("enforce: exit %d, want %d (killed by SIGSYS)\n%s", res.Code, 128+int(syscall.SIGSYS), res.Stderr)
	}
	if !strings.Contains(res.Stderr, "by /usr/bin/cat, once (KILL_PROCESS)") {
		t.Errorf("enforce: stderr does not name the denial:\n%s", res.Stderr)
	}
	b, err := os.ReadFile(jsonl)
	if err != nil {
		t.Fatal(err)
	}
	var d launch.Denial
	if err := json.Unmarshal([]byte(strings.Split(string(b), "\n")[0]), &d); err != nil {
		t.Fatalf("denials JSON %q: %v", b, err)
	}
	if d.Component != "true" || d.Executable != "/usr/bin/cat" || d.Kind != "syscall" || d.Count != 1 || d.Name == "" {
		t.Errorf("denial record %+v", d)
	}

	// errno: cat fails, and leash names why even with no report asked
	// (the record may reach the kernel log after cat has exited).
	for try := 0; try < 3; try++ {
		res = runLeash(t, "run", "-p", profile, "--default-action", "errno", "--", "/bin/cat", "/etc/hostname")
		if strings.Contains(res.Stderr, "leash: denied: component true: syscall ") {
			break
		}
		time.Sleep(5 * time.Second)
	}
	if res.Code == 0 || !strings.Contains(res.Stderr, "(ERRNO)") {
		t.Errorf("errno: exit %d, want non-zero and the denial named:\n%s", res.Code, res.Stderr)
	}

	report := filepath.Join(dir, "missed.yaml")
	for try := 0; try < 3; try++ {
		res = runLeash(t, "run", "-p", profile, "--mode", "complain", "--report", report, "--", "/bin/cat", "/etc/hostname")
		if strings.Contains(res.Stderr, "would deny: component true: syscall write") {
			break
		}
		time.Sleep(5 * time.Second)
	}
	host, _ := os.ReadFile("/etc/hostname")
	if res.Code != 0 || res.Stdout != string(host) {
		t.Fatalf("complain: exit %d, stdout %q; want 0 and the file\n%s", res.Code, res.Stdout, res.Stderr)
	}
	if !strings.Contains(res.Stderr, "would deny: component true: syscall write") {
		t.Errorf("complain: stderr does not name write:\n%s", res.Stderr)
	}
	frag, err := profiles.Load(report)
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := frag.Syscalls[string(launch.HostArch())]["write"]; !ok {
		t.Errorf("report fragment lacks write: %v", frag.Syscalls)
	}
}

// awaitReady waits for the target's "ready" line, and fails the test
// (the command killed) when it does not come.
func awaitReady(t *testing.T, cmd *exec.Cmd, sc *bufio.Scanner, stderr *strings.Builder) {
	t.Helper()
	if !sc.Scan() || sc.Text() != "ready" {
		cmd.Process.Kill()
		cmd.Wait()
		t.Fatalf("target did not start: %q %s", sc.Text(), stderr.String())
	}
}

// TestRunInitHoldsNoMore: with a PID namespace, leash's init (pid 1 of
// the namespace) holds no more than the target once the target runs: the
// same ids and capability sets, no_new_privs, a filter of its own, no
// descriptors, and an address space that is not leash's (kcmp). (It
// drops all of these before the target can run a single instruction of
// its own: the target is held on a pipe until then.) The profile grants
// CAP_SYS_PTRACE, with which the target can attach to the init: taking
// it over must not give it leash's memory or the init's former root.
func TestRunInitHoldsNoMore(t *testing.T) {
	testutil.RequireRoot(t)
	probe := probeBin(t)
	p := openProfile("nobody", "", "CAP_SYS_PTRACE")
	cmd := exec.Command(leashBin(t), "run", "-p", saveProfile(t, p), "--", probe, "wait")
	sc, stderr := testutil.StartLines(t, cmd)
	awaitReady(t, cmd, sc, stderr)
	defer func() {
		cmd.Process.Signal(syscall.SIGTERM)
		for sc.Scan() {
		}
		cmd.Wait()
	}()
	leash := cmd.Process.Pid
	init := testutil.Children(leash)
	if len(init) != 1 {
		t.Fatalf("leash has children %v, want its init", init)
	}
	target := testutil.Children(init[0])
	if len(target) != 1 {
		t.Fatalf("the init has children %v, want the target", target)
	}
	status := func(pid int) string {
		b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
		if err != nil {
			t.Fatal(err)
		}
		return string(b)
	}
	is, ts := status(init[0]), status(target[0])
	if got := statusField(t, is, "NSpid"); got != strconv.Itoa(init[0])+" 1" {
		t.Fatalf("pid %d has NSpid %q: not the init", init[0], got)
	}
	for _, f := range []string{"Uid", "Gid", "Groups", "CapInh", "CapPrm", "CapEff", "CapBnd"} {
		if got, want := statusField(t, is, f), statusField(t, ts, f); got != want {
			t.Errorf("init %s = %q, target's %q", f, got, want)
		}
	}
	if got := statusField(t, is, "CapEff"); got != capMask("CAP_SYS_PTRACE") {
		t.Errorf("init CapEff = %s, want only CAP_SYS_PTRACE", got)
	}
	for f, want := range map[string]string{"NoNewPrivs": "1", "Seccomp": "2"} {
		if got := statusField(t, is, f); got != want {
			t.Errorf("init %s = %s, want %s", f, got, want)
		}
	}
	// No descriptor of leash's (its /dev/kmsg, the Go runtime's cgroup
	// files) or of the target's: nothing to take through /proc/1/fd or
	// pidfd_getfd.
	fds, err := os.ReadDir(fmt.Sprintf("/proc/%d/fd", init[0]))
	if err != nil {
		t.Fatal(err)
	}
	if len(fds) != 0 {
		var open []string
		for _, fd := range fds {
			l, _ := os.Readlink(fmt.Sprintf("/proc/%d/fd/%s", init[0], fd.Name()))
			open = append(open, fd.Name()+" -> "+l)
		}
		t.Errorf("the init holds descriptors: %v", open)
	}
	const kcmpVM = 1 // KCMP_VM: 0 when both share one address space
	r, _, e := syscall.Syscall6(unix.SYS_KCMP, uintptr(leash), uintptr(init[0]), kcmpVM, 0, 0, 0)
	if e != 0 {
		t.Fatalf("kcmp: %v", e)
	}
	if r == 0 {
		t.Error("the init shares leash's address space: a target that ptraces it writes into leash")
	}
}

// TestRunTargetDiesWithLeash: without a PID namespace, a target running
// as another user dies when leash is killed. Its parent-death signal,
// set before the uid switch, is cleared by the kernel when credentials
// change: leash sets it again after.
func TestRunTargetDiesWithLeash(t *testing.T) {
	testutil.RequireRoot(t)
	probe := probeBin(t)
	p := openProfile("nobody", "")
	p.Run.Namespaces = []string{"net"}
	cmd := exec.Command(leashBin(t), "run", "-p", saveProfile(t, p), "--", probe, "wait")
	cmd.WaitDelay = time.Second // a surviving target holds leash's stderr pipe
	sc, stderr := testutil.StartLines(t, cmd)
	awaitReady(t, cmd, sc, stderr)
	kids := testutil.Children(cmd.Process.Pid)
	if len(kids) != 1 {
		t.Fatalf("leash has children %v, want the target", kids)
	}
	target := kids[0]
	cmd.Process.Kill()
	cmd.Wait()
	alive := func() bool {
		b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", target))
		if err != nil {
			return false
		}
		_, rest, _ := strings.Cut(string(b), ") ")
		return !strings.HasPrefix(rest, "Z")
	}
	deadline := time.Now().Add(5 * time.Second)
	for alive() && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	if alive() {
		syscall.Kill(target, syscall.SIGKILL)
		t.Errorf("the target (pid %d, nobody) still runs 5 s after leash was killed", target)
	}
}

// TestRunWorkingDirectory: the target's working directory is looked up
// again in its own mount tree. One under /tmp, which privateTmp hides,
// becomes /; before, the target kept the host's directory and could
// list and write it. One the mounts leave alone stays.
func TestRunWorkingDirectory(t *testing.T) {
	testutil.RequireRoot(t)
	hidden := t.TempDir() // under /tmp
	if err := os.WriteFile(filepath.Join(hidden, "secret"), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	visible, err := os.MkdirTemp("/opt", "leash-cwd-")
	if err != nil {
		t.Fatal(err)
	}
	defer os.RemoveAll(visible)
	if err := os.WriteFile(filepath.Join(visible, "plain"), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	p := openProfile("root", "")
	p.Run.PrivateTmp = true
	profile := saveProfile(t, p)
	for _, tt := range []struct{ dir, want string }{
		{hidden, "/\n"},
		{visible, visible + "\nplain\n"},
	} {
		cmd := exec.Command(leashBin(t), "run", "-p", profile, "--", "/bin/sh", "-c", "pwd; ls -A .")
		cmd.Dir = tt.dir
		out, err := cmd.Output()
		if err != nil {
			t.Fatalf("leash run in %s: %v", tt.dir, err)
		}
		if strings.Contains(string(out), "secret") || !strings.HasPrefix(string(out), tt.want) {
			t.Errorf("in %s the target says %q, want %q", tt.dir, out, tt.want)
		}
	}
}

// TestRunTerminalName: with the private /dev, the terminal leash runs on
// (here a pty of script(1)) still has a name for ttyname(3): its node is
// moved onto /dev/console. Before, tty(1) said "not a tty".
func TestRunTerminalName(t *testing.T) {
	testutil.RequireRoot(t)
	p := openProfile("nobody", "")
	inner := leashBin(t) + " run -p " + saveProfile(t, p) + " -- /usr/bin/tty"
	out, err := exec.Command("script", "-qec", inner, "/dev/null").CombinedOutput()
	if err != nil {
		t.Fatalf("script -c %q: %v\n%s", inner, err, out)
	}
	if !strings.Contains(string(out), "/dev/console") || strings.Contains(string(out), "not a tty") {
		t.Errorf("tty under leash run on a pty says %q, want /dev/console", out)
	}
}
