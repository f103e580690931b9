// getppid makes N raw getppid syscalls in a tight loop and prints the
// nanoseconds per call: the per-syscall cost a tracer adds, for
// bench/learn/run. getppid does no work of its own and has no vDSO version.
//
// Usage: getppid [N [CHUNKS]]. The N calls are made in CHUNKS equal chunks
// (default 200, each a few milliseconds) and the fastest chunk's mean is printed: on a shared machine
// another process can only make a chunk slower, never faster, so the
// fastest one is the loop's own cost.
#include <stdio.h>
#include <stdlib.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

int main(int argc, char **argv) {
	long n = argc > 1 ? atol(argv[1]) : 5000000;
	long chunks = argc > 2 ? atol(argv[2]) : 200;
	if (n <= 0 || chunks <= 0 || chunks > n) {
		fprintf(stderr, "usage: getppid [N [CHUNKS]]\n");
		return 2;
	}
	long per = n / chunks;
	double best = -1;
	for (long c = 0; c < chunks; c++) {
		struct timespec a, b;
		clock_gettime(CLOCK_MONOTONIC, &a);
		for (long i = 0; i < per; i++) syscall(SYS_getppid);
		clock_gettime(CLOCK_MONOTONIC, &b);
		double ns = ((b.tv_sec - a.tv_sec) * 1e9 + (b.tv_nsec - a.tv_nsec)) / per;
		if (best < 0 || ns < best) best = ns;
	}
	printf("%.2f\n", best);
	return 0;
}
