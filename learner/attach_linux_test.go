package learner

import (
	"strings"
	"testing"
	"time"

	"github.com/leash-project/leash/learner/trace"
)

// TestAttachNotes: the provenance notes of an attached run say what
// tracking may have missed, and name the processes.
func TestAttachNotes(t *testing.T) {
	sh := trace.Process{Pid: 10, Comm: "sh", Late: true}
	kid := trace.Process{Pid: 11, Comm: "sleep", Late: true}
	sealed := trace.Process{Pid: 12, Comm: "nginx", Late: true, Seccomp: 2}
	moved := trace.Process{Pid: 13, Comm: "worker", Late: true}
	tests := []struct {
		name    string
		pid     int
		cgroup  string
		procs   []trace.Process
		rescued []trace.Process
		want    []string // one substring per note, in order
	}{
		{name: "PidAlone", pid: 10, procs: []trace.Process{sh},
			want: []string{"attached to running pid 10 (sh) at 2026-01-02T03:04:05Z: what they did before"}},
		{name: "PidTree", pid: 10, procs: []trace.Process{sh, kid},
			want: []string{"attached to running pid 10 (sh) and 1 process of its tree at"}},
		{name: "PidSeccomp", pid: 12, procs: []trace.Process{sealed},
			want: []string{"attached to running pid 12 (nginx)", "1 process already ran under seccomp (pid 12 nginx seccomp filter)"}},
		{name: "CgroupEmpty", cgroup: "/cg/web.service",
			want: []string{"attached to cgroup /cg/web.service at 2026-01-02T03:04:05Z"}},
		{name: "CgroupRunning", cgroup: "/cg/web.service", procs: []trace.Process{sh, kid},
			want: []string{"with 2 processes already running (pid 10 sh, pid 11 sleep)"}},
		{name: "CgroupRescued", cgroup: "/cg/web.service", procs: []trace.Process{sh}, rescued: []trace.Process{moved},
			want: []string{"with 1 process already running (pid 10 sh)", "1 process found by a rescan of cgroup /cg/web.service, up to 500ms after entering it without exec (pid 13 worker)"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a := &attachState{cfg: AttachConfig{Pid: tt.pid, Cgroup: tt.cgroup}, started: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)}
			for _, p := range tt.procs {
				a.note(p, false)
			}
			for _, p := range tt.rescued {
				a.note(p, true)
			}
			got := a.notes()
			if len(got) != len(tt.want) {
				t.Fatalf("notes %q, want %d", got, len(tt.want))
			}
			for i, w := range tt.want {
				if !strings.Contains(got[i], w) {
					t.Errorf("note %d = %q, want it to contain %q", i, got[i], w)
				}
			}
		})
	}
}

// TestListProcsBounded: a long list names five processes and counts the
// rest.
func TestListProcsBounded(t *testing.T) {
	var ps []trace.Process
	for i := 0; i < 8; i++ {
		ps = append(ps, trace.Process{Pid: 100 + i, Comm: "w"})
	}
	got := listProcs(ps)
	if want := "pid 100 w, pid 101 w, pid 102 w, pid 103 w, pid 104 w, and 3 more"; got != want {
		t.Errorf("listProcs = %q, want %q", got, want)
	}
}
