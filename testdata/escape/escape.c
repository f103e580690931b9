/* escape: the program of leash run's escape suite (cmd/leash/escape_test.go).
 *
 *   escape benign DIR      file I/O in DIR, a loopback TCP connection, and
 *                          fork+exec of itself as a helper; prints
 *                          "benign: ok" and exits 0 when all worked.
 *   escape helper          prints "helper: ok" (exec'd by benign).
 *   escape suid-check      run as a set-uid-root copy: says whether the
 *                          copy got euid 0 (the suid-exec attack).
 *   escape attack NAME [ARG]
 *                          tries one way out of a confinement. Exit 0 and
 *                          "NAME: escaped" when it worked, exit 1 and
 *                          "NAME: blocked: REASON" when the kernel said no
 *                          (or the process is killed by SIGSYS).
 *
 * Attacks: raw-socket, packet-socket, netlink-socket, ptrace PID, mount DIR,
 * unshare-user, unshare-mnt, unshare-net, clone-user, clone-mnt, clone-net,
 * int80 DIR (i386 mkdir, nr 39, which is getpid on x86_64), x32 (getpid
 * with the x32 bit), io-uring, bpf, keyctl, suid-exec PATH (exec a set-uid-root
 * copy of this program: escaped if it runs with euid 0), vm-readv PID,
 * proc-mem PID.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/bpf.h>
#include <linux/io_uring.h>
#include <linux/keyctl.h>
#include <net/ethernet.h>
#include <netinet/in.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/ptrace.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <unistd.h>
#include <linux/netlink.h>

static int escaped(const char *name) { printf("%s: escaped\n", name); return 0; }
static int blocked(const char *name, const char *why) { printf("%s: blocked: %s\n", name, why); return 1; }
#define CHECK(name, ok) ((ok) ? escaped(name) : blocked(name, strerror(errno)))

static int benign(const char *dir, const char *self) {
	char path[4096], buf[64];
	snprintf(path, sizeof path, "%s/benign.txt", dir);
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	if (fd < 0 || write(fd, "hello\n", 6) != 6 || close(fd)) { perror("benign: write"); return 1; }
	fd = open(path, O_RDONLY);
	if (fd < 0 || read(fd, buf, sizeof buf) != 6 || close(fd) || unlink(path)) { perror("benign: read"); return 1; }

	int l = socket(AF_INET, SOCK_STREAM, 0), c = socket(AF_INET, SOCK_STREAM, 0);
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	socklen_t al = sizeof a;
	if (l < 0 || c < 0 || bind(l, (struct sockaddr *)&a, sizeof a) || listen(l, 1) ||
	    getsockname(l, (struct sockaddr *)&a, &al) || connect(c, (struct sockaddr *)&a, sizeof a)) {
		perror("benign: tcp");
		return 1;
	}
	int s = accept(l, NULL, NULL);
	if (s < 0 || send(c, "ping", 4, 0) != 4 || recv(s, buf, sizeof buf, 0) != 4) { perror("benign: tcp io"); return 1; }
	close(s); close(c); close(l);

	fflush(stdout);
	pid_t pid = fork();
	if (pid == 0) {
		execl(self, self, "helper", (char *)NULL);
		_exit(127);
	}
	int st;
	if (pid < 0 || waitpid(pid, &st, 0) != pid || !WIFEXITED(st) || WEXITSTATUS(st)) { fprintf(stderr, "benign: helper failed\n"); return 1; }
	printf("benign: ok\n");
	return 0;
}

/* effective_uid reads the euid from /proc/self/status: open and read are
 * in the benign profile, geteuid may not be. */
static int effective_uid(void) {
	char line[256];
	int r, e = -1;
	FILE *f = fopen("/proc/self/status", "r");
	if (!f) return -1;
	while (fgets(line, sizeof line, f))
		if (sscanf(line, "Uid: %d %d", &r, &e) == 2) break;
	fclose(f);
	return e;
}

static unsigned long first_mapping(const char *pid) {
	char path[64], line[256];
	snprintf(path, sizeof path, "/proc/%s/maps", pid);
	FILE *f = fopen(path, "r");
	if (!f) return 0x400000;
	unsigned long start = 0x400000;
	if (fgets(line, sizeof line, f)) start = strtoul(line, NULL, 16);
	fclose(f);
	return start;
}

static int clone_ns(const char *name, unsigned long flag) {
	long pid = syscall(SYS_clone, flag | SIGCHLD, 0, 0, 0, 0);
	if (pid == 0) _exit(0);
	if (pid < 0) return blocked(name, strerror(errno));
	int st;
	waitpid(pid, &st, 0);
	return escaped(name);
}

