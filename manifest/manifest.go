// Package manifest holds leash.yaml: the components of a system (their
// commands, users and run options, and which component spawns which), as
// leash learn -f, leash up and leash export -f read it. Parsing is strict:
// unknown or duplicate keys, wrong kinds and bad values are errors naming
// the file and line.
package manifest

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"

	"go.yaml.in/yaml/v3"

	"github.com/leash-project/leash/profiles"
)

// APIVersion and Kind a manifest must declare.
const (
	APIVersion = "leash/v1"
	Kind       = "System"
)

// ErrInvalid is matched by every *Error.
var ErrInvalid = errors.New("invalid manifest")

// Error is one problem in a manifest file.
type Error struct {
	File string
	Line int
	Msg  string
}

func (e *Error) Error() string {
	if e.Line > 0 {
		return fmt.Sprintf("%s:%d: %s", e.File, e.Line, e.Msg)
	}
	return fmt.Sprintf("%s: %s", e.File, e.Msg)
}

// Is makes every *Error match ErrInvalid.
func (e *Error) Is(target error) bool { return target == ErrInvalid }

// Manifest is a parsed leash.yaml.
type Manifest struct {
	// Path of the file; Dir resolves relative paths against its directory.
	Path string
	// Profiles is the directory of the components' profiles, absolute.
	Profiles   string
	Components []Component
}

// Component is one program of the system.
type Component struct {
	Name    string
	Command []string
	User    string
	Dir     string   // working directory, absolute; "" keeps leash's
	Env     []string // KEY=VALUE added to the inherited environment
	Run     profiles.RunOptions
	// SpawnedBy names the component that starts this one (through
	// $LEASH_SPAWN_<NAME>); "" for a top-level component.
	SpawnedBy string
	// Widen is copied into the profile's widen: list (e.g. go-runtime
	// for a Go program, whose runtime syscalls a short run may miss).
	Widen []string
	Line  int
}

// ProfilePath is where the component's profile lives.
func (m *Manifest) ProfilePath(c Component) string {
	return filepath.Join(m.Profiles, c.Name+".yaml")
}

// Component returns the component called name.
func (m *Manifest) Component(name string) (Component, bool) {
	for _, c := range m.Components {
		if c.Name == name {
			return c, true
		}
	}
	return Component{}, false
}

// SpawnEnv is the name of the variable that holds the command prefix a
// spawner uses to start component name: LEASH_SPAWN_<NAME>, upper case,
// '-' as '_'.
func SpawnEnv(name string) string { return "LEASH_SPAWN_" + envName(name) }

// PIDEnv is the variable giving a driver the pid of component name.
func PIDEnv(name string) string { return "LEASH_COMPONENT_" + envName(name) + "_PID" }

func envName(name string) string { return strings.ToUpper(strings.ReplaceAll(name, "-", "_")) }

// Load reads and validates the manifest at path.
func Load(path string) (*Manifest, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read manifest: %w", err)
	}
	return Parse(path, data)
}

// nameRE is compiled on first use: its {0,62} expands to 62 nested
// copies, about 0.15 ms of start-up in every leash command otherwise.
var nameRE = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`^[a-z][a-z0-9-]{0,62}$`) })

