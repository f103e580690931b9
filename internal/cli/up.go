package cli

import (
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/spf13/cobra"

	"github.com/leash-project/leash/internal/atomicfile"
	"github.com/leash-project/leash/manifest"
	"github.com/leash-project/leash/profiles"
)

func init() { register(61, "up", newUpCmd) }

func newUpCmd() *cobra.Command {
	var file string
	cmd := &cobra.Command{
		Use:   "up -f leash.yaml",
		Short: "Start every component of a manifest under its profile and supervise them",
		Long: `leash up starts every top-level component of the manifest with leash run
under its profile (PROFILES/NAME.yaml), prefixes each output line with
"NAME | ", forwards SIGINT, SIGTERM and SIGHUP to every component, and
exits as soon as one component exits, with that component's status, after
stopping the others (SIGTERM, then SIGKILL after 10s). It is a small
supervisor, not a container engine: no restarts, no health checks.

A component has exited when its leash run has, even if processes it left
behind still hold its output: that is read for one more second at most.
SIGINT and SIGTERM stop the whole system: a component still running 10s
later gets SIGKILL. leash run passes signals on to its command's whole
process group, so a shell's children stop with it; a descendant that
ignores SIGTERM survives the SIGKILL of leash run unless the component
has a PID namespace (run.namespaces: [pid]), which dies with it.

A component another one spawns (spawnedBy) is held to its own profile:
$LEASH_SPAWN_<NAME> is a leash run of that profile, started by the
spawner inside the spawner's confinement, which adds the component's
filter on top of the spawner's and drops capabilities it does not need.
Seccomp filters stack, so the spawner's filter must allow what the
component does: the spawner runs under the union of its own profile and
those of the components it spawns, widened by leash-spawn (the syscalls
of that nested leash run; see leash filter --explain). The component's
uid, gid, namespaces and mounts are its spawner's (leash notes it when its
profile asks for others), and the leash binary must be executable by the
spawner's user.

Exit status: that of the first component to exit; 2 for a bad manifest or
profile; 125 when a component could not be started.`,
		Example: `  # Learn the system with its test driver, then run it confined
  sudo leash learn -f leash.yaml --driver ./integration-test.sh
  sudo leash up -f leash.yaml`,
		Args: cobra.NoArgs,
		RunE: func(c *cobra.Command, args []string) error {
			if file == "" {
				return usageError("up: -f leash.yaml is required")
			}
			return up(c, file)
		},
	}
	cmd.Flags().StringVarP(&file, "file", "f", "leash.yaml", "the manifest")
	return cmd
}

