// prog is the component that leash learn's integration tests train on
// (cmd/leash/learn_test.go). Each place a process can hide a syscall makes
// its own rare syscall through raw syscall(2) (never a vDSO call), so a test
// can tell from the profile which places leash saw:
//
//   main thread           sched_get_priority_max
//   second thread         sched_get_priority_min
//   forked grandchild     sched_rr_get_interval
//   double-forked daemon  getitimer            (after its parent exited)
//   vfork child           getsid
//   exec'd helper         ioprio_get           (testdata/learn/helper.c)
//   helper exec'd by a    getcpu               (de_thread: the thread takes
//   non-leader thread                           over the leader's pid)
//   ia32 (int 0x80)       times (i386 43; x86_64 43 is accept),
//                         socketcall(SYS_SOCKET, AF_INET6, SOCK_DGRAM),
//                         socketpair(AF_UNIX, SOCK_DGRAM) (i386 360)
//   SIGTERM/INT handler   sched_getscheduler   (mode term)
//   nested component      sched_getparam       (mode inner)
//
// Modes (argv[1]):
//   all HELPER [noia32]
//               everything above but term/inner; sockets; capability checks;
//               noia32 leaves out the ia32 calls, for a kernel with IA32
//               emulation off (int 0x80 faults there)
//   exit N      exit with status N
//   kill        kill itself with SIGKILL
//   term        print "ready", wait for SIGTERM or SIGINT; the handler
//               makes its syscall and exits 42
//   unpriv      checks an unprivileged user fails: setuid(0), open /etc/shadow
//   inner       the rare syscall of the nested component
//   hide        announce itself as a nested leash tracer (bpf(LEASH_NEST_CMD),
//               which it is not), then socket(AF_PACKET, SOCK_RAW) and
//               unshare(CLONE_NEWUSER): what a program hiding its privileges
//               from leash learn would do
//   forks N     vfork N children one after another, each exiting at once
//   ns          enter namespaces in children, each way the kernel offers:
//               unshare(uts|time), clone(net), clone3(ipc), setns(mnt)
//
// It exits 0 only when every step did what it should, so a wrong exit status
// from leash learn shows either a broken program or a broken leash.
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/capability.h>
#include <linux/netlink.h>
#include <linux/sched.h>
#include <netinet/in.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static int failures;

static void fail(const char *what) {
	fprintf(stderr, "prog: %s: %s\n", what, strerror(errno));
	failures++;
}

static void check(long ret, const char *what) {
	if (ret < 0) fail(what);
}

// wait_ok waits for pid and counts a failure unless it exited 0.
static void wait_ok(pid_t pid, const char *what) {
	int st;
	if (waitpid(pid, &st, 0) < 0) {
		fail(what);
		return;
	}
	if (!WIFEXITED(st) || WEXITSTATUS(st) != 0) {
		fprintf(stderr, "prog: %s: status 0x%x\n", what, st);
		failures++;
	}
}

static void *thread_main(void *arg) {
	(void)arg;
	check(syscall(SYS_sched_get_priority_min, SCHED_OTHER), "thread: sched_get_priority_min");
	return NULL;
}

static void second_thread(void) {
	pthread_t t;
	int err = pthread_create(&t, NULL, thread_main, NULL);
	if (err != 0) {
		errno = err;
		fail("pthread_create");
		return;
	}
	pthread_join(t, NULL);
}

static void grandchild(void) {
	pid_t c = fork();
	if (c < 0) {
		fail("fork child");
		return;
	}
	if (c == 0) {
		pid_t g = fork();
		if (g < 0) _exit(1);
		if (g == 0) {
			struct timespec ts;
			_exit(syscall(SYS_sched_rr_get_interval, 0, &ts) < 0 ? 1 : 0);
		}
		int st;
		if (waitpid(g, &st, 0) < 0 || !WIFEXITED(st)) _exit(1);
		_exit(WEXITSTATUS(st));
	}
	wait_ok(c, "grandchild");
}

// daemonise double-forks a daemon in its own session that makes its syscall
// well after its parent, and this program, have exited.
static void daemonise(void) {
	pid_t c = fork();
	if (c < 0) {
		fail("fork daemon parent");
		return;
	}
	if (c == 0) {
		if (setsid() < 0) _exit(1);
		pid_t d = fork();
		if (d < 0) _exit(1);
		if (d == 0) {
			int null = open("/dev/null", O_RDWR);
			if (null >= 0) {
				dup2(null, 0);
				dup2(null, 1);
				dup2(null, 2);
			}
			struct timespec ts = {0, 300 * 1000 * 1000};
			nanosleep(&ts, NULL);
			struct itimerval v;
			syscall(SYS_getitimer, ITIMER_REAL, &v);
			_exit(0);
		}
		_exit(0);
	}
	wait_ok(c, "daemon parent");
}

static void vfork_child(void) {
	pid_t c = vfork();
	if (c < 0) {
		fail("vfork");
		return;
	}
	if (c == 0) {
		syscall(SYS_getsid, 0);
		_exit(0);
	}
	wait_ok(c, "vfork child");
}

