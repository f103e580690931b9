package cli

import (
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/spf13/cobra"
)

// TestCompletion asks cobra's hidden __complete command, as the shell
// scripts of leash completion do, for flag values and file kinds.
func TestCompletion(t *testing.T) {
	tests := []struct {
		args      []string
		want      []string
		directive cobra.ShellCompDirective
	}{
		{[]string{"export", "--format", ""}, []string{"systemd", "oci", "oci-caps", "k8s"}, cobra.ShellCompDirectiveNoFileComp},
		{[]string{"filter", "--format", ""}, []string{"disasm", "bpf", "json", "explain"}, cobra.ShellCompDirectiveNoFileComp},
		{[]string{"run", "--default-action", ""}, []string{"errno", "kill-process", "log"}, cobra.ShellCompDirectiveNoFileComp},
		{[]string{"run", "--mode", ""}, []string{"enforce", "complain"}, cobra.ShellCompDirectiveNoFileComp},
		{[]string{"run", "-p", ""}, []string{"yaml", "yml"}, cobra.ShellCompDirectiveFilterFileExt},
		{[]string{"up", "-f", ""}, []string{"yaml", "yml"}, cobra.ShellCompDirectiveFilterFileExt},
		{[]string{"verify", "--key", ""}, []string{"pub", "pem"}, cobra.ShellCompDirectiveFilterFileExt},
		{[]string{"show", ""}, []string{"yaml", "yml"}, cobra.ShellCompDirectiveFilterFileExt},
		{[]string{"diff", "old.yaml", ""}, []string{"yaml", "yml"}, cobra.ShellCompDirectiveFilterFileExt},
		{[]string{"check", ""}, []string{"yaml", "yml"}, cobra.ShellCompDirectiveFilterFileExt},
		{[]string{"check", "p.yaml", "--", ""}, nil, cobra.ShellCompDirectiveDefault},
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.args, " "), func(t *testing.T) {
			code, out, errOut := leashCLI(t, append([]string{cobra.ShellCompRequestCmd}, tt.args...)...)
			if code != 0 {
				t.Fatalf("exit %d: %s", code, errOut)
			}
			lines := strings.Split(strings.TrimSpace(out), "\n")
			got, last := lines[:len(lines)-1], lines[len(lines)-1]
			if !slices.Equal(got, tt.want) && !(len(got) == 0 && tt.want == nil) {
				t.Errorf("completions %q, want %q", got, tt.want)
			}
			if want := fmt.Sprintf(":%d", tt.directive); last != want {
				t.Errorf("directive %s, want %s", last, want)
			}
		})
	}
	// The scripts themselves.
	for _, shell := range []string{"bash", "zsh", "fish", "powershell"} {
		if code, out, errOut := leashCLI(t, "completion", shell); code != 0 || !strings.Contains(out, "leash") {
			t.Errorf("leash completion %s: exit %d: %s", shell, code, errOut)
		}
	}
}
