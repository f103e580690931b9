// Command orchestrator is the orchestrator of the three-component test
// system: it watches a job directory for NAME.job files holding a path,
// has the tool executor hash that file (through $LEASH_SPAWN_EXECUTOR when
// set, so leash keeps the executor's privileges in its own profile), sends
// "RESULT NAME HASH" to the backend and renames the job to NAME.done.
//
//	orchestrator JOBDIR EXECUTOR BACKEND_ADDR
package main

import (
	"bufio"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"
)

func main() {
	if len(os.Args) != 4 {
		fmt.Fprintln(os.Stderr, "usage: orchestrator JOBDIR EXECUTOR BACKEND_ADDR")
		os.Exit(2)
	}
	dir, executor, addr := os.Args[1], os.Args[2], os.Args[3]
	fmt.Println("orchestrator: watching", dir)
	for {
		jobs, _ := filepath.Glob(filepath.Join(dir, "*.job"))
		for _, job := range jobs {
			if err := handle(job, executor, addr); err != nil {
				fmt.Fprintln(os.Stderr, "orchestrator:", err)
				os.Exit(1)
			}
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func handle(job, executor, addr string) error {
	data, err := os.ReadFile(job)
	if err != nil {
		return err
	}
	argv := []string{executor, strings.TrimSpace(string(data))}
	if spawn := os.Getenv("LEASH_SPAWN_EXECUTOR"); spawn != "" {
		argv = append([]string{spawn}, argv...)
	}
	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.Stderr = os.Stderr
	out, err := cmd.Output()
	if err != nil {
		return fmt.Errorf("run executor: %w", err)
	}
	name := strings.TrimSuffix(filepath.Base(job), ".job")
	var c net.Conn
	for i := 0; ; i++ { // the backend may still be starting
		if c, err = net.Dial("tcp", addr); err == nil || i == 100 {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	if err != nil {
		return err
	}
	defer c.Close()
	fmt.Fprintf(c, "RESULT %s %s\n", name, strings.TrimSpace(string(out)))
	reply, err := bufio.NewReader(c).ReadString('\n')
	if err != nil || strings.TrimSpace(reply) != "ok" {
		return fmt.Errorf("backend answered %q: %v", reply, err)
	}
	fmt.Println("orchestrator: done", name)
	return os.Rename(job, strings.TrimSuffix(job, ".job")+".done")
}