static void *thread_exec(void *helper) {
	execl(helper, helper, "thread", (char *)NULL);
	_exit(126);
}

// exec_from_thread forks a child whose second thread execs helper: the
// kernel kills the other threads and gives the exec'ing thread the
// leader's pid.
static void exec_from_thread(const char *helper) {
	pid_t c = fork();
	if (c < 0) {
		fail("fork thread exec");
		return;
	}
	if (c == 0) {
		pthread_t t;
		if (pthread_create(&t, NULL, thread_exec, (void *)helper) != 0) _exit(1);
		pthread_join(t, NULL);
		_exit(1);
	}
	wait_ok(c, "helper exec'd by a thread");
}

static void exec_helper(const char *helper) {
	pid_t c = fork();
	if (c < 0) {
		fail("fork helper");
		return;
	}
	if (c == 0) {
		execl(helper, helper, (char *)NULL);
		_exit(126);
	}
	wait_ok(c, "helper");
}

// int80 makes an ia32 syscall from this 64-bit process.
static long int80(long nr, long a, long b, long c, long d) {
	long ret;
	__asm__ volatile("int $0x80"
			 : "=a"(ret)
			 : "a"(nr), "b"(a), "c"(b), "d"(c), "S"(d)
			 : "memory", "r8", "r9", "r10", "r11");
	return ret;
}

static void ia32(void) {
	long r = int80(43, 0, 0, 0, 0); // i386 times(NULL)
	if (r < 0 && r > -4096) {
		errno = -r;
		fail("ia32 times");
	}
	// socketcall's argument block must be addressable with 32 bits.
	uint32_t *args = mmap(NULL, 4096, PROT_READ | PROT_WRITE,
			      MAP_PRIVATE | MAP_ANONYMOUS | MAP_32BIT, -1, 0);
	if (args == MAP_FAILED) {
		fail("mmap MAP_32BIT");
		return;
	}
	args[0] = AF_INET6;
	args[1] = SOCK_DGRAM;
	args[2] = 0;
	r = int80(102, 1 /* SYS_SOCKET */, (long)(uintptr_t)args, 0, 0);
	if (r < 0) {
		errno = -r;
		fail("ia32 socketcall(SYS_SOCKET)");
	} else {
		close((int)r);
	}
	// The direct i386 socketpair(AF_UNIX, SOCK_DGRAM, 0, sv).
	int32_t *sv = (int32_t *)(args + 4);
	r = int80(360, AF_UNIX, SOCK_DGRAM, 0, (long)(uintptr_t)sv);
	if (r < 0) {
		errno = -r;
		fail("ia32 socketpair");
	} else {
		close(sv[0]);
		close(sv[1]);
	}
	munmap(args, 4096);
}

static void sockets(void) {
	int sv[2];
	check(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), "socketpair AF_UNIX");
	check(socket(AF_INET, SOCK_DGRAM, 0), "socket AF_INET SOCK_DGRAM");
	check(socket(AF_NETLINK, SOCK_RAW, NETLINK_ROUTE), "socket AF_NETLINK");
	check(socket(AF_NETLINK, SOCK_DGRAM | SOCK_CLOEXEC, NETLINK_KOBJECT_UEVENT), "socket AF_NETLINK uevent");
	int s6 = socket(AF_INET6, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (s6 < 0) {
		fail("socket AF_INET6 SOCK_STREAM");
		return;
	}
	// Granted check: binding a port below 1024 checks CAP_NET_BIND_SERVICE
	// before the port is looked up, so a busy port still makes the check.
	struct sockaddr_in6 a;
	memset(&a, 0, sizeof a);
	a.sin6_family = AF_INET6;
	a.sin6_port = htons(80);
	a.sin6_addr = in6addr_loopback;
	if (bind(s6, (struct sockaddr *)&a, sizeof a) < 0 && errno != EADDRINUSE)
		fail("bind [::1]:80");
}

// denied drops CAP_CHOWN from a child's effective set, then chowns a file
// to another user: an audited CAP_CHOWN check that is denied.
static void denied(void) {
	pid_t c = fork();
	if (c < 0) {
		fail("fork denied");
		return;
	}
	if (c == 0) {
		struct __user_cap_header_struct h = {_LINUX_CAPABILITY_VERSION_3, 0};
		struct __user_cap_data_struct d[2];
		if (syscall(SYS_capget, &h, d) < 0) _exit(1);
		d[CAP_CHOWN / 32].effective &= ~(1u << (CAP_CHOWN % 32));
		if (syscall(SYS_capset, &h, d) < 0) _exit(2);
		int fd = open("chown-probe", O_CREAT | O_RDWR, 0600);
		if (fd < 0) _exit(3);
		int r = fchown(fd, 12345, -1);
		unlink("chown-probe");
		_exit(r == 0 ? 4 : 0); // it must have been refused
	}
	wait_ok(c, "denied check");
}

