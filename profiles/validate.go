package profiles

import (
	"encoding/hex"
	"fmt"
	"reflect"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"go.yaml.in/yaml/v3"

	"github.com/leash-project/leash/linux"
)

// KnownWidenings names the widenings a profile may list under widen. The
// seccomp package owns what each one adds (seccomp.Widenings); this list
// only lets a profile be validated without it. A test keeps both in step.
var KnownWidenings = map[string]bool{
	"go-runtime":        true,
	"glibc-portability": true,
	"leash-spawn":       true,
}

// DefaultActions are the values run.defaultAction may take ("" is errno).
var DefaultActions = []string{"errno", "kill-process", "log"}

// ProtectSystemValues are the values run.protectSystem may take.
var ProtectSystemValues = []string{"full", "strict"}

var yamlLine = regexp.MustCompile(`^(?:yaml: )?line (\d+): (.*)$`)

// yamlError turns an error of the YAML parser into an *Error with a line.
func yamlError(name string, err error) error {
	msg := err.Error()
	if te, ok := err.(*yaml.TypeError); ok && len(te.Errors) > 0 {
		msg = te.Errors[0]
	}
	msg = oneLine(msg)
	if m := yamlLine.FindStringSubmatch(msg); m != nil {
		n, _ := strconv.Atoi(m[1])
		return &Error{File: name, Line: n, Msg: m[2]}
	}
	return &Error{File: name, Msg: strings.TrimPrefix(msg, "yaml: ")}
}

// oneLine folds a message onto one line.
func oneLine(s string) string {
	s = strings.Join(strings.Fields(strings.ReplaceAll(s, "\n", " ")), " ")
	if s == "" {
		return "invalid profile"
	}
	return s
}

// problem is one finding of validation, at the line of the node it is about.
type problem struct {
	line int
	msg  string
}

// checker walks the YAML tree of a profile against the Go schema: every key
// known and given once, every value of the right kind. It records the line
// of every node by its path (keys joined by sep, list items by index), for
// the checks that run on the decoded profile.
type checker struct {
	lines map[string]int
}

// sep joins path elements; keys cannot contain it (control characters
// are rejected).
const sep = "\x00"

func joinPath(parent, elem string) string {
	if parent == "" {
		return elem
	}
	return parent + sep + elem
}

// index is the path element of a list item.
func index(i int) string { return "[" + strconv.Itoa(i) + "]" }

// where describes a path for messages: "run.user", "families.AF_INET.types[1]".
func where(p string) string {
	if p == "" {
		return "the profile"
	}
	var b strings.Builder
	for i, e := range strings.Split(p, sep) {
		if strings.HasPrefix(e, "[") {
			b.WriteString(e)
			continue
		}
		if i > 0 {
			b.WriteByte('.')
		}
		b.WriteString(e)
	}
	return b.String()
}

var scalarTypes = map[string]bool{"!!str": true, "!!int": true, "!!float": true, "!!bool": true, "!!timestamp": true}

func kindName(n *yaml.Node) string {
	switch n.Kind {
	case yaml.MappingNode:
		return "a mapping"
	case yaml.SequenceNode:
		return "a list"
	case yaml.AliasNode:
		return "an alias"
	}
	switch n.ShortTag() {
	case "!!str":
		return fmt.Sprintf("the string %q", n.Value)
	case "!!null":
		return "null"
	}
	return fmt.Sprintf("%q", n.Value)
}

