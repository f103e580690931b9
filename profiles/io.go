package profiles

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"reflect"

	"go.yaml.in/yaml/v3"

	"github.com/leash-project/leash/internal/atomicfile"
)

// Error is a problem with a profile file, at a line where one is known.
// Commands map it to exit code 2.
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

// ErrInvalid is matched by every *Error with errors.Is.
var ErrInvalid = errors.New("invalid profile")

func (e *Error) Is(target error) bool { return target == ErrInvalid }

// MaxSize is the largest profile file leash reads.
const MaxSize = 16 << 20

// Load reads and validates the profile at path.
func Load(path string) (*Profile, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("read profile: %w", err)
	}
	defer f.Close()
	data, err := Read(f)
	if err != nil {
		return nil, err
	}
	return Parse(path, data)
}

// Read reads a profile file's bytes for Parse: at most MaxSize+1 of them
// (Parse refuses a profile larger than MaxSize).
func Read(r io.Reader) ([]byte, error) {
	data, err := io.ReadAll(io.LimitReader(r, MaxSize+1))
	if err != nil {
		return nil, fmt.Errorf("read profile: %w", err)
	}
	return data, nil
}

// Parse decodes and validates a profile; name is used in errors. Every
// problem is an *Error (errors.Is(err, ErrInvalid)) naming name and, where
// one is known, the line. The profile returned is normalized (see
// Normalize).
//
// Rejected: more or fewer than one YAML document, anything but a mapping,
// unknown or duplicate keys, values of the wrong kind, anchors, aliases
// and custom tags, another apiVersion or none, unknown ABIs,
// syscalls, capabilities, address families, socket types, namespaces and
// widenings, duplicate list entries, a capability in two groups, and
// malformed run options, times, durations, paths and digests.
func Parse(name string, data []byte) (p *Profile, err error) {
	defer func() {
		// The YAML parser is not ours; a panic in it on hostile input
		// must still be a one-line error about this file.
		if r := recover(); r != nil {
			p, err = nil, &Error{File: name, Msg: oneLine(fmt.Sprintf("cannot parse YAML: %v", r))}
		}
	}()
	if len(data) > MaxSize {
		return nil, &Error{File: name, Msg: fmt.Sprintf("larger than %d MiB", MaxSize>>20)}
	}
	dec := yaml.NewDecoder(bytes.NewReader(data))
	var doc yaml.Node
	if err := dec.Decode(&doc); err != nil {
		if errors.Is(err, io.EOF) {
			return nil, &Error{File: name, Msg: "empty profile"}
		}
		return nil, yamlError(name, err)
	}
	var next yaml.Node
	switch err := dec.Decode(&next); {
	case errors.Is(err, io.EOF):
	case err != nil:
		return nil, yamlError(name, err)
	default:
		return nil, &Error{File: name, Line: next.Line, Msg: "more than one YAML document: a profile file holds one component"}
	}
	if len(doc.Content) == 0 {
		return nil, &Error{File: name, Line: doc.Line, Msg: "empty profile"}
	}
	root := doc.Content[0]
	if root.Kind == yaml.ScalarNode && root.ShortTag() == "!!null" {
		return nil, &Error{File: name, Line: root.Line, Msg: "empty profile"}
	}
	if root.Kind != yaml.MappingNode {
		return nil, &Error{File: name, Line: root.Line, Msg: "a profile is a mapping (apiVersion: " + APIVersion + ", component: ...)"}
	}
	c := &checker{lines: map[string]int{}}
	if pr := c.walk(root, reflect.TypeFor[Profile](), ""); pr != nil {
		return nil, &Error{File: name, Line: pr.line, Msg: pr.msg}
	}
	var prof Profile
	if err := root.Decode(&prof); err != nil {
		return nil, yamlError(name, err)
	}
	if err := validate(name, c.lines, &prof); err != nil {
		return nil, err
	}
	prof.Normalize()
	return &prof, nil
}

// header opens every profile file written by leash.
const header = `# leash profile: the privileges one component was seen to use.
# Review it like code: every entry below is something the component may do.
# Syscalls and checks name the first executable seen using them.
`

// Marshal encodes p in leash's fixed order (struct order, sorted map keys).
// Equal profiles give identical bytes: p is normalized (on a copy) first.
func Marshal(p *Profile) ([]byte, error) {
	p = p.Clone()
	p.Normalize()
	var b bytes.Buffer
	b.WriteString(header)
	enc := yaml.NewEncoder(&b)
	enc.SetIndent(2)
	if err := enc.Encode(p); err != nil {
		return nil, fmt.Errorf("encode profile: %w", err)
	}
	if err := enc.Close(); err != nil {
		return nil, fmt.Errorf("encode profile: %w", err)
	}
	return b.Bytes(), nil
}

// Save writes p to path atomically: readers see the old file or the new
// one, never a part.
func Save(path string, p *Profile) error {
	data, err := Marshal(p)
	if err != nil {
		return err
	}
	return atomicfile.Write(path, data, 0o644)
}
