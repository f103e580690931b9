// Package reexec lets leash start a copy of itself in a special role (the
// learning stub that waits to be tracked, the confined child that drops
// privileges), as runc's init does: main calls Init first, and a registered
// role takes over the process when os.Args[1] names it.
package reexec

import (
	"fmt"
	"os"
)

var roles = map[string]func(){}

// Register names a role. Call it from an init function. fn must not return
// normally: it execs or exits.
func Register(name string, fn func()) {
	if _, dup := roles[name]; dup {
		panic("reexec: role registered twice: " + name)
	}
	roles[name] = fn
}

// Init runs the role named by os.Args[1], if any, and never returns in that
// case. It returns false in an ordinary leash process.
func Init() bool {
	if len(os.Args) < 2 {
		return false
	}
	fn, ok := roles[os.Args[1]]
	if !ok {
		return false
	}
	fn()
	fmt.Fprintf(os.Stderr, "leash: role %s returned\n", os.Args[1])
	os.Exit(125)
	return true
}

// Self is the path to re-execute: /proc/self/exe, which names this very
// binary even if the file was replaced since.
const Self = "/proc/self/exe"
