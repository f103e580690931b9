package launch

import (
	"fmt"
	"syscall"

	"github.com/leash-project/leash/linux"
	"github.com/leash-project/leash/profiles"
	"github.com/leash-project/leash/seccomp"
)

// Denial is one kind of seccomp action taken against the target, counted.
type Denial struct {
	Component  string `json:"component"`
	Kind       string `json:"kind"` // "syscall"
	Name       string `json:"name"`
	ABI        string `json:"abi"`
	Nr         int    `json:"nr"`
	Executable string `json:"executable"`
	Action     string `json:"action"`
	Count      int    `json:"count"`
}

// ActionENOSYS is the action MarkENOSYS gives a record the filter
// answered ENOSYS by design, whatever the profile says: clone3 (its flags
// are in memory a filter cannot read) and numbers newer than leash's
// tables. libc falls back (clone3 to clone), so these are not denials of
// anything learned.
const ActionENOSYS = "ENOSYS"

// MarkENOSYS sets ActionENOSYS on the errno records of ds that f answers
// ENOSYS. The kernel logs an errno action without its errno, so the filter
// that ran says which errno it was; only number-only rules answer ENOSYS,
// so the record's number is enough.
func MarkENOSYS(ds []Denial, f *seccomp.Filter) {
	for i, d := range ds {
		if d.Action != "ERRNO" {
			continue
		}
		arch, err := linux.ParseArch(d.ABI)
		if err != nil {
			continue // x32 and unknown architectures: never ENOSYS
		}
		v := f.Explain(seccomp.Data{Nr: int32(d.Nr), Arch: arch.AuditArch()})
		if v.Action == seccomp.RetErrno|uint32(syscall.ENOSYS) {
			ds[i].Action = ActionENOSYS
		}
	}
}

// ByDesign reports whether d is an ENOSYS answer the filter gives whatever
// the profile says (see ActionENOSYS), not a denial.
func (d Denial) ByDesign() bool { return d.Action == ActionENOSYS }

// String says what was denied in plain words.
func (d Denial) String() string {
	times := "once"
	if d.Count > 1 {
		times = fmt.Sprintf("%d times", d.Count)
	}
	if d.ByDesign() {
		why := "newer than leash's syscall table"
		if d.Name == "clone3" {
			why = "its flags are in memory a filter cannot read; libc falls back to clone"
		}
		return fmt.Sprintf("component %s: syscall %s (%s) by %s answered ENOSYS as always (%s), %s", d.Component, d.Name, d.ABI, d.Executable, why, times)
	}
	return fmt.Sprintf("component %s: syscall %s (%s) by %s, %s (%s)", d.Component, d.Name, d.ABI, d.Executable, times, d.Action)
}

// Fragment returns a profile holding only the syscalls of ds: the
// additions complain mode found, for leash merge.
func Fragment(component string, ds []Denial) *profiles.Profile {
	p := &profiles.Profile{APIVersion: profiles.APIVersion, Component: component, Syscalls: map[string]map[string]string{}}
	for _, d := range ds {
		if _, err := linux.ParseArch(d.ABI); err != nil {
			continue // x32 and unknown ABIs are never allowed
		}
		if d.ByDesign() {
			continue // answered ENOSYS whatever the profile says
		}
		if p.Syscalls[d.ABI] == nil {
			p.Syscalls[d.ABI] = map[string]string{}
		}
		if _, ok := p.Syscalls[d.ABI][d.Name]; !ok {
			p.Syscalls[d.ABI][d.Name] = d.Executable
		}
	}
	return p
}
