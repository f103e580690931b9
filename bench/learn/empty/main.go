// Command empty attaches a BPF program to the sys_enter raw tracepoint that
// does nothing but return 0, and holds it until SIGINT or SIGTERM. It is the
// baseline of bench/learn/run: the cost of any sys_enter hook at all, which
// leash learn's own recorder cannot go below.
//
// Usage: empty [-hook raw_tp|tp_btf]
//
// It prints "attached" on stdout once the program is attached.
package main

import (
	"flag"
	"fmt"
	"os"
	"os/signal"
	"syscall"

	"github.com/cilium/ebpf"
	"github.com/cilium/ebpf/asm"
	"github.com/cilium/ebpf/link"
	"github.com/cilium/ebpf/rlimit"
)

func main() {
	hook := flag.String("hook", "raw_tp", "how to attach to sys_enter: raw_tp or tp_btf")
	flag.Parse()
	if err := run(*hook); err != nil {
		fmt.Fprintf(os.Stderr, "empty: %v\n", err)
		os.Exit(1)
	}
}

func run(hook string) error {
	if err := rlimit.RemoveMemlock(); err != nil {
		return fmt.Errorf("remove memlock limit: %w", err)
	}
	spec := &ebpf.ProgramSpec{
		Name:         "empty",
		Instructions: asm.Instructions{asm.Mov.Imm(asm.R0, 0), asm.Return()},
		License:      "GPL",
	}
	switch hook {
	case "raw_tp":
		spec.Type = ebpf.RawTracepoint
	case "tp_btf":
		spec.Type = ebpf.Tracing
		spec.AttachType = ebpf.AttachTraceRawTp
		spec.AttachTo = "sys_enter"
	default:
		return fmt.Errorf("unknown hook %q (want raw_tp or tp_btf)", hook)
	}
	prog, err := ebpf.NewProgram(spec)
	if err != nil {
		return fmt.Errorf("load %s program: %w", hook, err)
	}
	defer prog.Close()
	var l link.Link
	if hook == "raw_tp" {
		l, err = link.AttachRawTracepoint(link.RawTracepointOptions{Name: "sys_enter", Program: prog})
	} else {
		l, err = link.AttachTracing(link.TracingOptions{Program: prog})
	}
	if err != nil {
		return fmt.Errorf("attach %s sys_enter: %w", hook, err)
	}
	defer l.Close()

	sig := make(chan os.Signal, 1)
	signal.Notify(sig, syscall.SIGINT, syscall.SIGTERM)
	fmt.Println("attached")
	<-sig
	return nil
}
