package profiles_test

import (
	"sort"
	"testing"

	"github.com/leash-project/leash/profiles"
	"github.com/leash-project/leash/seccomp"
)

// TestKnownWideningsMatchSeccomp: the names profiles accepts under widen
// are exactly the widenings the seccomp compiler defines.
func TestKnownWideningsMatchSeccomp(t *testing.T) {
	var known []string
	for n := range profiles.KnownWidenings {
		known = append(known, n)
	}
	sort.Strings(known)
	want := seccomp.WideningNames()
	if len(known) != len(want) {
		t.Fatalf("profiles.KnownWidenings %v, seccomp defines %v", known, want)
	}
	for i := range want {
		if known[i] != want[i] {
			t.Fatalf("profiles.KnownWidenings %v, seccomp defines %v", known, want)
		}
	}
}
