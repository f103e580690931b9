package trace

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"slices"
	"sort"
	"strconv"
	"strings"
)

// NoauditFuncs are the kernel functions (Linux 6.x) that check a capability
// with CAP_OPT_NOAUDIT, directly or as exported wrappers, so a check whose
// kernel stack passes through one of them is a silent probe:
//   - kernel/capability.c: has_ns_capability_noaudit, has_capability_noaudit,
//     ns_capable_noaudit (ns_capable_common is inlined into it);
//   - security/commoncap.c: cap_vm_enough_memory (the CAP_SYS_ADMIN probe of
//     every mmap and brk), reached from security_vm_enough_memory_mm;
//   - kernel/ksyms_common.c: kallsyms_show_value (CAP_SYSLOG).
//
// ptrace_has_cap (PTRACE_MODE_NOAUDIT), seccomp's no_new_privs check and
// others call ns_capable_noaudit or has_capability_noaudit and are covered
// through them.
var NoauditFuncs = []string{
	"cap_vm_enough_memory",
	"security_vm_enough_memory_mm",
	"ns_capable_noaudit",
	"has_ns_capability_noaudit",
	"has_capability_noaudit",
	"kallsyms_show_value",
}

// Range is kernel text [Start, End) of one function.
type Range struct {
	Name       string
	Start, End uint64
}

// KallsymsRanges parses /proc/kallsyms (built-in symbols only) and returns
// the text ranges of the functions named in funcs, sorted by address. A
// function ends at the next symbol's address. Compiler-split parts such as
// "ns_capable_noaudit.cold" count as the function. It fails if the
// addresses are hidden (all zero, kptr_restrict) or a function is missing.
func KallsymsRanges(r io.Reader, funcs []string) ([]Range, error) {
	want := map[string]bool{}
	for _, f := range funcs {
		want[f] = true
	}
	type sym struct {
		addr uint64
		name string
	}
	addrs := make([]uint64, 0, 1<<17) // every built-in symbol's address (some 120,000)
	var hits []sym                    // the wanted ones
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 256*1024), 1024*1024) // few, large reads of /proc/kallsyms
	nonzero := false
	for line := 1; sc.Scan(); line++ {
		// "ADDR TYPE NAME" or "ADDR TYPE NAME\t[MODULE]"; split by hand,
		// this runs over some 100,000 lines at every start.
		b := sc.Bytes()
		sp1 := bytes.IndexByte(b, ' ')
		if sp1 < 0 {
			return nil, fmt.Errorf("parse kallsyms: line %d: want address, type and name", line)
		}
		rest := b[sp1+1:]
		sp2 := bytes.IndexByte(rest, ' ')
		if sp2 < 0 || sp2+1 >= len(rest) {
			return nil, fmt.Errorf("parse kallsyms: line %d: want address, type and name", line)
		}
		name := rest[sp2+1:]
		if bytes.IndexByte(name, '\t') >= 0 || bytes.IndexByte(name, ' ') >= 0 {
			continue // module symbol: "[module]"
		}
		addr, err := strconv.ParseUint(string(b[:sp1]), 16, 64)
		if err != nil {
			return nil, fmt.Errorf("parse kallsyms: line %d: %w", line, err)
		}
		if addr != 0 {
			nonzero = true
		}
		addrs = append(addrs, addr)
		base, _, _ := bytes.Cut(name, []byte("."))
		if want[string(base)] {
			hits = append(hits, sym{addr, string(name)})
		}
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("read kallsyms: %w", err)
	}
	if !nonzero {
		return nil, fmt.Errorf("read kallsyms: addresses are hidden (kptr_restrict, or not root)")
	}
	slices.Sort(addrs)
	sort.SliceStable(hits, func(i, j int) bool { return hits[i].addr < hits[j].addr })
	found := map[string]bool{}
	var out []Range
	for _, h := range hits {
		// A function ends where the next symbol (at a higher address) starts.
		i, _ := slices.BinarySearch(addrs, h.addr+1)
		if i == len(addrs) {
			continue // last symbol: no known end
		}
		base, _, _ := strings.Cut(h.name, ".")
		found[base] = true
		out = append(out, Range{Name: h.name, Start: h.addr, End: addrs[i]})
	}
	var missing []string
	for _, f := range funcs {
		if !found[f] {
			missing = append(missing, f)
		}
	}
	if len(missing) > 0 {
		return out, fmt.Errorf("find noaudit functions in kallsyms: missing %s", strings.Join(missing, ", "))
	}
	return out, nil
}

// mergeRanges joins adjacent or overlapping ranges.
func mergeRanges(rs []Range) []Range {
	sort.Slice(rs, func(i, j int) bool { return rs[i].Start < rs[j].Start })
	var out []Range
	for _, r := range rs {
		if n := len(out); n > 0 && r.Start <= out[n-1].End {
			if r.End > out[n-1].End {
				out[n-1].End = r.End
			}
			continue
		}
		out = append(out, r)
	}
	return out
}
