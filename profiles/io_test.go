package profiles

import (
	"bytes"
	"errors"
	"math/rand"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"unicode/utf8"
)

// TestMarshalGolden: web.yaml has its lists out of order; the marshalled
// profile is normalized and in leash's fixed order.
func TestMarshalGolden(t *testing.T) {
	for _, name := range []string{"web", "minimal", "netlink"} {
		t.Run(name, func(t *testing.T) {
			data, err := Marshal(mustLoad(t, name+".yaml"))
			if err != nil {
				t.Fatal(err)
			}
			golden(t, name+".golden.yaml", data)
		})
	}
}

// shuffled returns a copy of p with every list that is a set, and the
// runs, in a random order.
func shuffled(p *Profile, r *rand.Rand) *Profile {
	q := p.Clone()
	shuf := func(s []string) {
		r.Shuffle(len(s), func(i, j int) { s[i], s[j] = s[j], s[i] })
	}
	for f, fam := range q.Families {
		shuf(fam.Types)
		shuf(fam.Protocols)
		q.Families[f] = fam
	}
	shuf(q.Namespaces)
	shuf(q.Widen)
	shuf(q.Run.Namespaces)
	shuf(q.Run.Env)
	r.Shuffle(len(q.Provenance.Runs), func(i, j int) {
		q.Provenance.Runs[i], q.Provenance.Runs[j] = q.Provenance.Runs[j], q.Provenance.Runs[i]
	})
	r.Shuffle(len(q.Provenance.Executables), func(i, j int) {
		q.Provenance.Executables[i], q.Provenance.Executables[j] = q.Provenance.Executables[j], q.Provenance.Executables[i]
	})
	return q
}

// TestMarshalDeterministic: equal profiles, whatever the order of their
// sets and runs, marshal to identical bytes, and Marshal leaves its
// argument alone.
func TestMarshalDeterministic(t *testing.T) {
	for _, name := range []string{"web.yaml", "netlink.yaml"} {
		p := mustLoad(t, name)
		want, err := Marshal(p)
		if err != nil {
			t.Fatal(err)
		}
		r := rand.New(rand.NewSource(1))
		for i := 0; i < 50; i++ {
			q := shuffled(p, r)
			before := q.Clone()
			got, err := Marshal(q)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(got, want) {
				t.Fatalf("%s: shuffle %d marshals differently:\n%s\nwant\n%s", name, i, got, want)
			}
			if !reflect.DeepEqual(q, before) {
				t.Fatalf("%s: Marshal modified its argument", name)
			}
		}
	}
}

// TestRoundTrip: parse, marshal, parse gives an equal profile for every
// profile in testdata.
func TestRoundTrip(t *testing.T) {
	for _, f := range testdataProfiles(t) {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		checkRoundTrip(t, f, data)
	}
}

// checkRoundTrip fails unless data is rejected with a proper *Error, or
// accepted and survives Marshal and Parse unchanged.
func checkRoundTrip(t *testing.T, name string, data []byte) {
	t.Helper()
	p, err := Parse(name, data)
	if err != nil {
		var pe *Error
		if !errors.As(err, &pe) {
			t.Fatalf("rejection is %T, not *profiles.Error: %v", err, err)
		}
		if pe.File != name || pe.Msg == "" || strings.ContainsAny(err.Error(), "\n\r") || !utf8.ValidString(pe.Msg) {
			t.Fatalf("rejection is not a one-line message naming the file: %q", err.Error())
		}
		return
	}
	out, err := Marshal(p)
	if err != nil {
		t.Fatalf("%s: accepted but does not marshal: %v", name, err)
	}
	q, err := Parse(name, out)
	if err != nil {
		t.Fatalf("%s: marshalled profile does not parse: %v\n%s", name, err, out)
	}
	if !reflect.DeepEqual(p, q) {
		t.Fatalf("%s: round trip changed the profile:\n%#v\n%#v\n%s", name, p, q, out)
	}
	again, err := Marshal(q)
	if err != nil || !bytes.Equal(again, out) {
		t.Fatalf("%s: marshal is not stable (%v)", name, err)
	}
}

func TestSaveAtomic(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "p.yaml")
	p := mustLoad(t, "web.yaml")
	if err := Save(path, p); err != nil {
		t.Fatal(err)
	}
	q, err := Load(path)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(p, q) {
		t.Error("saved profile loads differently")
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 1 {
		t.Errorf("temporary files left: %v", entries)
	}
}

// TestCloneProtocols: Clone copies netlink protocols, so changing the
// clone's leaves the original alone.
func TestCloneProtocols(t *testing.T) {
	p := mustLoad(t, "netlink.yaml")
	q := p.Clone()
	q.Families["AF_NETLINK"].Protocols[0] = "NETLINK_XFRM"
	if got := p.Families["AF_NETLINK"].Protocols[0]; got != "NETLINK_AUDIT" {
		t.Errorf("changing the clone changed the original: %s", got)
	}
}

// TestOptionalRunSwitches: privateDevices and protectKernelTunables are
// on when unset, off only when the profile says false, survive a save and
// load as written, and take nothing but true or false.
func TestOptionalRunSwitches(t *testing.T) {
	base := "apiVersion: leash/v1\ncomponent: c\nsyscalls: {}\nrun:\n"
	tests := []struct {
		name          string
		run           string
		devs, tunable bool
		wantErr       string
	}{
		{name: "unset", run: "  user: root\n", devs: true, tunable: true},
		{name: "off", run: "  privateDevices: false\n  protectKernelTunables: false\n"},
		{name: "on", run: "  privateDevices: true\n  protectKernelTunables: true\n", devs: true, tunable: true},
		{name: "not a bool", run: "  privateDevices: yes-please\n", wantErr: "run.privateDevices: want true or false"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, err := Parse("p.yaml", []byte(base+tt.run))
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("Parse: %v, want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			path := filepath.Join(t.TempDir(), "p.yaml")
			if err := Save(path, p); err != nil {
				t.Fatal(err)
			}
			q, err := Load(path)
			if err != nil {
				t.Fatal(err)
			}
			for _, r := range []RunOptions{p.Run, q.Run} {
				if r.DevicesPrivate() != tt.devs || r.KernelTunablesProtected() != tt.tunable {
					t.Errorf("privateDevices %v, protectKernelTunables %v; want %v, %v", r.DevicesPrivate(), r.KernelTunablesProtected(), tt.devs, tt.tunable)
				}
			}
		})
	}
}
