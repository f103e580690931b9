package int80

import (
	"os"
	"os/exec"
	"strconv"
	"testing"
)

// The i386 call runs in a child: on a kernel without IA32 emulation,
// int $0x80 is a fault that would kill the test binary.
const childEnv = "LEASH_INT80_TEST_CHILD"

func TestMain(m *testing.M) {
	if os.Getenv(childEnv) != "" {
		// i386 getpid is 20; x86_64's 20 is writev.
		os.Stdout.WriteString(strconv.Itoa(int(Syscall(20, 0, 0, 0))))
		os.Exit(0)
	}
	os.Exit(m.Run())
}

func TestGetpid(t *testing.T) {
	if !Available {
		t.Skip("int $0x80 needs amd64")
	}
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), childEnv+"=1")
	out, err := cmd.Output()
	if err != nil {
		t.Skipf("i386 syscalls do not run here (IA32 emulation off?): %v", err)
	}
	if got, want := string(out), strconv.Itoa(cmd.Process.Pid); got != want {
		t.Fatalf("i386 getpid = %s, want the child's pid %s", got, want)
	}
}
