// Command leash learns the least privilege a program needs by watching it
// with eBPF, and runs it held to exactly that. See the README.
package main

import (
	"os"

	"github.com/leash-project/leash/internal/cli"
	"github.com/leash-project/leash/internal/reexec"
)

func main() {
	if reexec.Init() {
		return
	}
	os.Exit(cli.Main(os.Args[1:]))
}
