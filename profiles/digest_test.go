package profiles

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestReaderSHA256(t *testing.T) {
	for _, content := range []string{"", "leash\n", strings.Repeat("x", 1<<20+7)} {
		got, err := ReaderSHA256(strings.NewReader(content))
		if err != nil {
			t.Fatal(err)
		}
		sum := sha256.Sum256([]byte(content))
		if want := hex.EncodeToString(sum[:]); got != want {
			t.Errorf("ReaderSHA256 of %d bytes = %s, want %s", len(content), got, want)
		}
	}
}

// checkBinary opens exe and checks it, as leash run does (CheckBinaryFile).
func checkBinary(t *testing.T, p *Profile, exe string) error {
	t.Helper()
	f, err := os.Open(exe)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	return CheckBinaryFile(p, exe, f)
}

// digestFixture lays out executables in a temporary directory:
//
//	bin/app        "app v1"
//	bin/app-link -> app
//	bin/tool       "tool"
//	other/app      "app v2" (same base name as bin/app, other content)
//	lib/helper     "helper"
//	sbin/helper    "helper" (a second recorded path with base name helper)
//	usr/helper     "helper" (a third, never recorded)
type digestFixture struct {
	dir  string
	sums map[string]string // relative path -> sha256
}

func newDigestFixture(t *testing.T) *digestFixture {
	t.Helper()
	f := &digestFixture{dir: t.TempDir(), sums: map[string]string{}}
	for rel, content := range map[string]string{
		"bin/app": "app v1", "bin/tool": "tool", "other/app": "app v2",
		"lib/helper": "helper", "sbin/helper": "helper", "usr/helper": "helper",
	} {
		p := f.path(rel)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o755); err != nil {
			t.Fatal(err)
		}
		sum := sha256.Sum256([]byte(content))
		f.sums[rel] = hex.EncodeToString(sum[:])
	}
	if err := os.Symlink("app", f.path("bin/app-link")); err != nil {
		t.Fatal(err)
	}
	return f
}

func (f *digestFixture) path(rel string) string { return filepath.Join(f.dir, rel) }

func (f *digestFixture) profile(recorded ...Executable) *Profile {
	return &Profile{
		APIVersion: APIVersion,
		Provenance: Provenance{
			Runs:        []Run{{Started: "2026-11-28T10:00:00Z", Host: "stage-1"}},
			Executables: recorded,
		},
	}
}

func TestCheckBinary(t *testing.T) {
	f := newDigestFixture(t)
	rec := func(rel, sumOf string) Executable { return Executable{Path: f.path(rel), SHA256: f.sums[sumOf]} }
	tests := []struct {
		name     string
		recorded []Executable
		exe      string
		want     string // expected digest ("" : none found)
		mismatch bool   // CheckBinaryFile must refuse
		message  []string
	}{
		{name: "same path, same content", recorded: []Executable{rec("bin/app", "bin/app")}, exe: "bin/app", want: f.sums["bin/app"]},
		{name: "run through a symlink", recorded: []Executable{rec("bin/app", "bin/app")}, exe: "bin/app-link", want: f.sums["bin/app"]},
		{name: "recorded through a symlink", recorded: []Executable{rec("bin/app-link", "bin/app")}, exe: "bin/app", want: f.sums["bin/app"]},
		{name: "upper-case digest", recorded: []Executable{{Path: f.path("bin/app"), SHA256: strings.ToUpper(f.sums["bin/app"])}}, exe: "bin/app", want: strings.ToUpper(f.sums["bin/app"])},
		{
			name: "binary replaced", recorded: []Executable{rec("bin/app", "other/app")}, exe: "bin/app",
			want: f.sums["other/app"], mismatch: true,
			message: []string{"executable " + f.path("bin/app") + " has sha256 " + f.sums["bin/app"], "profile expects " + f.sums["other/app"], "learned on 2026-11-28T10:00:00Z on host stage-1", "--allow-digest-mismatch"},
		},
		{name: "by base name, one recorded", recorded: []Executable{rec("bin/tool", "bin/tool"), rec("other/app", "bin/app")}, exe: "bin/app", want: f.sums["bin/app"]},
		{
			name: "by base name, other content", recorded: []Executable{rec("other/app", "other/app")}, exe: "bin/app",
			want: f.sums["other/app"], mismatch: true,
			message: []string{"recorded for " + f.path("other/app")},
		},
		{
			name: "base name ambiguous", recorded: []Executable{rec("lib/helper", "lib/helper"), rec("sbin/helper", "sbin/helper")}, exe: "usr/helper",
			mismatch: true, message: []string{"is not one the profile was learned with", f.path("lib/helper")},
		},
		{
			name: "not recorded at all", recorded: []Executable{rec("bin/tool", "bin/tool")}, exe: "bin/app",
			mismatch: true, message: []string{"executable " + f.path("bin/app") + " (sha256 " + f.sums["bin/app"] + ") is not one", "it records: " + f.path("bin/tool") + " sha256 " + f.sums["bin/tool"]},
		},
		{name: "nothing recorded", exe: "bin/app", mismatch: true, message: []string{"it records: none"}},
		{
			name:     "one path, several digests (merged across an upgrade)",
			recorded: []Executable{rec("bin/app", "bin/app"), rec("bin/app", "other/app")},
			exe:      "bin/app", want: f.sums["other/app"],
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p := f.profile(tc.recorded...)
			exe := f.path(tc.exe)
			got, ok := p.ExpectedDigest(exe)
			if got != tc.want || ok != (tc.want != "") {
				t.Errorf("ExpectedDigest = %q, %v; want %q", got, ok, tc.want)
			}
			err := checkBinary(t, p, exe)
			if !tc.mismatch {
				if err != nil {
					t.Fatalf("CheckBinaryFile: %v", err)
				}
				return
			}
			var de *DigestError
			if !errors.As(err, &de) || !errors.Is(err, ErrDigestMismatch) {
				t.Fatalf("CheckBinaryFile = %v, want a *DigestError", err)
			}
			if de.Got != f.sums[strings.TrimSuffix(tc.exe, "-link")] || de.Want != tc.want {
				t.Errorf("DigestError got=%s want=%s; expected got=%s want=%s", de.Got, de.Want, f.sums[tc.exe], tc.want)
			}
			for _, m := range tc.message {
				if !strings.Contains(err.Error(), m) {
					t.Errorf("message %q lacks %q", err, m)
				}
			}
		})
	}
}

func TestCheckBinaryUnreadable(t *testing.T) {
	f := newDigestFixture(t)
	p := f.profile(Executable{Path: f.path("bin/app"), SHA256: f.sums["bin/app"]})
	dir, err := os.Open(f.path("bin"))
	if err != nil {
		t.Fatal(err)
	}
	defer dir.Close()
	err = CheckBinaryFile(p, f.path("bin/none"), dir) // a directory: read fails
	if err == nil || errors.Is(err, ErrDigestMismatch) || !strings.Contains(err.Error(), "bin/none") {
		t.Fatalf("unreadable executable: %v, want a read error naming it", err)
	}
}