// Parse decodes and validates a manifest; path names it in errors and
// anchors its relative paths.
func Parse(path string, data []byte) (m *Manifest, err error) {
	defer func() {
		if r := recover(); r != nil {
			m, err = nil, &Error{File: path, Msg: fmt.Sprintf("cannot parse YAML: %v", r)}
		}
	}()
	var doc, extra yaml.Node
	dec := yaml.NewDecoder(bytes.NewReader(data))
	if err := dec.Decode(&doc); err != nil {
		return nil, &Error{File: path, Msg: strings.TrimPrefix(err.Error(), "yaml: ")}
	}
	if doc.Kind != yaml.DocumentNode || len(doc.Content) != 1 || dec.Decode(&extra) != io.EOF {
		return nil, &Error{File: path, Msg: "want exactly one YAML document"}
	}
	p := &parser{file: path}
	m = &Manifest{Path: path}
	base := filepath.Dir(path)
	if abs, err := filepath.Abs(base); err == nil {
		base = abs
	}
	root := doc.Content[0]
	var apiVersion, kind string
	profDir := "profiles"
	var comps *yaml.Node
	p.mapping(root, map[string]func(*yaml.Node){
		"apiVersion": func(n *yaml.Node) { apiVersion = p.str(n) },
		"kind":       func(n *yaml.Node) { kind = p.str(n) },
		"profiles":   func(n *yaml.Node) { profDir = p.str(n) },
		"components": func(n *yaml.Node) { comps = n },
	})
	if p.err != nil {
		return nil, p.err
	}
	switch {
	case apiVersion != APIVersion:
		return nil, p.fail(root, fmt.Sprintf("apiVersion must be %s, not %q", APIVersion, apiVersion))
	case kind != Kind:
		return nil, p.fail(root, fmt.Sprintf("kind must be %s, not %q", Kind, kind))
	case comps == nil:
		return nil, p.fail(root, "components: missing")
	case comps.Kind != yaml.SequenceNode || len(comps.Content) == 0:
		return nil, p.fail(comps, "components: want a non-empty list")
	}
	if profDir == "" {
		return nil, p.fail(root, "profiles: empty directory")
	}
	if !filepath.IsAbs(profDir) {
		profDir = filepath.Join(base, profDir)
	}
	m.Profiles = profDir
	seen := map[string]int{}
	for _, cn := range comps.Content {
		c := Component{Line: cn.Line}
		p.mapping(cn, map[string]func(*yaml.Node){
			"name":      func(n *yaml.Node) { c.Name = p.str(n) },
			"command":   func(n *yaml.Node) { c.Command = p.strs(n) },
			"user":      func(n *yaml.Node) { c.User = p.str(n) },
			"dir":       func(n *yaml.Node) { c.Dir = p.str(n) },
			"env":       func(n *yaml.Node) { c.Env = p.env(n) },
			"spawnedBy": func(n *yaml.Node) { c.SpawnedBy = p.str(n) },
			"widen":     func(n *yaml.Node) { c.Widen = p.strs(n) },
			"run":       func(n *yaml.Node) { c.Run = p.run(n) },
		})
		if p.err != nil {
			return nil, p.err
		}
		switch {
		case !nameRE().MatchString(c.Name):
			return nil, p.fail(cn, fmt.Sprintf("component name %q: want lower-case letters, digits and '-', starting with a letter", c.Name))
		case seen[c.Name] != 0:
			return nil, p.fail(cn, fmt.Sprintf("component %q already defined on line %d", c.Name, seen[c.Name]))
		case len(c.Command) == 0 || c.Command[0] == "":
			return nil, p.fail(cn, fmt.Sprintf("component %s: command: missing", c.Name))
		}
		seen[c.Name] = cn.Line
		if c.Dir != "" && !filepath.IsAbs(c.Dir) {
			c.Dir = filepath.Join(base, c.Dir)
		}
		if c.User != "" {
			c.Run.User = c.User
		} else {
			c.User = c.Run.User
		}
		m.Components = append(m.Components, c)
	}
	for _, c := range m.Components {
		if c.SpawnedBy == "" {
			continue
		}
		if c.SpawnedBy == c.Name {
			return nil, &Error{File: path, Line: c.Line, Msg: fmt.Sprintf("component %s: spawnedBy: itself", c.Name)}
		}
		if _, ok := m.Component(c.SpawnedBy); !ok {
			return nil, &Error{File: path, Line: c.Line, Msg: fmt.Sprintf("component %s: spawnedBy: no component %q", c.Name, c.SpawnedBy)}
		}
	}
	// No cycles: every chain of spawners ends at a top-level component.
	for _, c := range m.Components {
		cur, steps := c, 0
		for cur.SpawnedBy != "" {
			cur, _ = m.Component(cur.SpawnedBy)
			if steps++; steps > len(m.Components) {
				return nil, &Error{File: path, Line: c.Line, Msg: fmt.Sprintf("component %s: spawnedBy: a cycle", c.Name)}
			}
		}
	}
	return m, nil
}

// TopLevel returns the components nobody spawns, in manifest order.
func (m *Manifest) TopLevel() []Component {
	var out []Component
	for _, c := range m.Components {
		if c.SpawnedBy == "" {
			out = append(out, c)
		}
	}
	return out
}

// Spawned returns the components name spawns.
func (m *Manifest) Spawned(name string) []Component {
	var out []Component
	for _, c := range m.Components {
		if c.SpawnedBy == name {
			out = append(out, c)
		}
	}
	return out
}

type parser struct {
	file string
	err  error
}

func (p *parser) fail(n *yaml.Node, msg string) error {
	if p.err == nil {
		p.err = &Error{File: p.file, Line: n.Line, Msg: msg}
	}
	return p.err
}

