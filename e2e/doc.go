// Package e2e holds leash's end-to-end suite on real programs from Debian
// packages that nobody on the team wrote: nginx, redis, gcc, tar with gzip,
// python3 and shfmt (a statically linked Go binary). For each one the suite
// learns a profile with `leash learn` on a training job, then runs a
// different job of the same program confined with `leash run`, and requires
// its output and exit status to equal the same job run unconfined.
//
// The suite needs root, BPF and the packages listed in .ci/packages-e2e. A
// plain `go test ./...` skips it; it runs when LEASH_E2E=1 is set, or
// LEASH_REQUIRE_PRIVILEGED=1 (set by .ci/run), and then fails instead of
// skipping where it cannot run. `go test ./e2e -e2e.write` also writes the
// profile size table to e2e/results.md.
package e2e
