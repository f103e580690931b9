/* Test build: a different program, compiled and linked in one go. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int cmp(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return (x > y) - (x < y);
}

int main(int argc, char **argv)
{
	if (argc < 2) {
		fprintf(stderr, "usage: calc NUMBER...\n");
		return 2;
	}
	double *v = calloc(argc - 1, sizeof *v);
	for (int i = 1; i < argc; i++)
		v[i - 1] = strtod(argv[i], NULL);
	qsort(v, argc - 1, sizeof *v, cmp);
	double hyp = 0;
	for (int i = 0; i < argc - 1; i++)
		hyp = hypot(hyp, v[i]);
	printf("min=%g max=%g median=%g norm=%.4f\n", v[0], v[argc - 2], v[(argc - 1) / 2], hyp);
	free(v);
	return 0;
}
