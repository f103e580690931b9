// announce plays a nested leash tracer: it makes ioprio_get, announces
// itself with bpf(LEASH_NEST_CMD) as learner/trace's announceNested does,
// and then makes sched_getparam from a thread that existed before the
// announcement, sched_get_priority_max from the main thread, and getcpu
// from a child. A recorder that tracks it must keep only ioprio_get (and
// what came before), and neither the bpf call nor the child.
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#define LEASH_NEST_CMD 0x6c656173

static int go[2];

static void *thread(void *arg)
{
	char c;
	struct sched_param sp;
	(void)arg;
	if (read(go[0], &c, 1) != 1) // until main has announced
		return (void *)1;
	syscall(SYS_sched_getparam, 0, &sp);
	return 0;
}

int main(void)
{
	pthread_t t;
	void *ret;
	if (pipe(go) || pthread_create(&t, 0, thread, 0))
		return 1;
	syscall(SYS_ioprio_get, 1 /* IOPRIO_WHO_PROCESS */, 0);
	syscall(SYS_bpf, LEASH_NEST_CMD, 0, 0); // fails with EINVAL
	if (write(go[1], "x", 1) != 1 || pthread_join(t, &ret) || ret)
		return 1;
	syscall(SYS_sched_get_priority_max, SCHED_FIFO);
	pid_t pid = fork();
	if (pid == 0) {
		unsigned cpu, node;
		_exit(syscall(SYS_getcpu, &cpu, &node, 0) < 0);
	}
	int st;
	if (pid < 0 || waitpid(pid, &st, 0) != pid || st != 0)
		return 1;
	return 0;
}
