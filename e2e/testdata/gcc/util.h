/* Training build: two translation units, a header, libm. */
#ifndef UTIL_H
#define UTIL_H
double mean(const double *v, int n);
double stddev(const double *v, int n);
#endif