func up(c *cobra.Command, file string) error {
	stdout, stderr := c.OutOrStdout(), c.ErrOrStderr()
	m, err := loadManifest(file)
	if err != nil {
		return err
	}
	self, err := leashPath()
	if err != nil {
		return Exit(ExitFailure, err)
	}
	// Not under /tmp: a component with privateTmp would not see it.
	tmp, err := os.MkdirTemp("/run", "leash-up-")
	if err != nil {
		return Exit(ExitFailure, fmt.Errorf("up: create temporary directory: %w", err))
	}
	defer os.RemoveAll(tmp)
	if err := os.Chmod(tmp, 0o755); err != nil {
		return Exit(ExitFailure, fmt.Errorf("up: %w", err))
	}
	// Profiles first, all of them: a bad one stops everything before
	// anything starts.
	profileFor := map[string]string{}
	for _, comp := range m.TopLevel() {
		path := m.ProfilePath(comp)
		if len(m.Spawned(comp.Name)) == 0 {
			if _, err := loadInput(path); err != nil {
				return err
			}
			profileFor[comp.Name] = path
			continue
		}
		u, err := upProfile(m, comp)
		if err != nil {
			return err
		}
		if profileFor[comp.Name], err = saveUpProfile(tmp, comp.Name+".union.yaml", u); err != nil {
			return Exit(ExitFailure, fmt.Errorf("up: %w", err))
		}
	}
	// A spawned component is started by $LEASH_SPAWN_<NAME>: a leash run,
	// inside its spawner's confinement, of its own profile (with those it
	// spawns in turn). The filter it installs stacks on the spawner's, so
	// the component is held to its own syscalls, capabilities and
	// families; namespaces, ids and mounts are the spawner's, since that
	// leash run has no privilege to change them.
	nestedFor := map[string]string{}
	for _, comp := range m.Components {
		if comp.SpawnedBy == "" {
			continue
		}
		p, err := upProfile(m, comp)
		if err != nil {
			return err
		}
		own := p.Run
		// The nested leash run creates no mount namespace (it has not
		// the capability inside its spawner): the /dev and the tunables
		// the component sees are its spawner's, protected as its
		// spawner's profile says.
		off := false
		p.Run = profiles.RunOptions{DefaultAction: own.DefaultAction, ClearEnv: own.ClearEnv, Env: own.Env,
			PrivateDevices: &off, ProtectKernelTunables: &off}
		if own.User != "" || own.Group != "" || len(own.Namespaces) > 0 || own.PrivateTmp || own.ProtectSystem != "" || own.ProtectHome {
			fmt.Fprintf(stderr, "leash: note: up: %s runs inside %s's confinement: its run.user, run.group, namespaces and mount options are %s's\n",
				comp.Name, comp.SpawnedBy, comp.SpawnedBy)
		}
		if nestedFor[comp.Name], err = saveUpProfile(tmp, comp.Name+".nested.yaml", p); err != nil {
			return Exit(ExitFailure, fmt.Errorf("up: %w", err))
		}
	}
	spawnEnv, err := writeSpawnWrappers(m, tmp, func(c manifest.Component) []string {
		return []string{self, "run", "-p", nestedFor[c.Name], "--component", c.Name, "--"}
	})
	if err != nil {
		return Exit(ExitFailure, fmt.Errorf("up: %w", err))
	}

	sigs := make(chan os.Signal, 4)
	signal.Notify(sigs, syscall.SIGINT, syscall.SIGTERM, syscall.SIGHUP)
	defer signal.Stop(sigs)

	var mu sync.Mutex
	base := append(os.Environ(), spawnEnv...)
	exited := make(chan *child, len(m.Components))
	var children []*child
	for _, comp := range m.TopLevel() {
		argv := append([]string{self, "run", "-p", profileFor[comp.Name], "--component", comp.Name, "--"}, comp.Command...)
		env := append(append([]string(nil), base...), comp.Env...)
		ch, err := startChild(comp.Name, argv, env, comp.Dir, stdout, stderr, &mu, exited)
		if err != nil {
			stopChildren(children)
			return Exit(ExitLaunch, fmt.Errorf("up: %w", err))
		}
		children = append(children, ch)
	}
	// SIGINT and SIGTERM ask the system to stop: the components get the
	// signal, and SIGKILL stopGrace later, the one that has not exited by
	// then first. (SIGHUP may ask a component to reload: it is only
	// passed on.)
	var deadline time.Time
	var killAt <-chan time.Time
	var first *child
	for first == nil {
		select {
		case first = <-exited:
		case s := <-sigs:
			for _, ch := range children {
				ch.signal(s)
			}
			if killAt == nil && s != syscall.SIGHUP {
				deadline = time.Now().Add(stopGrace)
				killAt = time.After(stopGrace)
			}
		case <-killAt:
			killChildren(children)
		}
	}
	// Its last lines before the note (drained is bounded: a descendant it
	// left holding its output delays this by drainGrace at most).
	<-first.drained
	mu.Lock()
	fmt.Fprintf(stderr, "leash: up: %s exited with status %d; stopping the others\n", first.name, first.code)
	mu.Unlock()
	if killAt != nil {
		stopChildrenBy(children, 0, deadline)
	} else {
		stopChildren(children)
	}
	if first.code != 0 {
		return Exit(first.code, nil)
	}
	return nil
}

// upProfile is the profile leash up confines comp with: its own, or, when
// it spawns other components, the union with theirs (spawnUnion) with the
// leash-spawn widening, for the leash run that starts each of them under
// its own profile.
func upProfile(m *manifest.Manifest, comp manifest.Component) (*profiles.Profile, error) {
	u, err := spawnUnion(m, comp, "up")
	if err != nil || len(m.Spawned(comp.Name)) == 0 {
		return u, err
	}
	if !slices.Contains(u.Widen, "leash-spawn") {
		u.Widen = append(u.Widen, "leash-spawn")
	}
	return u, nil
}

