package cli

import (
	"os"
	"testing"

	"github.com/leash-project/leash/internal/reexec"
)

// TestMain lets the test binary act as leash's re-exec roles (the learn
// stub, the confined child of leash run), so leash learn, check and run
// can be driven in-process.
func TestMain(m *testing.M) {
	if reexec.Init() {
		return
	}
	os.Exit(m.Run())
}