// walk checks node n against Go type t at path p.
func (c *checker) walk(n *yaml.Node, t reflect.Type, p string) *problem {
	c.lines[p] = n.Line
	if n.Kind == yaml.AliasNode || n.Anchor != "" {
		return &problem{n.Line, fmt.Sprintf("%s: anchors and aliases are not allowed in a profile", where(p))}
	}
	if n.Kind == yaml.ScalarNode && n.ShortTag() == "!!null" {
		return nil // the zero value
	}
	if n.Tag != "" && strings.HasPrefix(n.Tag, "!") && !strings.HasPrefix(n.Tag, "!!") {
		return &problem{n.Line, fmt.Sprintf("%s: custom tag %s is not allowed", where(p), n.Tag)}
	}
	switch t.Kind() {
	case reflect.Struct:
		if n.Kind != yaml.MappingNode {
			return &problem{n.Line, fmt.Sprintf("%s: want a mapping, got %s", where(p), kindName(n))}
		}
		fields := map[string]reflect.StructField{}
		var known []string
		for i := 0; i < t.NumField(); i++ {
			f := t.Field(i)
			name, _, _ := strings.Cut(f.Tag.Get("yaml"), ",")
			fields[name] = f
			known = append(known, name)
		}
		seen := map[string]int{}
		for i := 0; i+1 < len(n.Content); i += 2 {
			k, v := n.Content[i], n.Content[i+1]
			if pr := c.key(k, p, seen); pr != nil {
				return pr
			}
			f, ok := fields[k.Value]
			if !ok {
				return &problem{k.Line, fmt.Sprintf("unknown key %q in %s (known: %s)", k.Value, where(p), strings.Join(known, ", "))}
			}
			c.lines[joinPath(p, k.Value)+"#key"] = k.Line
			if pr := c.walk(v, f.Type, joinPath(p, k.Value)); pr != nil {
				return pr
			}
		}
	case reflect.Map:
		if n.Kind != yaml.MappingNode {
			return &problem{n.Line, fmt.Sprintf("%s: want a mapping, got %s", where(p), kindName(n))}
		}
		seen := map[string]int{}
		for i := 0; i+1 < len(n.Content); i += 2 {
			k, v := n.Content[i], n.Content[i+1]
			if pr := c.key(k, p, seen); pr != nil {
				return pr
			}
			c.lines[joinPath(p, k.Value)+"#key"] = k.Line
			if pr := c.walk(v, t.Elem(), joinPath(p, k.Value)); pr != nil {
				return pr
			}
		}
	case reflect.Slice:
		if n.Kind != yaml.SequenceNode {
			return &problem{n.Line, fmt.Sprintf("%s: want a list, got %s", where(p), kindName(n))}
		}
		for i, item := range n.Content {
			if item.Kind == yaml.ScalarNode && item.ShortTag() == "!!null" {
				return &problem{item.Line, fmt.Sprintf("%s: empty list item", where(joinPath(p, index(i))))}
			}
			if pr := c.walk(item, t.Elem(), joinPath(p, index(i))); pr != nil {
				return pr
			}
		}
	case reflect.String:
		if n.Kind != yaml.ScalarNode || !scalarTypes[n.ShortTag()] {
			return &problem{n.Line, fmt.Sprintf("%s: want a string, got %s", where(p), kindName(n))}
		}
		if !utf8.ValidString(n.Value) {
			return &problem{n.Line, fmt.Sprintf("%s: not valid UTF-8", where(p))}
		}
		for _, r := range n.Value {
			if unicode.IsControl(r) {
				return &problem{n.Line, fmt.Sprintf("%s: control character %q in %q", where(p), r, n.Value)}
			}
		}
	case reflect.Int, reflect.Uint64:
		if n.Kind != yaml.ScalarNode || n.ShortTag() != "!!int" {
			return &problem{n.Line, fmt.Sprintf("%s: want an integer, got %s", where(p), kindName(n))}
		}
		if err := n.Decode(reflect.New(t).Interface()); err != nil {
			return &problem{n.Line, fmt.Sprintf("%s: %s is out of range", where(p), n.Value)}
		}
	case reflect.Pointer: // an optional value: unset (nil) differs from its zero
		return c.walk(n, t.Elem(), p)
	case reflect.Bool:
		if n.Kind != yaml.ScalarNode || n.ShortTag() != "!!bool" {
			return &problem{n.Line, fmt.Sprintf("%s: want true or false, got %s", where(p), kindName(n))}
		}
	default:
		return &problem{n.Line, fmt.Sprintf("%s: unsupported field type %s", where(p), t)}
	}
	return nil
}

// key checks a mapping key: a plain string, given once.
func (c *checker) key(k *yaml.Node, p string, seen map[string]int) *problem {
	if k.Kind != yaml.ScalarNode || k.ShortTag() == "!!null" || k.ShortTag() == "!!binary" {
		return &problem{k.Line, fmt.Sprintf("%s: keys must be plain strings", where(p))}
	}
	if k.ShortTag() == "!!merge" {
		return &problem{k.Line, fmt.Sprintf("%s: merge keys (<<) are not allowed in a profile", where(p))}
	}
	if strings.IndexFunc(k.Value, unicode.IsControl) >= 0 {
		return &problem{k.Line, fmt.Sprintf("%s: control character in key %q", where(p), k.Value)}
	}
	if first, dup := seen[k.Value]; dup {
		return &problem{k.Line, fmt.Sprintf("duplicate key %q in %s (first at line %d)", k.Value, where(p), first)}
	}
	seen[k.Value] = k.Line
	return nil
}

// check is the semantic validation of a decoded profile. It collects every
// problem and reports the first in file order, so the message does not
// depend on map iteration order.
type check struct {
	lines    map[string]int
	problems []problem
}

