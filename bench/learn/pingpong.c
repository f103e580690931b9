// pingpong passes a byte back and forth N times between two processes over
// two pipes and prints the nanoseconds per round trip (two context
// switches and four syscalls when both are pinned to one CPU): what leash
// learn adds to the context switches of processes it does not record (its
// syscall hook; it has no sched_switch hook), for bench/learn/run. Like getppid, the N round trips are made in CHUNKS
// chunks and the fastest chunk's mean is printed.
//
// Usage: pingpong [N [CHUNKS]].
#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

int main(int argc, char **argv) {
	long n = argc > 1 ? atol(argv[1]) : 200000;
	long chunks = argc > 2 ? atol(argv[2]) : 50;
	if (n <= 0 || chunks <= 0 || chunks > n) {
		fprintf(stderr, "usage: pingpong [N [CHUNKS]]\n");
		return 2;
	}
	long per = n / chunks;
	int ab[2], ba[2];
	if (pipe(ab) || pipe(ba)) {
		perror("pipe");
		return 1;
	}
	char x = 0;
	pid_t pid = fork();
	if (pid < 0) {
		perror("fork");
		return 1;
	}
	if (pid == 0) {
		close(ab[1]); /* so that the parent's close ends the loop */
		close(ba[0]);
		while (read(ab[0], &x, 1) == 1 && write(ba[1], &x, 1) == 1) {
		}
		_exit(0);
	}
	close(ab[0]);
	close(ba[1]);
	double best = -1;
	for (long c = 0; c < chunks; c++) {
		struct timespec a, b;
		clock_gettime(CLOCK_MONOTONIC, &a);
		for (long i = 0; i < per; i++) {
			if (write(ab[1], &x, 1) != 1 || read(ba[0], &x, 1) != 1) {
				perror("pingpong");
				return 1;
			}
		}
		clock_gettime(CLOCK_MONOTONIC, &b);
		double ns = ((b.tv_sec - a.tv_sec) * 1e9 + (b.tv_nsec - a.tv_nsec)) / per;
		if (best < 0 || ns < best) best = ns;
	}
	close(ab[1]);
	waitpid(pid, NULL, 0);
	printf("%.1f\n", best);
	return 0;
}
