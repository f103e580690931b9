package manifest

import (
	"errors"
	"path/filepath"
	"strings"
	"testing"
)

const good = `apiVersion: leash/v1
kind: System
profiles: prof
components:
  - name: backend
    command: [./backend, --port, "0"]
    user: nobody
    run: {namespaces: [ipc, uts], privateTmp: true, protectSystem: strict, protectHome: true, defaultAction: kill-process}
  - name: orchestrator
    command: [./orchestrator]
    dir: work
    env: [A=1]
  - name: executor
    command: [./executor]
    spawnedBy: orchestrator
    widen: [go-runtime]
`

func TestParse(t *testing.T) {
	m, err := Parse("/x/leash.yaml", []byte(good))
	if err != nil {
		t.Fatal(err)
	}
	if m.Profiles != "/x/prof" || len(m.Components) != 3 {
		t.Fatalf("profiles %q, %d components", m.Profiles, len(m.Components))
	}
	b := m.Components[0]
	if b.Run.User != "nobody" || !b.Run.PrivateTmp || b.Run.ProtectSystem != "strict" || b.Run.DefaultAction != "kill-process" || len(b.Run.Namespaces) != 2 {
		t.Errorf("backend run options: %+v", b.Run)
	}
	if o := m.Components[1]; o.Dir != "/x/work" || o.Env[0] != "A=1" {
		t.Errorf("orchestrator: %+v", o)
	}
	if top := m.TopLevel(); len(top) != 2 || top[1].Name != "orchestrator" {
		t.Errorf("TopLevel: %+v", top)
	}
	if s := m.Spawned("orchestrator"); len(s) != 1 || s[0].Name != "executor" || len(s[0].Widen) != 1 {
		t.Errorf("Spawned: %+v", s)
	}
	if got := m.ProfilePath(m.Components[2]); got != filepath.Join("/x/prof", "executor.yaml") {
		t.Errorf("ProfilePath: %s", got)
	}
	if SpawnEnv("tool-exec") != "LEASH_SPAWN_TOOL_EXEC" || PIDEnv("a") != "LEASH_COMPONENT_A_PID" {
		t.Error("env names")
	}
}

func TestParseErrors(t *testing.T) {
	head := "apiVersion: leash/v1\nkind: System\ncomponents:\n"
	tests := []struct {
		name, doc, want string
	}{
		{"api version", "apiVersion: leash/v2\nkind: System\ncomponents: [{name: a, command: [x]}]\n", ":1: apiVersion must be leash/v1"},
		{"kind", "apiVersion: leash/v1\nkind: Sys\ncomponents: [{name: a, command: [x]}]\n", "kind must be System"},
		{"no components", "apiVersion: leash/v1\nkind: System\n", "components: missing"},
		{"unknown key", head + "  - name: a\n    command: [x]\n    comand: [y]\n", ":6: unknown key \"comand\""},
		{"duplicate key", head + "  - name: a\n    name: b\n", ":5: duplicate key \"name\""},
		{"duplicate component", head + "  - {name: a, command: [x]}\n  - {name: a, command: [y]}\n", ":5: component \"a\" already defined on line 4"},
		{"no command", head + "  - name: a\n", ":4: component a: command: missing"},
		{"bad name", head + "  - {name: A_b, command: [x]}\n", "component name \"A_b\""},
		{"bad namespace", head + "  - name: a\n    command: [x]\n    run: {namespaces: [user]}\n", ":6: run.namespaces: unknown namespace \"user\""},
		{"bad action", head + "  - name: a\n    command: [x]\n    run:\n      defaultAction: allow\n", ":7: run.defaultAction"},
		{"bad bool", head + "  - name: a\n    command: [x]\n    run: {privateTmp: yes please}\n", ":6: want true or false"},
		{"command not a list", head + "  - {name: a, command: x}\n", ":4: want a list of strings"},
		{"bad env", head + "  - {name: a, command: [x], env: [NOEQUALS]}\n", "want KEY=VALUE"},
		{"unknown spawner", head + "  - {name: a, command: [x], spawnedBy: b}\n", ":4: component a: spawnedBy: no component \"b\""},
		{"cycle", head + "  - {name: a, command: [x], spawnedBy: b}\n  - {name: b, command: [x], spawnedBy: a}\n", "a cycle"},
		{"alias", head + "  - &c {name: a, command: [x]}\n", "anchors"},
		{"two documents", head + "  - {name: a, command: [x]}\n---\n{}\n", "leash.yaml"},
		{"not yaml", "{[", "leash.yaml"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Parse("leash.yaml", []byte(tt.doc))
			if err == nil {
				t.Fatal("no error")
			}
			if !errors.Is(err, ErrInvalid) || !strings.HasPrefix(err.Error(), "leash.yaml") || !strings.Contains(err.Error(), tt.want) || strings.Contains(err.Error(), "\n") {
				t.Errorf("error %q: want a one-line ErrInvalid naming leash.yaml and containing %q", err, tt.want)
			}
		})
	}
}
