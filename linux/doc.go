// Package linux holds the kernel ABI facts leash needs as data: syscall
// tables for x86_64, i386 and arm64 (up to Linux 6.18), capability names,
// socket address families and types, and namespace clone flags.
//
// It is pure Go and needs no kernel: the tracer uses it to name what it
// records, the seccomp compiler to number what it allows.
package linux

//go:generate go run ./internal/mktables -o ztables.go
