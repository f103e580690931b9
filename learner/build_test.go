package learner

import (
	"bytes"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/leash-project/leash/learner/trace"
	"github.com/leash-project/leash/profiles"
)

var update = flag.Bool("update", false, "rewrite the golden profiles in testdata/build")

// TestBuildGolden turns recorded observations (testdata/build/*.json, the
// real ones written by learner/trace's tests with -record) into profiles
// and compares them with the golden YAML beside them.
func TestBuildGolden(t *testing.T) {
	files, err := filepath.Glob("testdata/build/*.json")
	if err != nil {
		t.Fatal(err)
	}
	if len(files) == 0 {
		t.Fatal("no observations in testdata/build")
	}
	run := RunInfo{
		Command:  []string{"/opt/app/server", "--port", "8080"},
		User:     "app",
		Host:     "trainer",
		Kernel:   "6.18.0",
		Leash:    "test",
		Started:  time.Date(2026, 11, 28, 13, 0, 0, 0, time.UTC),
		Duration: 1500 * time.Millisecond,
		ExitCode: 0,
		Methods:  map[string]string{"syscalls": "tp_btf/sys_enter", "capabilities": "tp_btf/cap_capable+stack"},
		Executables: []profiles.Executable{
			{Path: "/opt/app/server", SHA256: strings.Repeat("ab", 32)},
		},
	}
	for _, f := range files {
		name := strings.TrimSuffix(filepath.Base(f), ".json")
		t.Run(name, func(t *testing.T) {
			data, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			var obs trace.Observations
			dec := json.NewDecoder(bytes.NewReader(data))
			dec.DisallowUnknownFields()
			if err := dec.Decode(&obs); err != nil {
				t.Fatalf("%s: %v", f, err)
			}
			r := run
			r.Component = name
			p := Build(&obs, r)
			got, err := profiles.Marshal(p)
			if err != nil {
				t.Fatal(err)
			}
			// What Build writes, leash reads back: valid and unchanged.
			back, err := profiles.Parse(name, got)
			if err != nil {
				t.Fatalf("built profile does not validate: %v\n%s", err, got)
			}
			again, err := profiles.Marshal(back)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(got, again) {
				t.Errorf("profile changes on a load/save round trip")
			}
			golden := strings.TrimSuffix(f, ".json") + ".golden.yaml"
			if *update {
				if err := os.WriteFile(golden, got, 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatalf("%v (run with -update to create it)", err)
			}
			if !bytes.Equal(got, want) {
				t.Errorf("%s differs from the built profile (run with -update and review the diff):\n%s", golden, got)
			}
		})
	}
}

// TestBuildCapabilities pins the needed/noaudit/denied rules one case at a
// time.
func TestBuildCapabilities(t *testing.T) {
	tests := []struct {
		name    string
		caps    []trace.CapObs
		section string // needed, noaudit, denied, or "" for absent
		want    profiles.CapUse
	}{
		{"audited granted is needed", []trace.CapObs{{Cap: 21, Granted: 2, Exe: "/a"}}, "needed", profiles.CapUse{Granted: 2, By: "/a"}},
		{"noaudit only", []trace.CapObs{{Cap: 21, Noaudit: true, Granted: 7, Exe: "/a"}}, "noaudit", profiles.CapUse{Granted: 7, By: "/a"}},
		{"noaudit denied only", []trace.CapObs{{Cap: 21, Noaudit: true, Denied: 1, Exe: "/a"}}, "noaudit", profiles.CapUse{Denied: 1, By: "/a"}},
		{"audited denied, never granted", []trace.CapObs{{Cap: 21, Denied: 3, Exe: "/a"}}, "denied", profiles.CapUse{Denied: 3, By: "/a"}},
		{"audited denied but granted silently is still denied", []trace.CapObs{{Cap: 21, Denied: 3, Exe: "/a"}, {Cap: 21, Noaudit: true, Granted: 9, Exe: "/b"}}, "denied", profiles.CapUse{Denied: 3, By: "/a"}},
		{"granted once among denials is needed", []trace.CapObs{{Cap: 21, Granted: 1, Denied: 3, Exe: "/a"}}, "needed", profiles.CapUse{Granted: 1, Denied: 3, By: "/a"}},
		{"noaudit grant does not make it needed", []trace.CapObs{{Cap: 21, Noaudit: true, Granted: 5, Exe: "/a"}, {Cap: 21, Denied: 1, Exe: "/b"}}, "denied", profiles.CapUse{Denied: 1, By: "/b"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := Build(&trace.Observations{Caps: tt.caps}, RunInfo{Component: "c"})
			sections := map[string]map[string]profiles.CapUse{
				"needed": p.Capabilities.Needed, "noaudit": p.Capabilities.Noaudit, "denied": p.Capabilities.Denied,
			}
			for name, sec := range sections {
				u, ok := sec["CAP_SYS_ADMIN"]
				if name != tt.section {
					if ok {
						t.Errorf("CAP_SYS_ADMIN also in %s: %+v", name, u)
					}
					continue
				}
				if !ok {
					t.Errorf("CAP_SYS_ADMIN not in %s", name)
				} else if u != tt.want {
					t.Errorf("%s: got %+v, want %+v", name, u, tt.want)
				}
			}
		})
	}
}
