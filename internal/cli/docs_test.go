package cli

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// TestEveryCommandHasExamples: leash CMD --help shows examples for every
// visible command, cobra's completion command included.
func TestEveryCommandHasExamples(t *testing.T) {
	root := New(&strings.Builder{}, &strings.Builder{})
	seen := false
	for _, c := range root.Commands() {
		if c.Hidden || c.Name() == "help" {
			continue
		}
		seen = seen || c.Name() == "completion"
		if strings.TrimSpace(c.Example) == "" {
			t.Errorf("leash %s: no examples in --help", c.Name())
		}
	}
	if !seen {
		t.Errorf("no completion command in the tree")
	}
}

// leashLine finds a leash command line in documentation: "leash SUB ...",
// up to the end of the line or a shell operator.
var leashLine = regexp.MustCompile(`(?:^|[\s(` + "`" + `"])leash ([a-z][a-z-]+(?: [^|;&>#` + "`" + `]*)?)`)

// TestDocumentedCommandsParse: every leash command line in the README, the
// CI guide, the example CI job and the commands' own examples names a real
// command and only flags it has, so the documentation cannot drift from
// the CLI unnoticed.
func TestDocumentedCommandsParse(t *testing.T) {
	sources := map[string]string{}
	for _, f := range []string{"README.md", "docs/ci.md", "docs/examples/leash-profile.yml"} {
		data, err := os.ReadFile(filepath.Join("..", "..", f))
		if err != nil {
			t.Fatal(err)
		}
		sources[f] = string(data)
	}
	root := New(&strings.Builder{}, &strings.Builder{})
	for _, c := range root.Commands() {
		sources["leash "+c.Name()+" --help"] = c.Example
	}
	checked := 0
	for src, text := range sources {
		for _, line := range strings.Split(text, "\n") {
			for _, m := range leashLine.FindAllStringSubmatch(line, -1) {
				args := shellWords(m[1])
				if len(args) == 0 {
					continue
				}
				r := New(&strings.Builder{}, &strings.Builder{})
				cmd, rest, err := r.Find(args)
				if err != nil || cmd == r {
					// Prose ("leash learns it"), not a command line.
					continue
				}
				// Shell expansions stand for a value: any will do.
				for i, a := range rest {
					if strings.Contains(a, "$") {
						rest[i] = "0"
					}
				}
				err = cmd.ParseFlags(rest)
				if err != nil && strings.Contains(err.Error(), "needs an argument") && strings.HasPrefix(rest[len(rest)-1], "-") {
					continue // prose naming a flag: "`leash learn -f`"
				}
				if err != nil {
					t.Errorf("%s: %q: %v", src, strings.TrimSpace(m[1]), err)
				}
				checked++
			}
		}
	}
	if checked < 40 {
		t.Errorf("checked only %d documented command lines: the pattern no longer finds them", checked)
	}
}

// shellWords splits s as a shell would, for quotes; it does not expand.
func shellWords(s string) []string {
	var words []string
	var cur strings.Builder
	in, quote := false, byte(0)
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case quote != 0 && c == quote:
			quote = 0
		case quote != 0:
			cur.WriteByte(c)
		case c == '\'' || c == '"':
			quote, in = c, true
		case c == ' ' || c == '\t':
			if in {
				words = append(words, cur.String())
				cur.Reset()
				in = false
			}
		default:
			cur.WriteByte(c)
			in = true
		}
	}
	if in {
		words = append(words, cur.String())
	}
	return words
}
