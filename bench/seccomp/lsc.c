// lsc: the libseccomp side of bench/seccomp (see run).
//
//   lsc export NAMES OPT OUT    build the policy of NAMES (one syscall a line)
//                               with libseccomp, SCMP_FLTATR_CTL_OPTIMIZE=OPT
//                               (1 linear, 2 binary tree), write its BPF to OUT
//   lsc loop none N             time N getppid calls, no filter
//   lsc loop bpf FILE N         install the raw filter in FILE, then time
//   lsc loop libseccomp NAMES OPT N
//                               load the libseccomp policy, then time
//   lsc loop allow-all N        install a one-instruction filter (ret ALLOW):
//                               the kernel's fixed cost of any filter
//   lsc loop bpf-nocache FILE N as bpf, with one load of the instruction
//                               pointer put in front: the kernel's action
//                               cache gives up on it, so the filter runs on
//                               every syscall (what the cache saves)
//
// loop prints nanoseconds per call, the fastest of five runs of N calls.
// Every filter allows getppid.
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <seccomp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

static void die(const char *what, int err) {
	fprintf(stderr, "lsc: %s: %s\n", what, strerror(err));
	exit(1);
}

static scmp_filter_ctx policy(const char *names, int opt) {
	scmp_filter_ctx ctx = seccomp_init(SCMP_ACT_ERRNO(EPERM));
	if (!ctx)
		die("seccomp_init", ENOMEM);
	int rc = seccomp_attr_set(ctx, SCMP_FLTATR_CTL_OPTIMIZE, opt);
	if (rc < 0)
		die("seccomp_attr_set(SCMP_FLTATR_CTL_OPTIMIZE)", -rc);
	FILE *f = fopen(names, "r");
	if (!f)
		die(names, errno);
	char line[128];
	while (fgets(line, sizeof line, f)) {
		line[strcspn(line, "\r\n")] = 0;
		if (!line[0])
			continue;
		int nr = seccomp_syscall_resolve_name(line);
		if (nr == __NR_SCMP_ERROR) {
			fprintf(stderr, "lsc: unknown syscall %s\n", line);
			exit(1);
		}
		rc = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, nr, 0);
		if (rc < 0)
			die(line, -rc);
	}
	fclose(f);
	return ctx;
}

static double loop(long n) {
	struct timespec a, b;
	clock_gettime(CLOCK_MONOTONIC, &a);
	for (long i = 0; i < n; i++)
		syscall(SYS_getppid);
	clock_gettime(CLOCK_MONOTONIC, &b);
	return ((b.tv_sec - a.tv_sec) * 1e9 + (b.tv_nsec - a.tv_nsec)) / n;
}

int main(int argc, char **argv) {
	if (argc == 5 && !strcmp(argv[1], "export")) {
		scmp_filter_ctx ctx = policy(argv[2], atoi(argv[3]));
		int fd = open(argv[4], O_WRONLY | O_CREAT | O_TRUNC, 0644);
		if (fd < 0)
			die(argv[4], errno);
		int rc = seccomp_export_bpf(ctx, fd);
		if (rc < 0)
			die("seccomp_export_bpf", -rc);
		close(fd);
		seccomp_release(ctx);
		return 0;
	}
	if (argc >= 4 && !strcmp(argv[1], "loop")) {
		long n = atol(argv[argc - 1]);
		int nocache = !strcmp(argv[2], "bpf-nocache");
		if ((nocache || !strcmp(argv[2], "bpf")) && argc == 5) {
			int fd = open(argv[3], O_RDONLY);
			struct stat st;
			if (fd < 0 || fstat(fd, &st) < 0)
				die(argv[3], errno);
			struct sock_filter *prog = malloc(st.st_size + sizeof *prog);
			if (!prog)
				die("malloc", ENOMEM);
			// ld [8] (seccomp_data.instruction_pointer): the program that
			// follows overwrites A first, so the verdicts do not change.
			prog[0] = (struct sock_filter)BPF_STMT(BPF_LD | BPF_W | BPF_ABS, 8);
			if (read(fd, prog + 1, st.st_size) != st.st_size)
				die("read filter", errno);
			struct sock_fprog fp = {.len = st.st_size / sizeof *prog + nocache, .filter = nocache ? prog : prog + 1};
			if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
				die("PR_SET_NO_NEW_PRIVS", errno);
			if (syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, &fp) < 0)
				die("seccomp", errno);
		} else if (!strcmp(argv[2], "libseccomp") && argc == 6) {
			scmp_filter_ctx ctx = policy(argv[3], atoi(argv[4]));
			int rc = seccomp_load(ctx);
			if (rc < 0)
				die("seccomp_load", -rc);
		} else if (!strcmp(argv[2], "allow-all") && argc == 4) {
			struct sock_filter allow = BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW);
			struct sock_fprog fp = {.len = 1, .filter = &allow};
			if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
				die("PR_SET_NO_NEW_PRIVS", errno);
			if (syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, &fp) < 0)
				die("seccomp", errno);
		} else if (strcmp(argv[2], "none") || argc != 4) {
			fprintf(stderr, "lsc: bad loop arguments\n");
			return 2;
		}
		loop(n / 10); // warm up
		// The fastest of five: a VM's vCPU is sometimes not scheduled,
		// which only ever adds time.
		double best = loop(n);
		for (int i = 0; i < 4; i++) {
			double t = loop(n);
			if (t < best)
				best = t;
		}
		printf("%.2f\n", best);
		return 0;
	}
	fprintf(stderr, "usage: lsc export NAMES OPT OUT | lsc loop none|allow-all|bpf FILE|bpf-nocache FILE|libseccomp NAMES OPT N\n");
	return 2;
}
