// loop is bench/run's syscall-heavy workload: N rounds of getppid plus a
// one-byte read of /dev/zero, so a tracer sees two cheap syscalls per round
// and almost no other work. Usage: loop N
#include <fcntl.h>
#include <stdlib.h>
#include <sys/syscall.h>
#include <unistd.h>

int main(int argc, char **argv) {
	long n = argc > 1 ? atol(argv[1]) : 100000;
	int fd = open("/dev/zero", O_RDONLY);
	if (fd < 0) return 1;
	char c;
	for (long i = 0; i < n; i++) {
		syscall(SYS_getppid);
		if (read(fd, &c, 1) != 1) return 1;
	}
	return 0;
}
