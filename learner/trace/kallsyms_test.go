package trace

import (
	"reflect"
	"strings"
	"testing"
)

func TestKallsymsRanges(t *testing.T) {
	const syms = `ffffffff81366270 T __pfx_ns_capable_noaudit
ffffffff81366280 T ns_capable_noaudit
ffffffff813662c0 T __pfx_ns_capable_setid
ffffffff813662d0 T ns_capable_setid
ffffffff8120790e t ns_capable_noaudit.cold
ffffffff8120791c t capable_wrt_inode_uidgid.cold
ffffffff81a80b10 T cap_vm_enough_memory
ffffffff81a80b10 T cap_vm_enough_memory_alias
ffffffff81a80b80 t cap_other
ffffffffc0001000 t cap_vm_enough_memory	[some_module]
ffffffff81a90000 T _etext
`
	tests := []struct {
		name    string
		input   string
		funcs   []string
		want    []Range
		wantErr string
	}{
		{
			name:  "cold parts, aliases, modules and padding",
			input: syms,
			funcs: []string{"ns_capable_noaudit", "cap_vm_enough_memory"},
			want: []Range{
				{Name: "ns_capable_noaudit.cold", Start: 0xffffffff8120790e, End: 0xffffffff8120791c},
				{Name: "ns_capable_noaudit", Start: 0xffffffff81366280, End: 0xffffffff813662c0},
				{Name: "cap_vm_enough_memory", Start: 0xffffffff81a80b10, End: 0xffffffff81a80b80},
			},
		},
		{
			name:    "missing function",
			input:   syms,
			funcs:   []string{"ns_capable_noaudit", "has_capability_noaudit"},
			want:    []Range{{Name: "ns_capable_noaudit.cold", Start: 0xffffffff8120790e, End: 0xffffffff8120791c}, {Name: "ns_capable_noaudit", Start: 0xffffffff81366280, End: 0xffffffff813662c0}},
			wantErr: "missing has_capability_noaudit",
		},
		{
			name:    "hidden addresses",
			input:   "0000000000000000 T ns_capable_noaudit\n0000000000000000 T capable\n",
			funcs:   []string{"ns_capable_noaudit"},
			wantErr: "addresses are hidden",
		},
		{
			name:    "last symbol has no end",
			input:   "ffffffff81366280 T ns_capable_noaudit\n",
			funcs:   []string{"ns_capable_noaudit"},
			wantErr: "missing ns_capable_noaudit",
		},
		{
			name:    "bad address",
			input:   "zz T ns_capable_noaudit\n",
			funcs:   []string{"ns_capable_noaudit"},
			wantErr: "line 1",
		},
		{
			name:    "short line",
			input:   "ffffffff81366280 T\n",
			funcs:   []string{"ns_capable_noaudit"},
			wantErr: "line 1: want address, type and name",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := KallsymsRanges(strings.NewReader(tt.input), tt.funcs)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("error %v, want one containing %q", err, tt.wantErr)
				}
			} else if err != nil {
				t.Fatal(err)
			}
			if tt.want != nil && !reflect.DeepEqual(got, tt.want) {
				t.Errorf("ranges\n got %+v\nwant %+v", got, tt.want)
			}
		})
	}
}

func TestMergeRanges(t *testing.T) {
	got := mergeRanges([]Range{{Start: 30, End: 40}, {Start: 10, End: 20}, {Start: 20, End: 25}, {Start: 35, End: 50}})
	want := []Range{{Start: 10, End: 25}, {Start: 30, End: 50}}
	if len(got) != len(want) {
		t.Fatalf("got %+v, want %+v", got, want)
	}
	for i := range want {
		if got[i].Start != want[i].Start || got[i].End != want[i].End {
			t.Errorf("range %d: got %+v, want %+v", i, got[i], want[i])
		}
	}
}

func TestIncompleteReasons(t *testing.T) {
	if got := IncompleteReasons(0); got != nil {
		t.Errorf("no bits: %v", got)
	}
	got := IncompleteReasons(incompleteTasks | incompleteExes)
	if len(got) != 2 || !strings.Contains(got[0], "task table") || !strings.Contains(got[1], "executable table") {
		t.Errorf("tasks|exes: %q", got)
	}
}
