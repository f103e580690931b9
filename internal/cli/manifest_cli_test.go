package cli

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestManifestCommandsBadInput: every command that reads a manifest
// rejects a bad one with exit 2 and a file:line message, before starting
// anything; flag misuse is exit 2 too.
func TestManifestCommandsBadInput(t *testing.T) {
	dir := t.TempDir()
	bad := filepath.Join(dir, "leash.yaml")
	doc := "apiVersion: leash/v1\nkind: System\ncomponents:\n  - name: a\n    command: [/bin/true]\n    user: nobody\n    colour: red\n"
	if err := os.WriteFile(bad, []byte(doc), 0o644); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"learn", []string{"learn", "-f", bad}, bad + ":7: unknown key \"colour\""},
		{"up", []string{"up", "-f", bad}, bad + ":7:"},
		{"export", []string{"export", "-f", bad, "--format", "systemd", "-o", dir}, bad + ":7:"},
		{"learn with CMD", []string{"learn", "-f", bad, "--", "/bin/true"}, "no CMD with -f"},
		{"learn with -o", []string{"learn", "-f", bad, "-o", filepath.Join(dir, "x.yaml")}, "-o does not go with -f"},
		{"export other format", []string{"export", "-f", bad, "--format", "oci", "-o", dir}, "systemd only"},
		{"export without -o", []string{"export", "-f", bad, "--format", "systemd"}, "needs -o DIR"},
		{"--driver without -f", []string{"learn", "--driver", "true", "--", "/bin/true"}, "go with -f"},
		{"--profiles without -f", []string{"learn", "--profiles", dir, "-o", filepath.Join(dir, "x.yaml"), "--", "/bin/true"}, "go with -f"},
		{"missing manifest", []string{"up", "-f", filepath.Join(dir, "none.yaml")}, "none.yaml"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, _, errOut := leashCLI(t, tt.args...)
			if code != ExitInput || !strings.Contains(errOut, tt.want) {
				t.Errorf("exit %d (want %d), stderr %q (want %q)", code, ExitInput, errOut, tt.want)
			}
		})
	}
}

func TestSystemdQuote(t *testing.T) {
	tests := []struct {
		in   []string
		want string
	}{
		{[]string{"/bin/app", "--port", "80"}, "/bin/app --port 80"},
		{[]string{"/bin/sh", "-c", "echo $HOME 100%"}, `/bin/sh -c "echo $$HOME 100%%"`},
		{[]string{"a b", `q"`, ""}, `"a b" "q\"" ""`},
	}
	for _, tt := range tests {
		if got := systemdQuote(tt.in); got != tt.want {
			t.Errorf("systemdQuote(%q) = %s, want %s", tt.in, got, tt.want)
		}
	}
}