static int attack(const char *name, const char *arg, const char *self) {
	(void)self;
	if (!strcmp(name, "raw-socket")) return CHECK(name, socket(AF_INET, SOCK_RAW, IPPROTO_ICMP) >= 0);
	if (!strcmp(name, "packet-socket")) return CHECK(name, socket(AF_PACKET, SOCK_RAW, htons(ETH_P_ALL)) >= 0);
	if (!strcmp(name, "netlink-socket")) return CHECK(name, socket(AF_NETLINK, SOCK_RAW, NETLINK_ROUTE) >= 0);
	if (!strcmp(name, "ptrace")) {
		pid_t pid = atoi(arg);
		if (ptrace(PTRACE_ATTACH, pid, 0, 0) < 0) return blocked(name, strerror(errno));
		waitpid(pid, NULL, 0);
		ptrace(PTRACE_DETACH, pid, 0, 0);
		return escaped(name);
	}
	if (!strcmp(name, "mount")) {
		if (mount("leash-escape", arg, "tmpfs", 0, NULL) < 0) return blocked(name, strerror(errno));
		umount2(arg, MNT_DETACH);
		return escaped(name);
	}
	if (!strcmp(name, "unshare-user")) return CHECK(name, unshare(CLONE_NEWUSER) == 0);
	if (!strcmp(name, "unshare-mnt")) return CHECK(name, unshare(CLONE_NEWNS) == 0);
	if (!strcmp(name, "unshare-net")) return CHECK(name, unshare(CLONE_NEWNET) == 0);
	if (!strcmp(name, "clone-user")) return clone_ns(name, CLONE_NEWUSER);
	if (!strcmp(name, "clone-mnt")) return clone_ns(name, CLONE_NEWNS);
	if (!strcmp(name, "clone-net")) return clone_ns(name, CLONE_NEWNET);
#if defined(__x86_64__)
	if (!strcmp(name, "int80")) {
		/* i386 mkdir is 39, x86_64's 39 is getpid: a filter that forgets
		 * the architecture check would let this through as getpid. */
		char *p = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_32BIT, -1, 0);
		if (p == MAP_FAILED) return blocked(name, strerror(errno));
		snprintf(p, 4096, "%s", arg);
		long ret;
		__asm__ volatile("int $0x80" : "=a"(ret) : "a"(39), "b"((unsigned int)(unsigned long)p), "c"(0755) : "memory");
		if (ret < 0) { errno = -ret; return blocked(name, strerror(errno)); }
		rmdir(arg);
		return escaped(name);
	}
	if (!strcmp(name, "x32")) {
		long ret = syscall(0x40000000 | 39); /* x32 getpid */
		return CHECK(name, ret > 0);
	}
#endif
	if (!strcmp(name, "io-uring")) {
		struct io_uring_params p;
		memset(&p, 0, sizeof p);
		return CHECK(name, syscall(SYS_io_uring_setup, 4, &p) >= 0);
	}
	if (!strcmp(name, "bpf")) {
		union bpf_attr a;
		memset(&a, 0, sizeof a);
		a.map_type = BPF_MAP_TYPE_ARRAY;
		a.key_size = 4;
		a.value_size = 4;
		a.max_entries = 1;
		return CHECK(name, syscall(SYS_bpf, BPF_MAP_CREATE, &a, sizeof a) >= 0);
	}
	if (!strcmp(name, "keyctl")) return CHECK(name, syscall(SYS_keyctl, KEYCTL_GET_KEYRING_ID, KEY_SPEC_SESSION_KEYRING, 0) >= 0);
	if (!strcmp(name, "suid-exec")) {
		/* Become the set-uid-root copy, which reports its own euid: only
		 * execve and file reads, which the benign profile allows, so what
		 * stops it is no_new_privs, not the filter. */
		execl(arg, arg, "suid-check", (char *)NULL);
		return blocked(name, strerror(errno));
	}
	if (!strcmp(name, "vm-readv")) {
		char buf[16];
		struct iovec local = {buf, sizeof buf}, remote = {(void *)first_mapping(arg), sizeof buf};
		return CHECK(name, syscall(SYS_process_vm_readv, atoi(arg), &local, 1, &remote, 1, 0) > 0);
	}
	if (!strcmp(name, "proc-mem")) {
		char path[64], buf[16];
		unsigned long at = first_mapping(arg);
		snprintf(path, sizeof path, "/proc/%s/mem", arg);
		int fd = open(path, O_RDONLY);
		if (fd < 0) return blocked(name, strerror(errno));
		return CHECK(name, pread(fd, buf, sizeof buf, at) > 0);
	}
	printf("%s: unknown attack\n", name);
	return 2;
}

int main(int argc, char **argv) {
	setvbuf(stdout, NULL, _IOLBF, 0);
	if (argc >= 3 && !strcmp(argv[1], "benign")) return benign(argv[2], argv[0]);
	if (argc >= 2 && !strcmp(argv[1], "helper")) { printf("helper: ok\n"); return 0; }
	if (argc >= 2 && !strcmp(argv[1], "suid-check")) {
		int euid = effective_uid();
		if (euid == 0) return escaped("suid-exec");
		char why[64];
		snprintf(why, sizeof why, "set-uid-root copy runs with euid %d", euid);
		return blocked("suid-exec", why);
	}
	if (argc >= 3 && !strcmp(argv[1], "attack")) return attack(argv[2], argc > 3 ? argv[3] : "", argv[0]);
	fprintf(stderr, "usage: escape benign DIR | helper | suid-check | attack NAME [ARG]\n");
	return 2;
}
