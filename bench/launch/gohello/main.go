// Command gohello does nothing: bench/launch/run times it as the start-up
// and exit of the smallest Go program, the floor under any launcher
// written in Go.
package main

func main() {}
