package cli

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// leashCLI runs leash's command tree in-process and returns the exit code
// and output.
func leashCLI(t *testing.T, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errOut bytes.Buffer
	root := New(&out, &errOut)
	root.SetArgs(args)
	code = exitCode(root.Execute(), &errOut)
	return code, out.String(), errOut.String()
}

func copyFile(t *testing.T, from, to string) {
	t.Helper()
	data, err := os.ReadFile(from)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(to, data, 0o644); err != nil {
		t.Fatal(err)
	}
}

// TestSignVerifyCLI walks keygen, sign and verify, then breaks each input
// in turn and checks the exit code and that the error names the file.
func TestSignVerifyCLI(t *testing.T) {
	dir := t.TempDir()
	profile := filepath.Join(dir, "web.yaml")
	copyFile(t, filepath.Join("..", "..", "testdata", "analyze", "web.yaml"), profile)
	prefix := filepath.Join(dir, "team")
	if code, _, stderr := leashCLI(t, "keygen", "--out-prefix", prefix); code != ExitOK {
		t.Fatalf("keygen: exit %d: %s", code, stderr)
	}
	if code, _, stderr := leashCLI(t, "keygen", "--out-prefix", prefix); code != ExitInput || !strings.Contains(stderr, "already exists") {
		t.Errorf("keygen over existing keys: exit %d: %s", code, stderr)
	}
	if code, _, stderr := leashCLI(t, "keygen", "--out-prefix", filepath.Join(dir, "other")); code != ExitOK {
		t.Fatalf("keygen: exit %d: %s", code, stderr)
	}
	code, stdout, stderr := leashCLI(t, "sign", "--key", prefix+".key", profile)
	if code != ExitOK || !strings.Contains(stdout, profile+".sig") {
		t.Fatalf("sign: exit %d: %s%s", code, stdout, stderr)
	}
	if code, stdout, stderr := leashCLI(t, "verify", "--key", prefix+".pub", profile); code != ExitOK || !strings.Contains(stdout, "verified OK") {
		t.Fatalf("verify: exit %d: %s%s", code, stdout, stderr)
	}

	tampered := filepath.Join(dir, "tampered.yaml")
	data, _ := os.ReadFile(profile)
	os.WriteFile(tampered, bytes.Replace(data, []byte("user: www-data"), []byte("user: www-datb"), 1), 0o644)
	garbage := filepath.Join(dir, "garbage.sig")
	os.WriteFile(garbage, []byte("%%% not base64 %%%"), 0o644)
	invalid := filepath.Join(dir, "invalid.yaml")
	os.WriteFile(invalid, []byte("apiVersion: leash/v0\n"), 0o644)

	tests := []struct {
		name  string
		args  []string
		code  int
		blame string // must appear in stderr
	}{
		{"tampered profile", []string{"verify", "--key", prefix + ".pub", "--signature", profile + ".sig", tampered}, ExitGate, tampered},
		{"wrong key", []string{"verify", "--key", filepath.Join(dir, "other.pub"), profile}, ExitGate, "does not verify"},
		{"malformed signature", []string{"verify", "--key", prefix + ".pub", "--signature", garbage, profile}, ExitInput, garbage},
		{"missing signature", []string{"verify", "--key", prefix + ".pub", tampered}, ExitInput, tampered + ".sig"},
		{"private key to verify", []string{"verify", "--key", prefix + ".key", profile}, ExitInput, prefix + ".key"},
		{"missing key", []string{"verify", "--key", filepath.Join(dir, "none.pub"), profile}, ExitInput, "none.pub"},
		{"no --key", []string{"verify", profile}, ExitInput, "--key"},
		{"sign with a public key", []string{"sign", "--key", prefix + ".pub", profile}, ExitInput, prefix + ".pub"},
		{"sign an invalid profile", []string{"sign", "--key", prefix + ".key", invalid}, ExitInput, invalid},
		{"sign a missing profile", []string{"sign", "--key", prefix + ".key", filepath.Join(dir, "none.yaml")}, ExitInput, "none.yaml"},
		{"two profiles", []string{"sign", "--key", prefix + ".key", profile, profile}, ExitInput, "want one PROFILE"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			code, _, stderr := leashCLI(t, tc.args...)
			if code != tc.code {
				t.Errorf("exit %d, want %d: %s", code, tc.code, stderr)
			}
			if !strings.Contains(stderr, tc.blame) || strings.Count(stderr, "\n") != 1 {
				t.Errorf("stderr %q: want one line naming %q", stderr, tc.blame)
			}
		})
	}
	if _, err := os.Stat(invalid + ".sig"); err == nil {
		t.Error("an invalid profile was signed")
	}
}

// TestVerifyJSON: --json reports the result on stdout and keeps the exit
// code.
func TestVerifyJSON(t *testing.T) {
	vec := filepath.Join("..", "..", "testdata", "signing")
	for _, tc := range []struct {
		key  string
		code int
	}{
		{filepath.Join(vec, "cosign.pub"), ExitOK},
		{filepath.Join(vec, "cosign-made", "cosign.pub"), ExitGate},
	} {
		code, stdout, stderr := leashCLI(t, "verify", "--json", "--key", tc.key, filepath.Join(vec, "profile.yaml"))
		if code != tc.code || stderr != "" {
			t.Errorf("exit %d, want %d; stderr %q", code, tc.code, stderr)
		}
		var res verifyResult
		if err := json.Unmarshal([]byte(stdout), &res); err != nil {
			t.Fatalf("%v: %s", err, stdout)
		}
		if res.Verified != (tc.code == ExitOK) || (res.Error == "") != res.Verified {
			t.Errorf("result %+v for exit %d", res, tc.code)
		}
	}
}

// TestVerifyCosignMade: a signature made by the cosign binary verifies
// with leash verify.
func TestVerifyCosignMade(t *testing.T) {
	dir := filepath.Join("..", "..", "testdata", "signing", "cosign-made")
	code, _, stderr := leashCLI(t, "verify", "--key", filepath.Join(dir, "cosign.pub"), filepath.Join(dir, "profile.yaml"))
	if code != ExitOK {
		t.Fatalf("exit %d: %s", code, stderr)
	}
}

// TestHelpExamples: every command of this file set documents itself with
// examples and its exit codes.
func TestHelpExamples(t *testing.T) {
	for _, name := range []string{"sign", "verify", "keygen", "analyze"} {
		code, stdout, _ := leashCLI(t, name, "--help")
		if code != ExitOK || !strings.Contains(stdout, "Examples:") || !strings.Contains(stdout, "Exit status") {
			t.Errorf("leash %s --help: exit %d, want examples and exit codes:\n%s", name, code, stdout)
		}
	}
}
