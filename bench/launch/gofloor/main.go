// Command gofloor is the least a launcher written in Go can do for
// bench/launch/run's leash row: start the command in new pid, ipc, uts,
// mount and network namespaces, in a new session, as nobody, and exit
// with its status. It reads no profile, installs no filter, drops no
// capability and mounts nothing: its time is the Go runtime's start-up
// plus the kernel's work, a floor that leash run cannot go under.
package main

import (
	"fmt"
	"os"
	"syscall"
)

func main() {
	if len(os.Args) < 2 {
		fmt.Fprintln(os.Stderr, "usage: gofloor CMD [ARG...]")
		os.Exit(2)
	}
	attr := &os.ProcAttr{
		Files: []*os.File{os.Stdin, os.Stdout, os.Stderr},
		Sys: &syscall.SysProcAttr{
			Cloneflags: syscall.CLONE_NEWPID | syscall.CLONE_NEWIPC | syscall.CLONE_NEWUTS | syscall.CLONE_NEWNS | syscall.CLONE_NEWNET,
			Setsid:     true,
			Credential: &syscall.Credential{Uid: 65534, Gid: 65534},
		},
	}
	p, err := os.StartProcess(os.Args[1], os.Args[1:], attr)
	if err != nil {
		fmt.Fprintln(os.Stderr, "gofloor:", err)
		os.Exit(125)
	}
	st, err := p.Wait()
	if err != nil {
		fmt.Fprintln(os.Stderr, "gofloor:", err)
		os.Exit(125)
	}
	os.Exit(st.ExitCode())
}