// mapping walks a mapping node, calling the handler of each key; unknown
// and duplicate keys are errors.
func (p *parser) mapping(n *yaml.Node, keys map[string]func(*yaml.Node)) {
	if p.err != nil {
		return
	}
	if n.Kind != yaml.MappingNode {
		p.fail(n, "want a mapping")
		return
	}
	if n.Anchor != "" {
		p.fail(n, "anchors and aliases are not allowed")
		return
	}
	seen := map[string]bool{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		if k.Kind != yaml.ScalarNode {
			p.fail(k, "want a plain key")
			return
		}
		h, ok := keys[k.Value]
		if !ok {
			p.fail(k, fmt.Sprintf("unknown key %q", k.Value))
			return
		}
		if seen[k.Value] {
			p.fail(k, fmt.Sprintf("duplicate key %q", k.Value))
			return
		}
		seen[k.Value] = true
		if v.Kind == yaml.AliasNode || v.Anchor != "" {
			p.fail(v, "anchors and aliases are not allowed")
			return
		}
		h(v)
		if p.err != nil {
			return
		}
	}
}

func (p *parser) str(n *yaml.Node) string {
	if p.err != nil {
		return ""
	}
	if n.Kind != yaml.ScalarNode || (n.Tag != "!!str" && n.Tag != "!!int") {
		p.fail(n, "want a string")
		return ""
	}
	return n.Value
}

func (p *parser) boolean(n *yaml.Node) bool {
	if p.err != nil {
		return false
	}
	if n.Kind != yaml.ScalarNode || n.Tag != "!!bool" {
		p.fail(n, "want true or false")
		return false
	}
	return n.Value == "true"
}

func (p *parser) strs(n *yaml.Node) []string {
	if p.err != nil {
		return nil
	}
	if n.Kind != yaml.SequenceNode {
		p.fail(n, "want a list of strings")
		return nil
	}
	out := make([]string, 0, len(n.Content))
	for _, e := range n.Content {
		out = append(out, p.str(e))
	}
	return out
}

func (p *parser) env(n *yaml.Node) []string {
	out := p.strs(n)
	for i, kv := range out {
		if k, _, ok := strings.Cut(kv, "="); !ok || k == "" {
			p.fail(n.Content[i], fmt.Sprintf("env: %q: want KEY=VALUE", kv))
			return nil
		}
	}
	return out
}

var (
	namespaces     = map[string]bool{"ipc": true, "mnt": true, "net": true, "pid": true, "uts": true}
	protectSystems = map[string]bool{"": true, "full": true, "strict": true}
	actions        = map[string]bool{"": true, "errno": true, "kill-process": true, "log": true}
)

func (p *parser) run(n *yaml.Node) profiles.RunOptions {
	var r profiles.RunOptions
	p.mapping(n, map[string]func(*yaml.Node){
		"namespaces": func(v *yaml.Node) {
			r.Namespaces = p.strs(v)
			for i, ns := range r.Namespaces {
				if !namespaces[ns] {
					p.fail(v.Content[i], fmt.Sprintf("run.namespaces: unknown namespace %q (want ipc, mnt, net, pid or uts)", ns))
				}
			}
		},
		"privateTmp": func(v *yaml.Node) { r.PrivateTmp = p.boolean(v) },
		"protectSystem": func(v *yaml.Node) {
			if r.ProtectSystem = p.str(v); !protectSystems[r.ProtectSystem] {
				p.fail(v, fmt.Sprintf("run.protectSystem: %q (want full or strict)", r.ProtectSystem))
			}
		},
		"protectHome": func(v *yaml.Node) { r.ProtectHome = p.boolean(v) },
		"privateDevices": func(v *yaml.Node) {
			b := p.boolean(v)
			r.PrivateDevices = &b
		},
		"protectKernelTunables": func(v *yaml.Node) {
			b := p.boolean(v)
			r.ProtectKernelTunables = &b
		},
		"defaultAction": func(v *yaml.Node) {
			if r.DefaultAction = p.str(v); !actions[r.DefaultAction] {
				p.fail(v, fmt.Sprintf("run.defaultAction: %q (want errno, kill-process or log)", r.DefaultAction))
			}
		},
		"group":    func(v *yaml.Node) { r.Group = p.str(v) },
		"user":     func(v *yaml.Node) { r.User = p.str(v) },
		"clearEnv": func(v *yaml.Node) { r.ClearEnv = p.boolean(v) },
		"env":      func(v *yaml.Node) { r.Env = p.env(v) },
	})
	return r
}
