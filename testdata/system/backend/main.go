// Command backend is the model backend of the three-component test
// system: it listens on a loopback TCP port and appends every line it
// receives ("RESULT NAME HASH") to a store file, answering "ok".
//
//	backend ADDR STORE
package main

import (
	"bufio"
	"fmt"
	"net"
	"os"
	"sync"
)

func main() {
	if len(os.Args) != 3 {
		fmt.Fprintln(os.Stderr, "usage: backend ADDR STORE")
		os.Exit(2)
	}
	ln, err := net.Listen("tcp", os.Args[1])
	if err != nil {
		fmt.Fprintln(os.Stderr, "backend:", err)
		os.Exit(1)
	}
	fmt.Println("backend: listening on", ln.Addr())
	var mu sync.Mutex
	for {
		c, err := ln.Accept()
		if err != nil {
			fmt.Fprintln(os.Stderr, "backend:", err)
			os.Exit(1)
		}
		go func() {
			defer c.Close()
			line, err := bufio.NewReader(c).ReadString('\n')
			if err != nil {
				return
			}
			mu.Lock()
			f, err := os.OpenFile(os.Args[2], os.O_APPEND|os.O_CREATE|os.O_WRONLY, 0o644)
			if err == nil {
				_, err = f.WriteString(line)
				f.Close()
			}
			mu.Unlock()
			if err != nil {
				fmt.Fprintln(c, "error:", err)
				return
			}
			fmt.Fprintln(c, "ok")
		}()
	}
}
