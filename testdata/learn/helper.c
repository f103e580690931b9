// helper is exec'd by prog (mode all): a second executable with rare
// syscalls of its own that no other test program makes: ioprio_get, or
// getcpu (a raw syscall, not the vDSO) when prog's second thread execs it
// with the argument "thread".
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

int main(int argc, char **argv) {
	if (argc > 1 && strcmp(argv[1], "thread") == 0) {
		unsigned cpu, node;
		return syscall(SYS_getcpu, &cpu, &node, NULL) < 0 ? 1 : 0;
	}
	return syscall(SYS_ioprio_get, 1 /* IOPRIO_WHO_PROCESS */, 0) < 0 ? 1 : 0;
}
