// threadexec execs argv[1] from a second thread while the main thread
// sleeps: the kernel makes the exec'ing thread the new leader (its tid
// becomes the tgid), which learner/trace's tracer must follow.
#include <pthread.h>
#include <stdio.h>
#include <unistd.h>

static char **args;

static void *run(void *arg)
{
	(void)arg;
	execv(args[1], args + 1);
	perror("execv");
	_exit(127);
}

int main(int argc, char **argv)
{
	pthread_t t;
	if (argc < 2)
		return 2;
	args = argv;
	if (pthread_create(&t, NULL, run, NULL) != 0)
		return 1;
	for (;;)
		pause();
}
