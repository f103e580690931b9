#include <stdio.h>
#include <stdlib.h>
#include "util.h"

int main(int argc, char **argv)
{
	double v[64];
	int n = 0;
	for (int i = 1; i < argc && n < 64; i++)
		v[n++] = strtod(argv[i], NULL);
	printf("n=%d mean=%.3f sd=%.3f\n", n, mean(v, n), stddev(v, n));
	return 0;
}
