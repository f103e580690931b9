// Command executor is the tool executor of the three-component test
// system: it runs sha256sum on a file and prints the digest. With
// EXECUTOR_PROBE_NET=ADDR it first tries to connect to ADDR (see below).
//
//	executor FILE
package main

import (
	"fmt"
	"net"
	"os"
	"os/exec"
	"strings"
)

func main() {
	if len(os.Args) != 2 {
		fmt.Fprintln(os.Stderr, "usage: executor FILE")
		os.Exit(2)
	}
	// A test of leash up sets EXECUTOR_PROBE_NET to the backend's address:
	// the executor, which never talks to the network, tries to, as a
	// compromised executor would. Its own profile must stop it, though its
	// spawner's allows it.
	if addr := os.Getenv("EXECUTOR_PROBE_NET"); addr != "" {
		if c, err := net.Dial("tcp", addr); err != nil {
			fmt.Fprintln(os.Stderr, "executor: probe: network refused:", err)
		} else {
			c.Close()
			fmt.Fprintln(os.Stderr, "executor: probe: network reached")
		}
	}
	out, err := exec.Command("sha256sum", os.Args[1]).Output()
	if err != nil {
		fmt.Fprintln(os.Stderr, "executor:", err)
		os.Exit(1)
	}
	fmt.Println(strings.Fields(string(out))[0])
}
