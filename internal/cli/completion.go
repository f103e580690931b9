package cli

import (
	"strings"

	"github.com/spf13/cobra"
)

// Shell completion (leash completion bash|zsh|fish|powershell, cobra's):
// the values of enumerated flags, and profile, manifest and key files for
// the arguments and flags that take them. Set up in one place, from
// tables, so the command files stay as they are.

var (
	yamlFiles = []string{"yaml", "yml"}

	// flagValues: "COMMAND FLAG" or "* FLAG" (any command) to the values.
	flagValues = map[string][]string{
		"filter format":    {"disasm", "bpf", "json", "explain"},
		"filter arch":      {"x86_64", "arm64"},
		"export format":    {"systemd", "oci", "oci-caps", "k8s"},
		"run mode":         {"enforce", "complain"},
		"* default-action": {"errno", "kill-process", "log"},
	}
	// flagFiles: flags naming a file of one of these extensions.
	flagFiles = map[string][]string{
		"* file":         yamlFiles, // -f leash.yaml
		"* profile":      yamlFiles, // -p PROFILE
		"sign key":       {"key", "pem"},
		"verify key":     {"pub", "pem"},
		"run verify-key": {"pub", "pem"},
	}
	// profileArgs: commands whose positional arguments are profiles (for
	// check, only the first: CMD follows).
	profileArgs = map[string]bool{
		"show": true, "analyze": true, "diff": true, "merge": true, "filter": true,
		"export": true, "sign": true, "verify": true, "check": true,
	}
)

func addCompletions(root *cobra.Command) {
	// cobra adds its completion command when it executes; add it now to
	// give it examples like every other command.
	root.InitDefaultCompletionCmd()
	for _, c := range root.Commands() {
		if c.Name() == "completion" {
			c.Example = `  # Bash, for this shell only
  source <(leash completion bash)

  # Bash, for every session (Debian's bash-completion)
  leash completion bash > /etc/bash_completion.d/leash

  # Zsh and fish
  leash completion zsh > "${fpath[1]}/_leash"
  leash completion fish > ~/.config/fish/completions/leash.fish`
		}
	}
	for _, c := range root.Commands() {
		name := c.Name()
		if profileArgs[name] && c.ValidArgsFunction == nil {
			c.ValidArgsFunction = func(cmd *cobra.Command, args []string, _ string) ([]string, cobra.ShellCompDirective) {
				if cmd.Name() == "check" && len(args) > 0 {
					return nil, cobra.ShellCompDirectiveDefault // CMD after PROFILE --
				}
				return yamlFiles, cobra.ShellCompDirectiveFilterFileExt
			}
		}
		for key, vals := range flagValues {
			if f := flagFor(c, name, key); f != "" {
				_ = c.RegisterFlagCompletionFunc(f, func(*cobra.Command, []string, string) ([]string, cobra.ShellCompDirective) {
					return vals, cobra.ShellCompDirectiveNoFileComp
				})
			}
		}
		for key, exts := range flagFiles {
			if f := flagFor(c, name, key); f != "" {
				_ = c.MarkFlagFilename(f, exts...)
			}
		}
	}
}

// flagFor returns the flag key ("COMMAND FLAG" or "* FLAG") names on c,
// or "" when it is not c's.
func flagFor(c *cobra.Command, name, key string) string {
	cmd, flag, _ := strings.Cut(key, " ")
	if (cmd == "*" || cmd == name) && c.Flags().Lookup(flag) != nil {
		return flag
	}
	return ""
}