// in_child runs fn in a forked child and waits for it to exit 0.
static void in_child(int (*fn)(void), const char *what) {
	pid_t c = fork();
	if (c < 0) {
		fail(what);
		return;
	}
	if (c == 0) _exit(fn());
	wait_ok(c, what);
}

static int ns_unshare(void) { return unshare(CLONE_NEWUTS | CLONE_NEWTIME) < 0 ? 1 : 0; }

// ns_clone forks with clone(CLONE_NEWNET) itself.
static int ns_clone(void) {
	long c = syscall(SYS_clone, CLONE_NEWNET | SIGCHLD, 0, 0, 0, 0);
	if (c < 0) return 1;
	if (c == 0) _exit(0);
	int st;
	return waitpid((pid_t)c, &st, 0) < 0 || !WIFEXITED(st) || WEXITSTATUS(st) != 0;
}

static int ns_clone3(void) {
	struct clone_args a;
	memset(&a, 0, sizeof a);
	a.flags = CLONE_NEWIPC;
	a.exit_signal = SIGCHLD;
	long c = syscall(SYS_clone3, &a, sizeof a);
	if (c < 0) return 1;
	if (c == 0) _exit(0);
	int st;
	return waitpid((pid_t)c, &st, 0) < 0 || !WIFEXITED(st) || WEXITSTATUS(st) != 0;
}

static int ns_setns(void) {
	int fd = open("/proc/self/ns/mnt", O_RDONLY);
	return fd < 0 || setns(fd, CLONE_NEWNS) < 0;
}

static void on_term(int sig) {
	(void)sig;
	syscall(SYS_sched_getscheduler, 0);
	_exit(42);
}

int main(int argc, char **argv) {
	if (argc < 2) {
		fprintf(stderr, "usage: prog all HELPER [noia32] | exit N | forks N | ns | kill | term | unpriv | inner | hide\n");
		return 2;
	}
	const char *mode = argv[1];
	if (strcmp(mode, "all") == 0 && (argc == 3 || (argc == 4 && strcmp(argv[3], "noia32") == 0))) {
		check(syscall(SYS_sched_get_priority_max, SCHED_OTHER), "sched_get_priority_max");
		second_thread();
		grandchild();
		vfork_child();
		exec_helper(argv[2]);
		exec_from_thread(argv[2]);
		if (argc == 3) ia32();
		sockets();
		denied();
		daemonise();
		return failures == 0 ? 0 : 1;
	}
	if (strcmp(mode, "exit") == 0 && argc == 3) return atoi(argv[2]);
	if (strcmp(mode, "ns") == 0) {
		in_child(ns_unshare, "unshare(CLONE_NEWUTS|CLONE_NEWTIME)");
		in_child(ns_clone, "clone(CLONE_NEWNET)");
		in_child(ns_clone3, "clone3(CLONE_NEWIPC)");
		in_child(ns_setns, "setns(CLONE_NEWNS)");
		return failures == 0 ? 0 : 1;
	}
	if (strcmp(mode, "forks") == 0 && argc == 3) {
		long n = atol(argv[2]);
		for (long i = 0; i < n; i++) {
			pid_t c = vfork();
			if (c < 0) {
				fail("vfork");
				break;
			}
			if (c == 0) _exit(0);
			wait_ok(c, "child");
		}
		return failures == 0 ? 0 : 1;
	}
	if (strcmp(mode, "kill") == 0) {
		kill(getpid(), SIGKILL);
		return 1;
	}
	if (strcmp(mode, "term") == 0) {
		struct sigaction sa;
		memset(&sa, 0, sizeof sa);
		sa.sa_handler = on_term;
		sigaction(SIGTERM, &sa, NULL);
		sigaction(SIGINT, &sa, NULL);
		printf("ready\n");
		fflush(stdout);
		for (int i = 0; i < 600; i++) sleep(1);
		return 1;
	}
	if (strcmp(mode, "unpriv") == 0) {
		if (geteuid() == 0) {
			fprintf(stderr, "prog: unpriv: running as root\n");
			return 1;
		}
		if (setuid(0) == 0) {
			fprintf(stderr, "prog: unpriv: setuid(0) worked\n");
			return 1;
		}
		if (open("/etc/shadow", O_RDONLY) >= 0) {
			fprintf(stderr, "prog: unpriv: /etc/shadow opened\n");
			return 1;
		}
		return 0;
	}
	if (strcmp(mode, "inner") == 0) {
		struct sched_param p;
		check(syscall(SYS_sched_getparam, 0, &p), "sched_getparam");
		return failures == 0 ? 0 : 1;
	}
	if (strcmp(mode, "hide") == 0) {
		syscall(SYS_bpf, 0x6c656173 /* LEASH_NEST_CMD */, 0, 0); // EINVAL
		int fd = socket(AF_PACKET, SOCK_RAW, 0);
		if (fd >= 0)
			close(fd);
		syscall(SYS_unshare, CLONE_NEWUSER);
		return 0;
	}
	fprintf(stderr, "prog: bad arguments\n");
	return 2;
}