// spawnUnion is comp's profile, merged with those of the components it
// spawns, directly or not, when there are any: they run inside its
// filter, and seccomp filters stack. Run options are comp's own. cmd
// names the command in errors.
func spawnUnion(m *manifest.Manifest, comp manifest.Component, cmd string) (*profiles.Profile, error) {
	p, err := loadInput(m.ProfilePath(comp))
	if err != nil {
		return nil, err
	}
	spawned := spawnedTree(m, comp.Name)
	if len(spawned) == 0 {
		return p, nil
	}
	ps := []*profiles.Profile{p}
	for _, s := range spawned {
		sp, err := loadInput(m.ProfilePath(s))
		if err != nil {
			return nil, err
		}
		ps = append(ps, sp)
	}
	u, err := profiles.MergeWith(profiles.MergeOptions{Component: comp.Name}, ps...)
	if err != nil {
		return nil, Exit(ExitInput, fmt.Errorf("%s: component %s: %w", cmd, comp.Name, err))
	}
	u.Run = p.Run
	return u, nil
}

// saveUpProfile writes p as dir/name, readable by a spawner of any user
// and writable by root alone, as leash run requires.
func saveUpProfile(dir, name string, p *profiles.Profile) (string, error) {
	path := filepath.Join(dir, name)
	if err := profiles.Save(path, p); err != nil {
		return "", err
	}
	return path, os.Chmod(path, 0o644)
}

// spawnedTree lists the components name spawns, directly or not.
func spawnedTree(m *manifest.Manifest, name string) []manifest.Component {
	var out []manifest.Component
	for _, c := range m.Spawned(name) {
		out = append(out, c)
		out = append(out, spawnedTree(m, c.Name)...)
	}
	return out
}

// exportManifest is leash export -f: one systemd unit NAME.service per
// top-level component in dir, with ExecStart= and the drop-in settings of
// its profile (of the union with the components it spawns, as leash up).
func exportManifest(c *cobra.Command, file, format, dir string) error {
	if format != "systemd" {
		return usageError("leash export: -f supports --format systemd only")
	}
	if dir == "" {
		return usageError("leash export: -f needs -o DIR")
	}
	m, err := loadManifest(file)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return Exit(ExitInput, fmt.Errorf("leash export: create %s: %w", dir, err))
	}
	for _, comp := range m.TopLevel() {
		path := m.ProfilePath(comp)
		p, err := spawnUnion(m, comp, "leash export")
		if err != nil {
			return err
		}
		allowed, err := allowedSyscalls(path, p)
		if err != nil {
			return err
		}
		dropin, err := profiles.Systemd(p, profiles.ExportOptions{Allowed: allowed})
		if err != nil {
			return err
		}
		unit, err := systemdUnit(m, comp, dropin)
		if err != nil {
			return err
		}
		out := filepath.Join(dir, comp.Name+".service")
		if err := atomicfile.Write(out, unit, 0o644); err != nil {
			return Exit(ExitFailure, fmt.Errorf("leash export: %w", err))
		}
		fmt.Fprintln(c.OutOrStdout(), out)
	}
	return nil
}

// systemdUnit wraps a drop-in ([Service] ...) into a unit for comp.
func systemdUnit(m *manifest.Manifest, comp manifest.Component, dropin []byte) ([]byte, error) {
	var svc strings.Builder
	fmt.Fprintf(&svc, "ExecStart=%s\n", systemdQuote(comp.Command))
	if comp.Dir != "" {
		fmt.Fprintf(&svc, "WorkingDirectory=%s\n", comp.Dir)
	}
	for _, kv := range comp.Env {
		fmt.Fprintf(&svc, "Environment=%s\n", systemdQuote([]string{kv}))
	}
	body := string(dropin)
	i := strings.Index(body, "[Service]\n")
	if i < 0 {
		return nil, fmt.Errorf("leash export: component %s: the systemd export has no [Service] section", comp.Name)
	}
	i += len("[Service]\n")
	var b strings.Builder
	fmt.Fprintf(&b, "# Written by leash export -f %s\n[Unit]\nDescription=%s (confined by leash profile %s)\n\n", m.Path, comp.Name, m.ProfilePath(comp))
	b.WriteString(body[:i])
	b.WriteString(svc.String())
	b.WriteString(body[i:])
	b.WriteString("\n[Install]\nWantedBy=multi-user.target\n")
	return []byte(b.String()), nil
}

// systemdQuote quotes words for a systemd command line.
func systemdQuote(words []string) string {
	q := make([]string, len(words))
	for i, w := range words {
		if w != "" && !strings.ContainsAny(w, " \t\"'\\$%;") {
			q[i] = w
			continue
		}
		r := strings.NewReplacer(`\`, `\\`, `"`, `\"`, "$", "$$", "%", "%%")
		q[i] = `"` + r.Replace(w) + `"`
	}
	return strings.Join(q, " ")
}
