package profiles

import (
	"bytes"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/profiles")

// testdata is the repository's shared testdata/profiles folder.
const testdata = "../testdata/profiles"

// golden compares got with testdata/profiles/name, or rewrites the file
// with -update.
func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join(testdata, name)
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("read golden file (run go test -update to create it): %v", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s differs from the output (go test ./profiles -update rewrites it):\n--- got\n%s\n--- want\n%s", path, got, want)
	}
}

func mustLoad(t *testing.T, name string) *Profile {
	t.Helper()
	p, err := Load(filepath.Join(testdata, name))
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// testdataProfiles lists the profiles in the repository's testdata that
// are meant to be valid: ours, and the seccomp and analyze fixtures (so a
// stricter validation cannot silently break another package's tests).
func testdataProfiles(t testing.TB) []string {
	t.Helper()
	var out []string
	for _, dir := range []string{"profiles", "seccomp", "analyze", "signing"} {
		files, err := filepath.Glob(filepath.Join("..", "testdata", dir, "*.yaml"))
		if err != nil {
			t.Fatal(err)
		}
		for _, f := range files {
			if !strings.HasSuffix(f, ".k8s.yaml") {
				out = append(out, f)
			}
		}
	}
	if len(out) < 10 {
		t.Fatalf("only %d testdata profiles", len(out))
	}
	return out
}
