package learner

import (
	"testing"
	"time"

	"github.com/leash-project/leash/learner/trace"
)

func TestFormatStatus(t *testing.T) {
	tests := []struct {
		elapsed time.Duration
		st      trace.Stats
		want    string
	}{
		{0, trace.Stats{}, "leash: 0s · 0 procs (0 tasks live) · 0 syscalls · 0 caps · 0 families"},
		{3249 * time.Millisecond, trace.Stats{Live: 5, Processes: 4, Syscalls: 57, Capabilities: 3, Families: 2},
			"leash: 3.2s · 4 procs (5 tasks live) · 57 syscalls · 3 caps · 2 families"},
		{90 * time.Second, trace.Stats{Processes: 1, Syscalls: 1}, "leash: 1m30s · 1 procs (0 tasks live) · 1 syscalls · 0 caps · 0 families"},
	}
	for _, tt := range tests {
		if got := FormatStatus(tt.elapsed, tt.st); got != tt.want {
			t.Errorf("FormatStatus(%v, %+v)\n got %q\nwant %q", tt.elapsed, tt.st, got, tt.want)
		}
	}
}
