package e2e

import (
	"bytes"
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

var flagReadme = flag.Bool("e2e.readme", false, "copy the tables the README quotes into README.md")

// A README block quoted from another file: the lines between its begin
// and end markers are the first markdown table after the heading `after`
// in `from` (after == "": the first table of the file).
type quote struct {
	from, after string
	begin, end  string
}

var readmeQuotes = []quote{
	{from: "e2e/results.md", begin: "<!-- begin e2e/results.md table", end: "<!-- end e2e/results.md table -->"},
	{from: "docs/benchmarks.md", after: "## Headline", begin: "<!-- begin docs/benchmarks.md headline", end: "<!-- end docs/benchmarks.md headline -->"},
}

// root is the module's top folder, from this package's.
const root = ".."

// firstTable returns the first markdown table of doc after the line
// `after`.
func firstTable(doc, after string) (string, error) {
	lines := strings.Split(doc, "\n")
	i := 0
	if after != "" {
		for i < len(lines) && lines[i] != after {
			i++
		}
		if i == len(lines) {
			return "", fmt.Errorf("no line %q", after)
		}
	}
	for i < len(lines) && !strings.HasPrefix(lines[i], "|") {
		i++
	}
	j := i
	for j < len(lines) && strings.HasPrefix(lines[j], "|") {
		j++
	}
	if i == j {
		return "", errors.New("no table")
	}
	return strings.Join(lines[i:j], "\n") + "\n", nil
}

// syncReadme returns readme with every quoted block replaced by the table
// it quotes.
func syncReadme(readme []byte) ([]byte, error) {
	out := readme
	for _, q := range readmeQuotes {
		src, err := os.ReadFile(filepath.Join(root, q.from))
		if err != nil {
			return nil, err
		}
		table, err := firstTable(string(src), q.after)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", q.from, err)
		}
		b := bytes.Index(out, []byte(q.begin))
		if b < 0 {
			return nil, fmt.Errorf("README.md: no %q marker", q.begin)
		}
		b += bytes.IndexByte(out[b:], '\n') + 1
		e := bytes.Index(out[b:], []byte(q.end))
		if e < 0 {
			return nil, fmt.Errorf("README.md: no %q marker", q.end)
		}
		out = append(append(append([]byte(nil), out[:b]...), table...), out[b+e:]...)
	}
	return out, nil
}

// writeReadme brings README.md's quoted tables up to date.
func writeReadme() error {
	path := filepath.Join(root, "README.md")
	readme, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	synced, err := syncReadme(readme)
	if err != nil {
		return err
	}
	if bytes.Equal(synced, readme) {
		return nil
	}
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, synced, 0o644); err != nil {
		return err
	}
	return os.Rename(tmp, path)
}

// TestReadmeQuotes: the tables README.md quotes are those of
// e2e/results.md and docs/benchmarks.md, verbatim. go test ./e2e -run
// TestReadmeQuotes -e2e.readme copies them (bench/run --write and
// -e2e.write do).
func TestReadmeQuotes(t *testing.T) {
	if *flagReadme {
		if err := writeReadme(); err != nil {
			t.Fatal(err)
		}
	}
	readme, err := os.ReadFile(filepath.Join(root, "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	synced, err := syncReadme(readme)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(synced, readme) {
		t.Errorf("README.md quotes tables that differ from their source; run go test ./e2e -run TestReadmeQuotes -e2e.readme\n%s", lineDiffText(string(readme), string(synced)))
	}
}

// TestFirstTable: the table extraction the quotes rely on.
func TestFirstTable(t *testing.T) {
	doc := "# T\n\n| a |\n|---|\n| 1 |\n\n## Headline\n\ntext\n\n| b |\n|---|\n| 2 |\nafter\n"
	tests := []struct {
		after, want string
		err         bool
	}{
		{"", "| a |\n|---|\n| 1 |\n", false},
		{"## Headline", "| b |\n|---|\n| 2 |\n", false},
		{"## Missing", "", true},
	}
	for _, tt := range tests {
		got, err := firstTable(doc, tt.after)
		if (err != nil) != tt.err || got != tt.want {
			t.Errorf("firstTable(%q) = %q, %v; want %q (error %v)", tt.after, got, err, tt.want, tt.err)
		}
	}
	if _, err := firstTable("no table here\n", ""); err == nil {
		t.Error("firstTable of a document without a table: no error")
	}
}

// lineDiffText lists the lines of a that b lacks (-) and the other way (+).
func lineDiffText(a, b string) string {
	in := func(s string) map[string]bool {
		m := map[string]bool{}
		for _, l := range strings.Split(s, "\n") {
			m[l] = true
		}
		return m
	}
	ia, ib := in(a), in(b)
	var out strings.Builder
	for _, l := range strings.Split(a, "\n") {
		if !ib[l] {
			fmt.Fprintf(&out, "- %s\n", l)
		}
	}
	for _, l := range strings.Split(b, "\n") {
		if !ia[l] {
			fmt.Fprintf(&out, "+ %s\n", l)
		}
	}
	return out.String()
}
