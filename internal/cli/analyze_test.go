package cli

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/leash-project/leash/profiles"
	"github.com/leash-project/leash/profiles/analyze"
)

func TestAnalyzeCLI(t *testing.T) {
	dir := filepath.Join("..", "..", "testdata", "analyze")
	root := filepath.Join(dir, "root-everything.yaml")
	tight := filepath.Join(dir, "tight.yaml")

	code, stdout, stderr := leashCLI(t, "analyze", root)
	if code != ExitOK || !strings.HasPrefix(stdout, "legacy-agent: exposure 10.0/10 unsafe") {
		t.Fatalf("exit %d: %s%s", code, stdout, stderr)
	}

	code, stdout, _ = leashCLI(t, "analyze", "--json", tight)
	var r analyze.Report
	if err := json.Unmarshal([]byte(stdout), &r); code != ExitOK || err != nil {
		t.Fatalf("--json: exit %d, %v: %s", code, err, stdout)
	}
	if r.Component != "model-backend" || r.Score >= 1 {
		t.Errorf("--json report: %s %.1f", r.Component, r.Score)
	}

	bad := filepath.Join(t.TempDir(), "bad.yaml")
	os.WriteFile(bad, []byte("apiVersion: leash/v1\ncapabilities:\n  needed:\n    CAP_EVERYTHING: {}\n"), 0o644)
	for _, tc := range []struct {
		name string
		args []string
		code int
		err  string
	}{
		{"gate passes", []string{"analyze", "--max-score", "1", tight}, ExitOK, ""},
		{"gate fails", []string{"analyze", "--max-score", "5", root}, ExitGate, "above --max-score 5.0"},
		{"invalid profile", []string{"analyze", bad}, ExitInput, bad + ":4: unknown capability"},
		{"missing profile", []string{"analyze", "none.yaml"}, ExitInput, "none.yaml"},
		{"bad --max-score", []string{"analyze", "--max-score", "-1", tight}, ExitInput, "--max-score"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			code, _, stderr := leashCLI(t, tc.args...)
			if code != tc.code || !strings.Contains(stderr, tc.err) {
				t.Errorf("exit %d (want %d), stderr %q (want %q)", code, tc.code, stderr, tc.err)
			}
		})
	}
}

// TestAnalyzeWidened: syscalls a widening adds are rated like learned
// ones, and say where they come from.
func TestAnalyzeWidened(t *testing.T) {
	p, err := profiles.Load(filepath.Join("..", "..", "testdata", "analyze", "tight.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	p.Widen = []string{"go-runtime"}
	o, err := widenedSyscalls(p)
	if err != nil {
		t.Fatal(err)
	}
	if len(o.Widened) == 0 {
		t.Fatal("go-runtime widened nothing")
	}
	for name, from := range o.Widened {
		if _, learned := p.Syscalls["x86_64"][name]; learned || !strings.Contains(from, "go-runtime") {
			t.Errorf("widened %s from %q", name, from)
		}
	}
	before, after := analyze.Analyze(p), analyze.AnalyzeWith(p, o)
	if after.Points < before.Points {
		t.Errorf("widening lowered the points: %v -> %v", before.Points, after.Points)
	}
}
