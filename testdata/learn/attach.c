// attach is the long-running program that the tests of leash learn --pid
// and --cgroup attach to (cmd/leash/attach_test.go). It prints "ready",
// then reads one command per line from stdin and answers "done" after each,
// so a test drives it step by step without sleeping. Each place makes its
// own rare syscall through raw syscall(2), so the profile tells which
// places leash saw:
//
//   before "ready"        sched_rr_get_interval  (before any attach: absent)
//   s  main thread        sched_get_priority_max
//   t  a new thread       sched_get_priority_min
//   c  a new child        getitimer, then it execs /bin/true
//   g  main thread        ioprio_get
//   p  main thread        getpriority
//   q  exit 0
//
// Modes (argv[1], optional):
//   seccomp   install an allow-all seccomp filter before "ready"
//
// It exits 3 when a step failed, 0 on q or end of input.
#define _GNU_SOURCE
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static void *thread_main(void *arg) {
	(void)arg;
	syscall(SYS_sched_get_priority_min, SCHED_OTHER);
	return NULL;
}

static int allow_all_seccomp(void) {
	struct sock_filter insns[] = { BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW) };
	struct sock_fprog prog = { .len = 1, .filter = insns };
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0))
		return -1;
	return syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, &prog);
}

int main(int argc, char **argv) {
	if (argc > 1 && strcmp(argv[1], "seccomp") == 0 && allow_all_seccomp()) {
		perror("seccomp");
		return 3;
	}
	struct timespec ts;
	syscall(SYS_sched_rr_get_interval, 0, &ts);
	setvbuf(stdout, NULL, _IOLBF, 0);
	printf("ready\n");
	char line[64];
	while (fgets(line, sizeof(line), stdin)) {
		switch (line[0]) {
		case 's':
			syscall(SYS_sched_get_priority_max, SCHED_OTHER);
			break;
		case 't': {
			pthread_t th;
			if (pthread_create(&th, NULL, thread_main, NULL) || pthread_join(th, NULL))
				return 3;
			break;
		}
		case 'c': {
			pid_t pid = fork();
			if (pid < 0)
				return 3;
			if (pid == 0) {
				struct itimerval it;
				syscall(SYS_getitimer, ITIMER_REAL, &it);
				execl("/bin/true", "true", (char *)NULL);
				_exit(127);
			}
			int st;
			if (waitpid(pid, &st, 0) != pid || !WIFEXITED(st) || WEXITSTATUS(st) != 0)
				return 3;
			break;
		}
		case 'g':
			syscall(SYS_ioprio_get, 1 /* IOPRIO_WHO_PROCESS */, 0);
			break;
		case 'p':
			syscall(SYS_getpriority, 0 /* PRIO_PROCESS */, 0);
			break;
		case 'q':
			return 0;
		default:
			fprintf(stderr, "attach: unknown command %s", line);
			return 3;
		}
		printf("done\n");
	}
	return 0;
}
