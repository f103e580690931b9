// timeit runs a command REPS times and prints the median wall time of one
// run in milliseconds: the timer of bench/run. The command's stdout and
// stderr go to /dev/null (TIMEIT_VERBOSE=1 keeps them); a run that exits
// non-zero or is killed ends timeit with status 1 and a one-line error, so
// a broken comparison cannot pass for a fast one.
//
// Usage: timeit REPS CMD [ARG...]
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static int cmp(const void *a, const void *b) {
	double x = *(const double *)a, y = *(const double *)b;
	return (x > y) - (x < y);
}

int main(int argc, char **argv) {
	if (argc < 3 || atoi(argv[1]) <= 0) {
		fprintf(stderr, "usage: timeit REPS CMD [ARG...]\n");
		return 2;
	}
	int reps = atoi(argv[1]);
	double *ms = calloc(reps, sizeof *ms);
	int verbose = getenv("TIMEIT_VERBOSE") != NULL;
	for (int r = 0; r < reps; r++) {
		struct timespec a, b;
		clock_gettime(CLOCK_MONOTONIC, &a);
		pid_t pid = fork();
		if (pid < 0) { perror("timeit: fork"); return 1; }
		if (pid == 0) {
			if (!verbose) {
				int fd = open("/dev/null", O_WRONLY);
				dup2(fd, 1);
				dup2(fd, 2);
				close(fd);
			}
			execvp(argv[2], argv + 2);
			_exit(127);
		}
		int st;
		if (waitpid(pid, &st, 0) < 0) { perror("timeit: waitpid"); return 1; }
		clock_gettime(CLOCK_MONOTONIC, &b);
		if (!WIFEXITED(st) || WEXITSTATUS(st) != 0) {
			fprintf(stderr, "timeit: %s: %s %d\n", argv[2],
				WIFEXITED(st) ? "exited" : "killed by signal",
				WIFEXITED(st) ? WEXITSTATUS(st) : WTERMSIG(st));
			return 1;
		}
		ms[r] = (b.tv_sec - a.tv_sec) * 1e3 + (b.tv_nsec - a.tv_nsec) / 1e6;
	}
	qsort(ms, reps, sizeof *ms, cmp);
	printf("%.4f\n", reps % 2 ? ms[reps / 2] : (ms[reps / 2 - 1] + ms[reps / 2]) / 2);
	return 0;
}