// line returns the line of the node at the path, or of its nearest
// ancestor that has one.
func (c *check) line(elems ...string) int {
	p := strings.Join(elems, sep)
	for {
		if l, ok := c.lines[p]; ok {
			return l
		}
		i := strings.LastIndex(p, sep)
		if i < 0 {
			return c.lines[""]
		}
		p = p[:i]
	}
}

// keyLine returns the line of the key of a map entry.
func (c *check) keyLine(elems ...string) int {
	if l, ok := c.lines[strings.Join(elems, sep)+"#key"]; ok {
		return l
	}
	return c.line(elems...)
}

func (c *check) addf(line int, format string, a ...any) {
	c.problems = append(c.problems, problem{line, fmt.Sprintf(format, a...)})
}

// names checks a list of names: each valid, none twice.
func (c *check) names(list []string, what string, valid func(string) bool, path ...string) {
	seen := map[string]bool{}
	for i, v := range list {
		at := c.line(append(path, index(i))...)
		if !valid(v) {
			c.addf(at, "unknown %s %q", what, v)
		}
		if seen[v] {
			c.addf(at, "duplicate %s %q in %s", what, v, where(strings.Join(path, sep)))
		}
		seen[v] = true
	}
}

// netlinkFamily is the one family whose sockets list protocols.
var netlinkFamily = linux.FamilyName(linux.AFNetlink)

func validNetlinkProtocol(s string) bool { _, ok := linux.NetlinkProtocolNumber(s); return ok }

// protocols checks families.F.protocols: only under AF_NETLINK, known
// NETLINK_* names, none twice, and never an empty list, which would read
// as "no protocol" but means "any protocol" (the key left out).
func (c *check) protocols(f string, fam Family) {
	key, given := c.lines[strings.Join([]string{"families", f, "protocols"}, sep)+"#key"]
	if !given && len(fam.Protocols) == 0 {
		return
	}
	at := c.line("families", f, "protocols")
	if !given {
		at = c.keyLine("families", f)
	} else if len(fam.Protocols) == 0 {
		at = key
	}
	switch {
	case f != netlinkFamily:
		c.addf(at, "families.%s.protocols: only AF_NETLINK lists protocols (netlink protocols, socket(2)'s third argument)", f)
	case len(fam.Protocols) == 0:
		c.addf(at, "families.%s.protocols is empty: list the netlink protocols, or leave the key out for any protocol", f)
	default:
		c.names(fam.Protocols, "netlink protocol", validNetlinkProtocol, "families", f, "protocols")
	}
}

func oneOf(list []string) string {
	return strings.Join(list[:len(list)-1], ", ") + " or " + list[len(list)-1]
}

func contains(list []string, v string) bool {
	for _, s := range list {
		if s == v {
			return true
		}
	}
	return false
}

func validNamespace(s string) bool { _, ok := linux.NamespaceFlag(s); return ok }

var validSHA256 = regexp.MustCompile(`^[0-9a-f]{64}$`)

