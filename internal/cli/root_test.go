package cli

import (
	"bytes"
	"testing"
)

// Main builds only the command args name (newTree); that needs each
// registered name to be the command's own.
func TestRegisteredNames(t *testing.T) {
	seen := map[string]bool{}
	for _, f := range factories {
		if got := f.new().Name(); got != f.name {
			t.Errorf("register(%d, %q, ...) builds a command named %q", f.order, f.name, got)
		}
		if seen[f.name] {
			t.Errorf("command %q registered twice", f.name)
		}
		seen[f.name] = true
	}
	var out bytes.Buffer
	if root := newTree(&out, &out, "run"); len(root.Commands()) != 1 || root.Commands()[0].Name() != "run" {
		t.Errorf("newTree(run) built %d commands, want run alone", len(root.Commands()))
	}
	// All of them, and cobra's completion command.
	if root := newTree(&out, &out, "no-such-command"); len(root.Commands()) != len(factories)+1 {
		t.Errorf("newTree(unknown) built %d commands, want all %d and completion", len(root.Commands()), len(factories))
	}
}
