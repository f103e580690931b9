// Package bpf holds leash's eBPF recorder: the C source (leash.bpf.c,
// under GPL-2.0 OR BSD-2-Clause as the kernel helpers require), the
// vendored libbpf headers and a trimmed vmlinux.h (bpf/include), and the
// committed bpf2go output, so that `go build` needs only Go.
//
// Regenerate with `make generate` (clang-19); `make check-generate` proves
// the committed objects fresh. Only learner/trace uses this package.
package bpf

//go:generate go tool bpf2go -go-package bpf -cflags "-O2 -g -Wall -Werror -mcpu=v3" -target bpfel -type task_info -type session_state -type sc_key -type cap_key -type cap_val -type fam_key -type fam_val -type exe -type config -type range -type attach_req -type handoff_key -output-stem leash Leash leash.bpf.c -- -I./include
