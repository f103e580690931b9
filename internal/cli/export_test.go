package cli

import (
	"strings"
	"testing"
)

func TestABIUnionWarning(t *testing.T) {
	tests := []struct {
		name    string
		allowed map[string][]string
		want    []string // substrings; none: no warning
	}{
		{"one ABI", map[string][]string{"x86_64": {"read", "write"}}, nil},
		{"same lists", map[string][]string{"x86_64": {"read"}, "i386": {"read"}}, nil},
		{"one way", map[string][]string{"x86_64": {"read", "write"}, "i386": {"read"}},
			[]string{"1 more on i386 (write)"}},
		{"both ways", map[string][]string{"x86_64": {"execve", "getpid"}, "i386": {"socket"}},
			[]string{"1 more on x86_64 (socket)", "2 more on i386 (execve getpid)", "oci format"}},
		{"long list cut", map[string][]string{"x86_64": {"a", "b", "c", "d", "e", "f", "g", "h", "i", "j"}, "i386": {"z"}},
			[]string{"10 more on i386 (a b c d e f g h ...)"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := abiUnionWarning("oci", tt.allowed)
			if len(tt.want) == 0 && got != "" {
				t.Errorf("warning %q, want none", got)
			}
			if len(tt.want) > 0 && got == "" {
				t.Errorf("no warning, want one with %q", tt.want)
			}
			for _, w := range tt.want {
				if !strings.Contains(got, w) {
					t.Errorf("warning %q lacks %q", got, w)
				}
			}
		})
	}
}
