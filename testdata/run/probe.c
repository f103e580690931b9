/* probe: reports what leash run's confinement looks like from inside.
 * Used by cmd/leash/run_test.go. Each argument is one check, printed as
 * "name: value" lines:
 *   status        /proc/self/status, verbatim
 *   fds           "fd: N" for every open descriptor
 *   net           "iface: NAME up|down" for every interface, then
 *                 "tcp: ok" or "tcp: ERRNO" for a loopback TCP connection
 *   write:PATH    "write PATH: ok" or the error creating PATH
 *   ls:DIR        "ls DIR: N" entries (but . and ..)
 *   sid           "sid: S pid: P": session id and pid
 *   wait          print "ready", then wait for SIGTERM and exit 42
 *   exit:N        exit with status N
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <net/if.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

/* write(2), not printf: the signal may land inside printf("ready"). */
static void on_term(int sig) { (void)sig; if (write(1, "got: SIGTERM\n", 13)) {} _exit(42); }

static void status(void) {
	FILE *f = fopen("/proc/self/status", "r");
	char line[512];
	if (!f) { printf("status: %s\n", strerror(errno)); return; }
	while (fgets(line, sizeof line, f)) fputs(line, stdout);
	fclose(f);
}

static void fds(void) {
	DIR *d = opendir("/proc/self/fd");
	struct dirent *e;
	if (!d) { printf("fds: %s\n", strerror(errno)); return; }
	int self = dirfd(d);
	while ((e = readdir(d))) {
		if (e->d_name[0] == '.') continue;
		if (atoi(e->d_name) == self) continue;
		printf("fd: %s\n", e->d_name);
	}
	closedir(d);
}

static void net(void) {
	struct if_nameindex *ifs = if_nameindex(), *i;
	int s = socket(AF_INET, SOCK_DGRAM, 0);
	for (i = ifs; i && i->if_index; i++) {
		struct ifreq ifr;
		memset(&ifr, 0, sizeof ifr);
		strncpy(ifr.ifr_name, i->if_name, IFNAMSIZ - 1);
		ioctl(s, SIOCGIFFLAGS, &ifr);
		printf("iface: %s %s\n", i->if_name, (ifr.ifr_flags & IFF_UP) ? "up" : "down");
	}
	close(s);
	int l = socket(AF_INET, SOCK_STREAM, 0), c = socket(AF_INET, SOCK_STREAM, 0);
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	socklen_t al = sizeof a;
	if (bind(l, (struct sockaddr *)&a, sizeof a) || listen(l, 1) || getsockname(l, (struct sockaddr *)&a, &al) ||
	    connect(c, (struct sockaddr *)&a, sizeof a))
		printf("tcp: %s\n", strerror(errno));
	else
		printf("tcp: ok\n");
}

int main(int argc, char **argv) {
	setvbuf(stdout, NULL, _IOLBF, 0);
	for (int i = 1; i < argc; i++) {
		char *a = argv[i];
		if (!strcmp(a, "status")) status();
		else if (!strcmp(a, "fds")) fds();
		else if (!strcmp(a, "net")) net();
		else if (!strcmp(a, "sid")) printf("sid: %d pid: %d\n", (int)getsid(0), (int)getpid());
		else if (!strncmp(a, "write:", 6)) {
			int fd = open(a + 6, O_WRONLY | O_CREAT | O_TRUNC, 0644);
			printf("write %s: %s\n", a + 6, fd < 0 ? strerror(errno) : "ok");
			if (fd >= 0) close(fd);
		} else if (!strncmp(a, "ls:", 3)) {
			DIR *d = opendir(a + 3);
			int n = 0;
			struct dirent *e;
			if (!d) { printf("ls %s: %s\n", a + 3, strerror(errno)); continue; }
			while ((e = readdir(d)))
				if (strcmp(e->d_name, ".") && strcmp(e->d_name, "..")) n++;
			closedir(d);
			printf("ls %s: %d\n", a + 3, n);
		} else if (!strcmp(a, "wait")) {
			signal(SIGTERM, on_term);
			printf("ready\n");
			for (;;) pause();
		} else if (!strncmp(a, "exit:", 5)) {
			exit(atoi(a + 5));
		} else {
			printf("unknown check %s\n", a);
			return 2;
		}
	}
	return 0;
}
