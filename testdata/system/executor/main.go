// Command executor is the tool executor of the three-component test
// system: it runs sha256sum on a file and prints the digest.
//
//	executor FILE
package main

import (
	"fmt"
	"os"
	"os/exec"
	"strings"
)

func main() {
	if len(os.Args) != 2 {
		fmt.Fprintln(os.Stderr, "usage: executor FILE")
		os.Exit(2)
	}
	out, err := exec.Command("sha256sum", os.Args[1]).Output()
	if err != nil {
		fmt.Fprintln(os.Stderr, "executor:", err)
		os.Exit(1)
	}
	fmt.Println(strings.Fields(string(out))[0])
}