// validate checks what the schema walk cannot: version, component, names
// of syscalls, capabilities, families, socket types, netlink protocols,
// namespaces and widenings, duplicate list entries and run options.
func validate(name string, lines map[string]int, p *Profile) error {
	c := &check{lines: lines}
	if p.APIVersion == "" {
		c.addf(c.line(""), "apiVersion missing (want %q)", APIVersion)
	} else if p.APIVersion != APIVersion {
		c.addf(c.line("apiVersion"), "apiVersion %q is not supported (want %q)", p.APIVersion, APIVersion)
	}
	for abi, calls := range p.Syscalls {
		arch, err := linux.ParseArch(abi)
		if err != nil {
			c.addf(c.keyLine("syscalls", abi), "unknown ABI %q in syscalls (want one of %v)", abi, linux.Arches)
			continue
		}
		for sc := range calls {
			if _, ok := linux.SyscallNumber(arch, sc); !ok {
				c.addf(c.keyLine("syscalls", abi, sc), "unknown %s syscall %q", abi, sc)
			}
		}
	}
	groups := []struct {
		name string
		caps map[string]CapUse
	}{{"needed", p.Capabilities.Needed}, {"noaudit", p.Capabilities.Noaudit}, {"denied", p.Capabilities.Denied}}
	in := map[string]string{}
	for _, g := range groups {
		for _, capName := range sortedKeys(g.caps) {
			at := c.keyLine("capabilities", g.name, capName)
			if _, ok := linux.CapNumber(capName); !ok {
				c.addf(at, "unknown capability %q", capName)
			}
			if other, dup := in[capName]; dup {
				c.addf(at, "capability %s is listed both as %s and as %s", capName, other, g.name)
			}
			in[capName] = g.name
		}
	}
	for f, fam := range p.Families {
		if _, ok := linux.FamilyNumber(f); !ok {
			c.addf(c.keyLine("families", f), "unknown address family %q", f)
		}
		c.names(fam.Types, "socket type", func(s string) bool { _, ok := linux.SockTypeNumber(s); return ok }, "families", f, "types")
		c.protocols(f, fam)
	}
	c.names(p.Namespaces, "namespace", validNamespace, "namespaces")
	c.names(p.Widen, "widening", func(s string) bool { return KnownWidenings[s] }, "widen")

	r := p.Run
	c.names(r.Namespaces, "namespace", validNamespace, "run", "namespaces")
	if r.DefaultAction != "" && !contains(DefaultActions, r.DefaultAction) {
		c.addf(c.line("run", "defaultAction"), "unknown defaultAction %q (want %s)", r.DefaultAction, oneOf(DefaultActions))
	}
	if r.ProtectSystem != "" && !contains(ProtectSystemValues, r.ProtectSystem) {
		c.addf(c.line("run", "protectSystem"), "unknown protectSystem %q (want %s)", r.ProtectSystem, oneOf(ProtectSystemValues))
	}
	envSeen := map[string]bool{}
	for i, kv := range r.Env {
		at := c.line("run", "env", index(i))
		k, _, ok := strings.Cut(kv, "=")
		switch {
		case !ok || k == "":
			c.addf(at, "run.env entry %q is not NAME=VALUE", kv)
		case envSeen[k]:
			c.addf(at, "duplicate run.env variable %s", k)
		}
		envSeen[k] = true
	}
	for i, run := range p.Provenance.Runs {
		idx := index(i)
		if run.Started != "" {
			if _, err := time.Parse(time.RFC3339Nano, run.Started); err != nil {
				c.addf(c.line("provenance", "runs", idx, "started"), "provenance.runs[%d].started %q is not an RFC 3339 time", i, run.Started)
			}
		}
		if run.Duration != "" {
			if _, err := time.ParseDuration(run.Duration); err != nil {
				c.addf(c.line("provenance", "runs", idx, "duration"), "provenance.runs[%d].duration %q is not a duration such as 1.5s", i, run.Duration)
			}
		}
		handoffSeen := map[Handoff]bool{}
		for j, h := range run.Handoffs {
			at := c.line("provenance", "runs", idx, "handoffs", index(j))
			if h.Executable == "" {
				c.addf(at, "provenance.runs[%d].handoffs[%d] has no executable", i, j)
			}
			if !contains(HandoffHows, h.How) {
				c.addf(c.line("provenance", "runs", idx, "handoffs", index(j), "how"), "provenance.runs[%d].handoffs[%d]: unknown how %q (want %s)", i, j, h.How, oneOf(HandoffHows))
			}
			if handoffSeen[h] {
				c.addf(at, "provenance.runs[%d]: duplicate handoff %s (%s)", i, h.Executable, h.How)
			}
			handoffSeen[h] = true
		}
	}
	exeSeen := map[Executable]bool{}
	for i, e := range p.Provenance.Executables {
		idx := index(i)
		// Paths are as execve was given them (bprm->filename): usually
		// absolute, but "./configure" is a path too.
		if e.Path == "" {
			c.addf(c.line("provenance", "executables", idx), "executable without a path")
		}
		if !validSHA256.MatchString(e.SHA256) {
			c.addf(c.line("provenance", "executables", idx, "sha256"), "executable %s: sha256 %q is not 64 lowercase hex digits", e.Path, e.SHA256)
		} else if _, err := hex.DecodeString(e.SHA256); err != nil {
			c.addf(c.line("provenance", "executables", idx, "sha256"), "executable %s: sha256: %v", e.Path, err)
		}
		if exeSeen[e] {
			c.addf(c.line("provenance", "executables", idx), "duplicate executable %s (sha256 %s)", e.Path, e.SHA256)
		}
		exeSeen[e] = true
	}
	if len(c.problems) == 0 {
		return nil
	}
	sort.SliceStable(c.problems, func(i, j int) bool {
		if c.problems[i].line != c.problems[j].line {
			return c.problems[i].line < c.problems[j].line
		}
		return c.problems[i].msg < c.problems[j].msg
	})
	first := c.problems[0]
	msg := first.msg
	if n := len(c.problems) - 1; n == 1 {
		msg += " (and 1 more problem)"
	} else if n > 1 {
		msg += fmt.Sprintf(" (and %d more problems)", n)
	}
	return &Error{File: name, Line: first.line, Msg: msg}
}

func sortedKeys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
