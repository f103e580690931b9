package cli

import (
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/leash-project/leash/internal/testutil"
	"github.com/leash-project/leash/profiles"
)

// buildGo builds the package at pkg (relative to the module root) into dir.
func buildGo(t *testing.T, dir, pkg string) string {
	t.Helper()
	out := filepath.Join(dir, filepath.Base(pkg))
	cmd := exec.Command("go", "build", "-o", out, "./"+pkg)
	cmd.Dir = filepath.Join("..", "..")
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build %s: %v\n%s", pkg, err, b)
	}
	return out
}

func freePort(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// TestSystem learns the three-component system of testdata/system through
// its manifest and driver, checks that each profile holds what its own
// work needs and not the others', then runs the system under the learned
// profiles with leash up and drives it again.
func TestSystem(t *testing.T) {
	testutil.RequireRoot(t)
	bin := t.TempDir()
	leash := buildGo(t, bin, "cmd/leash")
	backend := buildGo(t, bin, "testdata/system/backend")
	orchestrator := buildGo(t, bin, "testdata/system/orchestrator")
	executor := buildGo(t, bin, "testdata/system/executor")
	driver, err := filepath.Abs(filepath.Join("..", "..", "testdata", "system", "driver.sh"))
	if err != nil {
		t.Fatal(err)
	}

	work := t.TempDir()
	if err := os.Mkdir(filepath.Join(work, "jobs"), 0o755); err != nil {
		t.Fatal(err)
	}
	addr := freePort(t)
	man := filepath.Join(work, "leash.yaml")
	doc := fmt.Sprintf(`apiVersion: leash/v1
kind: System
profiles: profiles
components:
  - name: backend
    command: [%q, %q, %q]
    widen: [go-runtime]
  - name: orchestrator
    command: [%q, %q, %q, %q]
    widen: [go-runtime]
  - name: executor
    command: [%q]
    widen: [go-runtime]
    spawnedBy: orchestrator
`, backend, addr, filepath.Join(work, "store"), orchestrator, filepath.Join(work, "jobs"), executor, addr, executor)
	if err := os.WriteFile(man, []byte(doc), 0o644); err != nil {
		t.Fatal(err)
	}

	learn := exec.Command(leash, "learn", "-f", man, "--linger", "1s", "--driver", driver+" "+work+" learned")
	if out, err := learn.CombinedOutput(); err != nil {
		t.Fatalf("leash learn -f: %v\n%s", err, out)
	}

	load := func(name string) *profiles.Profile {
		p, err := profiles.Load(filepath.Join(work, "profiles", name+".yaml"))
		if err != nil {
			t.Fatal(err)
		}
		return p
	}
	ps := map[string]*profiles.Profile{"backend": load("backend"), "orchestrator": load("orchestrator"), "executor": load("executor")}
	has := func(p *profiles.Profile, sc string) bool {
		_, ok := p.Syscalls["x86_64"][sc]
		return ok
	}
	ran := func(p *profiles.Profile, base string) bool {
		for _, e := range p.Provenance.Executables {
			if filepath.Base(e.Path) == base {
				return true
			}
		}
		return false
	}
	for name, p := range ps {
		isBackend := name == "backend"
		for _, sc := range []string{"bind", "listen"} {
			if has(p, sc) != isBackend {
				t.Errorf("%s: has %s = %v, want %v", name, sc, has(p, sc), isBackend)
			}
		}
		if accept := has(p, "accept4") || has(p, "accept"); accept != isBackend {
			t.Errorf("%s: has accept = %v, want %v", name, accept, isBackend)
		}
		if got, want := ran(p, "sha256sum"), name == "executor"; got != want {
			t.Errorf("%s: ran sha256sum = %v, want %v", name, got, want)
		}
		if p.Component != name {
			t.Errorf("%s: component %q", name, p.Component)
		}
	}
	if o := ps["orchestrator"]; !has(o, "connect") {
		t.Errorf("orchestrator: no connect")
	} else if _, ok := o.Families["AF_INET"]; !ok {
		t.Errorf("orchestrator: no AF_INET in %v", o.Families)
	}
	if _, ok := ps["executor"].Families["AF_INET"]; ok {
		t.Errorf("executor: AF_INET (it never touches the network)")
	}

	// The spawn wrapper leash wrote for the run (a new temporary path
	// each time) is not one of the orchestrator's executables.
	for _, e := range ps["orchestrator"].Provenance.Executables {
		if strings.Contains(e.Path, "leash-learn-") {
			t.Errorf("orchestrator records leash's spawn wrapper %s", e.Path)
		}
	}

	// The CI gate (docs/ci.md): leash check -f learns the system again and
	// compares each component with its committed profile. The same work
	// needs nothing new (exit 0) and --keep writes the merged profiles.
	check := func(round string) (int, string) {
		cmd := exec.Command(leash, "check", "-f", man, "--linger", "1s", "--keep", filepath.Join(work, "merged"), "--driver", driver+" "+work+" "+round)
		var stdout, stderr strings.Builder
		cmd.Stdout, cmd.Stderr = &stdout, &stderr
		code := exitStatusOf(cmd.Run())
		t.Logf("leash check -f (%s): exit %d\n%s", round, code, stdout.String())
		if code > ExitGate {
			t.Fatalf("leash check -f (%s): exit %d\n%s%s", round, code, stdout.String(), stderr.String())
		}
		return code, stdout.String()
	}
	if code, out := check("check1"); code != 0 {
		t.Errorf("leash check -f of the same work: exit %d, want 0\n%s", code, out)
	}
	for name := range ps {
		if _, err := profiles.Load(filepath.Join(work, "merged", name+".yaml")); err != nil {
			t.Errorf("leash check -f --keep: %v", err)
		}
	}
	// A committed orchestrator profile without connect, and no committed
	// executor profile: both fail the gate, each named.
	o := ps["orchestrator"].Clone()
	delete(o.Syscalls["x86_64"], "connect")
	if err := profiles.Save(filepath.Join(work, "profiles", "orchestrator.yaml"), o); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(filepath.Join(work, "profiles", "executor.yaml"), filepath.Join(work, "executor.yaml")); err != nil {
		t.Fatal(err)
	}
	code, checkOut := check("check2")
	for _, want := range []string{"+ syscall x86_64 connect", "executor: new component", "backend needed nothing outside"} {
		if code != ExitGate || !strings.Contains(checkOut, want) {
			t.Errorf("leash check -f with a smaller profile: exit %d (want 1), output lacks %q:\n%s", code, want, checkOut)
		}
	}
	if err := profiles.Save(filepath.Join(work, "profiles", "orchestrator.yaml"), ps["orchestrator"]); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(filepath.Join(work, "executor.yaml"), filepath.Join(work, "profiles", "executor.yaml")); err != nil {
		t.Fatal(err)
	}

	// One unit per top-level component; the spawner's allows the
	// executor's syscalls too (the executor runs inside its service).
	units := filepath.Join(work, "units")
	if out, err := exec.Command(leash, "export", "-f", man, "--format", "systemd", "-o", units).CombinedOutput(); err != nil {
		t.Fatalf("leash export -f: %v\n%s", err, out)
	}
	if _, err := os.Stat(filepath.Join(units, "executor.service")); err == nil {
		t.Errorf("export -f wrote a unit for the spawned executor")
	}
	unit, err := os.ReadFile(filepath.Join(units, "orchestrator.service"))
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"ExecStart=" + orchestrator + " ", "connect", "RestrictAddressFamilies=AF_INET", "[Install]"} {
		if !strings.Contains(string(unit), want) {
			t.Errorf("orchestrator.service lacks %q:\n%s", want, unit)
		}
	}

	// The same system, confined.
	var upOut strings.Builder
	up := exec.Command(leash, "up", "-f", man)
	up.Env = append(os.Environ(), "EXECUTOR_PROBE_NET="+addr)
	up.Stdout, up.Stderr = &upOut, &upOut
	if err := up.Start(); err != nil {
		t.Fatal(err)
	}
	upDone := make(chan error, 1)
	go func() { upDone <- up.Wait() }()
	drive := exec.Command(driver, work, "confined")
	out, err := drive.CombinedOutput()
	up.Process.Signal(syscall.SIGTERM)
	select {
	case <-upDone:
	case <-time.After(30 * time.Second):
		up.Process.Kill()
		<-upDone
		t.Errorf("leash up did not stop on SIGTERM")
	}
	if err != nil {
		t.Fatalf("driver under leash up: %v\n%s\nleash up:\n%s", err, out, upOut.String())
	}
	t.Logf("leash up:\n%s", upOut.String())
	for _, want := range []string{"backend | backend: listening", "orchestrator | orchestrator: done confined"} {
		if !strings.Contains(upOut.String(), want) {
			t.Errorf("leash up output lacks %q:\n%s", want, upOut.String())
		}
	}
	// The executor is held to its own profile, not to the orchestrator's
	// (which connects to the backend): its connect is refused.
	if !strings.Contains(upOut.String(), "executor: probe: network refused:") ||
		!strings.Contains(upOut.String(), "operation not permitted") {
		t.Errorf("the executor's probe was not refused under leash up:\n%s", upOut.String())
	}
	// Control: unconfined, the same probe reaches the backend, so the
	// refusal above is the profile's doing.
	probe := exec.Command(executor, filepath.Join(work, "confined.txt"))
	probe.Env = append(os.Environ(), "EXECUTOR_PROBE_NET="+addr)
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		t.Fatalf("listen on %s for the control: %v", addr, err)
	}
	defer ln.Close()
	if out, err := probe.CombinedOutput(); err != nil || !strings.Contains(string(out), "executor: probe: network reached") {
		t.Errorf("control: unconfined executor probe: %v\n%s", err, out)
	}
}

