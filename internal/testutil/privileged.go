// Package testutil holds test helpers shared by leash's packages.
package testutil

import (
	"os"
	"testing"
)

// RequireEnv is set by .ci/run. Where it is set, a privileged test that
// cannot run fails instead of skipping, so CI cannot go green by skipping.
const RequireEnv = "LEASH_REQUIRE_PRIVILEGED"

// Required reports whether privileged tests must run here.
func Required() bool { return os.Getenv(RequireEnv) != "" }

// SkipOrFail skips the test, or fails it when RequireEnv is set.
func SkipOrFail(t testing.TB, format string, a ...any) {
	t.Helper()
	if Required() {
		t.Fatalf("privileged test cannot run ("+RequireEnv+" is set): "+format, a...)
	}
	t.Skipf(format, a...)
}

// RequireRoot skips (or fails in CI) unless the test runs as root.
func RequireRoot(t testing.TB) {
	t.Helper()
	if os.Geteuid() != 0 {
		SkipOrFail(t, "needs root")
	}
}
