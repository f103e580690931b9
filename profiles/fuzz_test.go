package profiles

import (
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// FuzzParse: the parser never panics, every rejection is a one-line
// *Error naming the file, and whatever it accepts marshals and parses
// back to an equal profile.
//
// Fuzz with -fuzzminimizetime 2s: by default the fuzzer minimizes every
// input that finds new coverage for up to 60s without counting execs, so
// a one-minute run seems stuck at the seed corpus.
func FuzzParse(f *testing.F) {
	for _, file := range testdataProfiles(f) {
		if data, err := os.ReadFile(file); err == nil {
			f.Add(data)
		}
	}
	f.Add([]byte(good))
	f.Add([]byte(strings.Replace(good, "read:", "&a read:", 1)))
	f.Add([]byte("apiVersion: leash/v1\ncomponent: x\n"))
	f.Add([]byte("apiVersion: leash/v1\ncomponent: \"\\u00e9\\t\"\nrun: {env: [\"A=\\u2028\"]}\n"))
	f.Add([]byte("---\n---\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		checkRoundTrip(t, "fuzz.yaml", data)
	})
}

// FuzzMergeDiff: any two valid profiles merge into a valid profile that
// keeps every privilege of both, and diffs and exports never fail or
// panic on them.
func FuzzMergeDiff(f *testing.F) {
	files, _ := filepath.Glob("../testdata/profiles/*.yaml")
	var seeds [][]byte
	for _, file := range files {
		if data, err := os.ReadFile(file); err == nil && !strings.HasSuffix(file, ".k8s.yaml") {
			seeds = append(seeds, data)
		}
	}
	for i := range seeds {
		f.Add(seeds[i], seeds[(i+1)%len(seeds)])
	}
	privilege := map[string]bool{KindSyscall: true, KindCapability: true, KindFamily: true, KindSocketType: true, KindProtocol: true, KindNamespace: true, KindWiden: true}
	f.Fuzz(func(t *testing.T, a, b []byte) {
		pa, err := Parse("a.yaml", a)
		if err != nil {
			return
		}
		pb, err := Parse("b.yaml", b)
		if err != nil {
			return
		}
		m, err := MergeWith(MergeOptions{Component: "m"}, pa, pb)
		if err != nil {
			t.Fatal(err)
		}
		data, err := Marshal(m)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := Parse("merged.yaml", data); err != nil {
			t.Fatalf("merge of valid profiles is invalid: %v\n%s", err, data)
		}
		for _, in := range []*Profile{pa, pb} {
			for _, c := range Diff(in, m).Changes {
				if lostPrivilege(c, privilege) {
					t.Fatalf("merge lost %+v", c)
				}
			}
		}
		d := Diff(pa, pb)
		if _, err := d.JSON("a", "b"); err != nil {
			t.Fatal(err)
		}
		if err := d.WriteText(io.Discard, "a", "b"); err != nil {
			t.Fatal(err)
		}
		for _, export := range []func(*Profile, ExportOptions) ([]byte, error){Systemd, OCI, K8s} {
			if _, err := export(m, ExportOptions{}); err != nil {
				t.Fatal(err)
			}
		}
		if err := WriteText(io.Discard, m); err != nil {
			t.Fatal(err)
		}
	})
}