// TestUpExitStatus: leash up exits with the status of the first component
// to exit, after stopping the others, and prefixes their output.
func TestUpExitStatus(t *testing.T) {
	testutil.RequireRoot(t)
	leash := buildGo(t, t.TempDir(), "cmd/leash")
	work := t.TempDir()
	man := filepath.Join(work, "leash.yaml")
	// The quitter leaves a mark as it ends, and the driver waits for it:
	// learning must see the quitter's whole run, exit included, however
	// slow a loaded machine starts it (stopped early, its profile would
	// lack exit_group and the run under it would fail).
	done := filepath.Join(work, "quitter.done")
	doc := fmt.Sprintf(`apiVersion: leash/v1
kind: System
components:
  - name: quitter
    command: [/bin/sh, -c, "echo starting; sleep 0.3; : > %s; exit 7"]
  - name: sleeper
    command: [/bin/sleep, "60"]
`, done)
	if err := os.WriteFile(man, []byte(doc), 0o644); err != nil {
		t.Fatal(err)
	}
	driver := fmt.Sprintf("i=0; until [ -e %s ] || [ $i -ge 300 ]; do sleep 0.1; i=$((i+1)); done; sleep 0.2", done)
	if out, err := exec.Command(leash, "learn", "-f", man, "--linger", "0s", "--driver", driver).CombinedOutput(); err != nil {
		t.Fatalf("leash learn -f: %v\n%s", err, out)
	}
	start := time.Now()
	out, err := exec.Command(leash, "up", "-f", man).CombinedOutput()
	if code := exitStatusOf(err); code != 7 {
		t.Fatalf("leash up: exit %d (%v), want 7\n%s", code, err, out)
	}
	if d := time.Since(start); d > 20*time.Second {
		t.Errorf("leash up took %s: the sleeper was not stopped", d)
	}
	for _, want := range []string{"quitter | starting", "quitter exited with status 7"} {
		if !strings.Contains(string(out), want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
}

// TestLearnSpawnedByUnprivileged: a spawner running as nobody starts a
// spawned component through $LEASH_SPAWN_KID; the kid's exec of ls and
// its getdents64 land in the kid's profile, not in the spawner's.
func TestLearnSpawnedByUnprivileged(t *testing.T) {
	testutil.RequireRoot(t)
	// The spawner (nobody) execs leash through the wrapper: leash must be
	// executable by it, as /usr/local/bin/leash is.
	bin, err := os.MkdirTemp("", "leash-bin-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(bin) })
	if err := os.Chmod(bin, 0o755); err != nil {
		t.Fatal(err)
	}
	leash := buildGo(t, bin, "cmd/leash")
	work := t.TempDir()
	man := filepath.Join(work, "leash.yaml")
	doc := `apiVersion: leash/v1
kind: System
components:
  - name: parent
    command: [/bin/sh, -c, '$LEASH_SPAWN_KID /bin/ls / >/dev/null && id -un']
    user: nobody
  - name: kid
    command: [/bin/ls]
    spawnedBy: parent
`
	if err := os.WriteFile(man, []byte(doc), 0o644); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(leash, "learn", "-f", man, "--linger", "1s").CombinedOutput()
	if err != nil || !strings.Contains(string(out), "parent | nobody") {
		t.Fatalf("leash learn -f: %v\n%s", err, out)
	}
	parent, err := profiles.Load(filepath.Join(work, "profiles", "parent.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	kid, err := profiles.Load(filepath.Join(work, "profiles", "kid.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := kid.Syscalls["x86_64"]["getdents64"]; !ok {
		t.Errorf("kid: no getdents64 (ls reads /): %v", kid.Syscalls)
	}
	if _, ok := parent.Syscalls["x86_64"]["getdents64"]; ok {
		t.Errorf("parent: getdents64, which only the kid's ls made")
	}
	for _, e := range parent.Provenance.Executables {
		if filepath.Base(e.Path) == "ls" {
			t.Errorf("parent records the kid's executable %s", e.Path)
		}
	}
	if parent.Run.User != "nobody" {
		t.Errorf("parent: run.user %q, want nobody", parent.Run.User)
	}

	// Under leash up the kid is started by a leash run as nobody, inside
	// the parent's confinement, and the same work succeeds.
	out, err = exec.Command(leash, "up", "-f", man).CombinedOutput()
	if err != nil || !strings.Contains(string(out), "parent | nobody") || strings.Contains(string(out), "denied") {
		t.Errorf("leash up: %v (want exit 0, no denial)\n%s", err, out)
	}
}

// TestLearnSpawnedReplacedBinary: a spawned component's executable
// replaced after it ran gets no digest (not the new file's) and makes the
// kid's run incomplete, as in a plain leash learn.
func TestLearnSpawnedReplacedBinary(t *testing.T) {
	testutil.RequireRoot(t)
	leash := buildGo(t, t.TempDir(), "cmd/leash")
	work := t.TempDir()
	kid := filepath.Join(work, "kid")
	if err := exec.Command("cp", "/bin/true", kid).Run(); err != nil {
		t.Fatal(err)
	}
	man := filepath.Join(work, "leash.yaml")
	doc := fmt.Sprintf(`apiVersion: leash/v1
kind: System
components:
  - name: parent
    command: [/bin/sh, -c, '$LEASH_SPAWN_KID %[1]s && cp /bin/false %[1]s.new && mv %[1]s.new %[1]s']
  - name: kid
    command: [%[1]s]
    spawnedBy: parent
`, kid)
	if err := os.WriteFile(man, []byte(doc), 0o644); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command(leash, "learn", "-f", man, "--linger", "1s").CombinedOutput(); err != nil {
		t.Fatalf("leash learn -f: %v\n%s", err, out)
	}
	p, err := profiles.Load(filepath.Join(work, "profiles", "kid.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range p.Provenance.Executables {
		if e.Path == kid {
			t.Errorf("kid records a digest for %s, replaced after it ran: %s", kid, e.SHA256)
		}
	}
	want := "executable " + kid + " changed or was replaced after it ran"
	found := false
	for _, r := range p.Provenance.Runs {
		for _, msg := range r.Incomplete {
			found = found || strings.Contains(msg, want)
		}
	}
	if !found {
		t.Errorf("kid's run is not incomplete with %q: %+v", want, p.Provenance.Runs)
	}
}
