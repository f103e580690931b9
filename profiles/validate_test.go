package profiles

import (
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/leash-project/leash/linux"
)

// good is a valid profile; the bad cases below each break one thing.
const good = `apiVersion: leash/v1
component: demo
syscalls:
  x86_64:
    read: /bin/demo
  i386:
    exit: /bin/demo
capabilities:
  needed:
    CAP_NET_BIND_SERVICE: {granted: 1, by: /bin/demo}
families:
  AF_INET: {types: [SOCK_STREAM], by: /bin/demo}
namespaces: [net]
widen: [go-runtime]
run:
  user: demo
  namespaces: [ipc]
  defaultAction: errno
  protectSystem: strict
  env: [A=1]
provenance:
  runs:
    - command: [/bin/demo]
      user: root
      kernel: 6.18.0
      leash: 0.1.0-dev
      started: "2026-11-28T10:00:00Z"
      duration: 1.5s
      exitCode: 0
  executables:
    - path: /bin/demo
      sha256: 0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef
`

// TestParseNetlinkProtocols: AF_NETLINK lists protocols, or none (any
// protocol); every known name is accepted, and the list is sorted.
func TestParseNetlinkProtocols(t *testing.T) {
	fam := "  AF_INET: {types: [SOCK_STREAM], by: /bin/demo}"
	for _, tt := range []struct {
		name, family string
		want         []string
	}{
		{"listed", "  AF_NETLINK: {types: [SOCK_RAW], protocols: [NETLINK_ROUTE, NETLINK_AUDIT]}", []string{"NETLINK_AUDIT", "NETLINK_ROUTE"}},
		{"block style", "  AF_NETLINK:\n    types: [SOCK_DGRAM]\n    protocols:\n      - NETLINK_KOBJECT_UEVENT", []string{"NETLINK_KOBJECT_UEVENT"}},
		{"any (none listed)", "  AF_NETLINK: {types: [SOCK_RAW]}", nil},
		{"every known protocol", "  AF_NETLINK: {types: [SOCK_RAW], protocols: [" + strings.Join(allNetlinkProtocols(), ", ") + "]}", sortedSet(allNetlinkProtocols())},
	} {
		t.Run(tt.name, func(t *testing.T) {
			p, err := Parse("nl.yaml", []byte(strings.Replace(good, fam, fam+"\n"+tt.family, 1)))
			if err != nil {
				t.Fatal(err)
			}
			if got := p.Families["AF_NETLINK"].Protocols; !reflect.DeepEqual(got, tt.want) {
				t.Errorf("protocols %v, want %v", got, tt.want)
			}
		})
	}
}

// allNetlinkProtocols lists every netlink protocol name leash knows.
func allNetlinkProtocols() []string {
	var out []string
	for n := 0; n < 32; n++ {
		name := linux.NetlinkProtocolName(n)
		if _, ok := linux.NetlinkProtocolNumber(name); ok {
			out = append(out, name)
		}
	}
	return out
}

func TestParseGood(t *testing.T) {
	p, err := Parse("good.yaml", []byte(good))
	if err != nil {
		t.Fatal(err)
	}
	if p.Component != "demo" || p.Syscalls["i386"]["exit"] != "/bin/demo" || p.Capabilities.Needed["CAP_NET_BIND_SERVICE"].Granted != 1 {
		t.Errorf("decoded wrongly: %+v", p)
	}
}

// TestParseRejects: every bad profile is an *Error naming the file, at the
// line of the problem, with exit-code-2 semantics (ErrInvalid).
func TestParseRejects(t *testing.T) {
	replace := func(old, new string) string {
		if !strings.Contains(good, old) {
			t.Fatalf("test bug: %q not in the good profile", old)
		}
		return strings.Replace(good, old, new, 1)
	}
	tests := []struct {
		name string
		data string
		line int
		msg  string
	}{
		{"empty", "", 0, "empty profile"},
		{"only comments", "# nothing\n", 0, "empty profile"},
		{"null document", "---\n~\n", 2, "empty profile"},
		{"two documents", good + "---\n" + good, 33, "more than one YAML document"},
		{"not a mapping", "- a\n- b\n", 1, "a profile is a mapping"},
		{"syntax error", "apiVersion: [\n", 1, ""},
		{"tab indentation", "apiVersion: leash/v1\n\tcomponent: x\n", 0, ""},
		{"wrong apiVersion", replace("apiVersion: leash/v1", "apiVersion: leash/v2"), 1, `apiVersion "leash/v2" is not supported`},
		{"missing apiVersion", replace("apiVersion: leash/v1\n", ""), 1, "apiVersion missing"},
		{"unknown top-level key", replace("widen:", "widdle: [x]\nwiden:"), 14, `unknown key "widdle" in the profile`},
		{"unknown run key", replace("  user: demo", "  usr: demo"), 16, `unknown key "usr" in run`},
		{"unknown capability key", replace("granted: 1,", "granted: 1, gratned: 2,"), 10, `unknown key "gratned" in capabilities.needed.CAP_NET_BIND_SERVICE`},
		{"unknown run key deep", replace("      exitCode: 0", "      exitCode: 0\n      exitcode: 1"), 30, `unknown key "exitcode" in provenance.runs[0]`},
		{"duplicate top-level key", replace("widen: [go-runtime]", "widen: [go-runtime]\nwiden: []"), 15, `duplicate key "widen" in the profile (first at line 14)`},
		{"duplicate syscall", replace("    read: /bin/demo", "    read: /bin/demo\n    read: /bin/other"), 6, `duplicate key "read" in syscalls.x86_64`},
		{"duplicate capability", replace("    CAP_NET_BIND_SERVICE: {granted: 1, by: /bin/demo}", "    CAP_NET_BIND_SERVICE: {granted: 1}\n    CAP_NET_BIND_SERVICE: {granted: 2}"), 11, `duplicate key "CAP_NET_BIND_SERVICE"`},
		{"capability in two groups", replace("capabilities:\n  needed:", "capabilities:\n  denied:\n    CAP_NET_BIND_SERVICE: {denied: 1}\n  needed:"), 10, "capability CAP_NET_BIND_SERVICE is listed both as needed and as denied"},
		{"unknown ABI", replace("  i386:", "  x32:"), 6, `unknown ABI "x32"`},
		{"unknown syscall", replace("    read: /bin/demo", "    raed: /bin/demo"), 5, `unknown x86_64 syscall "raed"`},
		{"syscall of another ABI", replace("    exit: /bin/demo", "    newfstatat: /bin/demo"), 7, `unknown i386 syscall "newfstatat"`},
		{"unknown capability", replace("CAP_NET_BIND_SERVICE", "CAP_NET_BIND"), 10, `unknown capability "CAP_NET_BIND"`},
		{"capability without prefix", replace("CAP_NET_BIND_SERVICE", "NET_BIND_SERVICE"), 10, `unknown capability "NET_BIND_SERVICE"`},
		{"unknown family", replace("AF_INET:", "AF_INTE:"), 12, `unknown address family "AF_INTE"`},
		{"unknown socket type", replace("[SOCK_STREAM]", "[SOCK_STREAM, SOCK_STRAEM]"), 12, `unknown socket type "SOCK_STRAEM"`},
		{"duplicate socket type", replace("[SOCK_STREAM]", "[SOCK_STREAM, SOCK_STREAM]"), 12, `duplicate socket type "SOCK_STREAM" in families.AF_INET.types`},
		{"unknown namespace", replace("namespaces: [net]", "namespaces: [network]"), 13, `unknown namespace "network"`},
		{"duplicate namespace", replace("namespaces: [net]", "namespaces: [net, net]"), 13, `duplicate namespace "net"`},
		{"unknown run namespace", replace("  namespaces: [ipc]", "  namespaces: [ipc, docker]"), 17, `unknown namespace "docker"`},
		{"unknown widening", replace("widen: [go-runtime]", "widen: [rust-runtime]"), 14, `unknown widening "rust-runtime"`},
		{"duplicate widening", replace("widen: [go-runtime]", "widen: [go-runtime, go-runtime]"), 14, `duplicate widening "go-runtime"`},
		{"unknown defaultAction", replace("defaultAction: errno", "defaultAction: allow"), 18, `unknown defaultAction "allow" (want errno, kill-process or log)`},
		{"unknown protectSystem", replace("protectSystem: strict", "protectSystem: yes"), 19, `unknown protectSystem "yes"`},
		{"env without =", replace("env: [A=1]", "env: [A=1, B]"), 20, `run.env entry "B" is not NAME=VALUE`},
		{"duplicate env", replace("env: [A=1]", "env: [A=1, A=2]"), 20, "duplicate run.env variable A"},
		{"bad started", replace(`started: "2026-11-28T10:00:00Z"`, "started: yesterday"), 27, `"yesterday" is not an RFC 3339 time`},
		{"bad duration", replace("duration: 1.5s", "duration: 1.5 seconds"), 28, `"1.5 seconds" is not a duration`},
		{"executable without path", replace("    - path: /bin/demo", "    - path: \"\""), 31, "executable without a path"},
		{"short sha256", replace("sha256: 0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef", "sha256: 0123"), 32, `sha256 "0123" is not 64 lowercase hex digits`},
		{"duplicate executable", replace("  executables:\n", "  executables:\n    - {path: /bin/demo, sha256: 0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef}\n"), 32, "duplicate executable /bin/demo"},
		{"string for a mapping", replace("run:\n  user: demo", "run: fast\nx:\n  user: demo"), 15, "run: want a mapping, got the string \"fast\""},
		{"list for a string", replace("component: demo", "component: [demo]"), 2, "component: want a string, got a list"},
		{"mapping for a list", replace("namespaces: [net]", "namespaces: {net: true}"), 13, "namespaces: want a list, got a mapping"},
		{"string for an integer", replace("exitCode: 0", "exitCode: zero"), 29, `provenance.runs[0].exitCode: want an integer, got the string "zero"`},
		{"negative count", replace("granted: 1,", "granted: -1,"), 10, "granted: -1 is out of range"},
		{"huge count", replace("granted: 1,", "granted: 99999999999999999999999,"), 10, "want an integer"},
		{"string for a bool", replace("  defaultAction: errno", "  privateTmp: yes please"), 18, "privateTmp: want true or false"},
		{"anchor and alias", replace("  user: demo", "  user: &u demo\n  group: *u"), 16, "anchors and aliases are not allowed"},
		{"merge key", replace("run:\n", "run:\n  <<: {user: x}\n"), 16, "merge keys (<<) are not allowed"},
		{"custom tag", replace("component: demo", "component: !secret demo"), 2, "custom tag !secret is not allowed"},
		{"binary string", replace("component: demo", "component: !!binary ZGVtbw=="), 2, "component: want a string"},
		{"non-string key", replace("  x86_64:", "  [x86_64]:"), 4, "keys must be plain strings"},
		{"control character", replace("component: demo", `component: "de\u0007mo"`), 2, "control character"},
		{"null list item", replace("namespaces: [net]", "namespaces: [net, ~]"), 13, "namespaces[1]: empty list item"},
		{"null run", replace("  runs:\n", "  runs:\n    - ~\n"), 23, "provenance.runs[0]: empty list item"},
		{"slash in syscall name", replace("    read: /bin/demo", "    a/b: /bin/demo"), 5, `unknown x86_64 syscall "a/b"`},
		{"control character in key", replace("    read: /bin/demo", "    \"re\\tad\": /bin/demo"), 5, "control character in key"},
		{"protocols outside AF_NETLINK", replace("{types: [SOCK_STREAM], by", "{types: [SOCK_STREAM], protocols: [NETLINK_ROUTE], by"), 12, "families.AF_INET.protocols: only AF_NETLINK lists protocols"},
		{"empty protocols outside AF_NETLINK", replace("{types: [SOCK_STREAM], by", "{types: [SOCK_STREAM], protocols: [], by"), 12, "only AF_NETLINK lists protocols"},
		{"unknown netlink protocol", replace("  AF_INET: {types: [SOCK_STREAM], by: /bin/demo}", "  AF_INET: {types: [SOCK_STREAM], by: /bin/demo}\n  AF_NETLINK:\n    types: [SOCK_RAW]\n    protocols:\n      - NETLINK_ROUTE\n      - NETLINK_ROTUE"), 17, `unknown netlink protocol "NETLINK_ROTUE"`},
		{"netlink protocol by number", replace("  AF_INET: {types: [SOCK_STREAM], by: /bin/demo}", "  AF_INET: {types: [SOCK_STREAM], by: /bin/demo}\n  AF_NETLINK: {types: [SOCK_RAW], protocols: [\"0\"]}"), 13, `unknown netlink protocol "0"`},
		{"netlink protocol without prefix", replace("  AF_INET: {types: [SOCK_STREAM], by: /bin/demo}", "  AF_INET: {types: [SOCK_STREAM], by: /bin/demo}\n  AF_NETLINK: {types: [SOCK_RAW], protocols: [AUDIT]}"), 13, `unknown netlink protocol "AUDIT"`},
		{"duplicate netlink protocol", replace("  AF_INET: {types: [SOCK_STREAM], by: /bin/demo}", "  AF_INET: {types: [SOCK_STREAM], by: /bin/demo}\n  AF_NETLINK: {types: [SOCK_RAW], protocols: [NETLINK_AUDIT, NETLINK_ROUTE, NETLINK_AUDIT]}"), 13, `duplicate netlink protocol "NETLINK_AUDIT" in families.AF_NETLINK.protocols`},
		{"empty netlink protocols", replace("  AF_INET: {types: [SOCK_STREAM], by: /bin/demo}", "  AF_INET: {types: [SOCK_STREAM], by: /bin/demo}\n  AF_NETLINK:\n    types: [SOCK_RAW]\n    protocols: []"), 15, "families.AF_NETLINK.protocols is empty: list the netlink protocols, or leave the key out for any protocol"},
		{"null netlink protocols", replace("  AF_INET: {types: [SOCK_STREAM], by: /bin/demo}", "  AF_INET: {types: [SOCK_STREAM], by: /bin/demo}\n  AF_NETLINK:\n    types: [SOCK_RAW]\n    protocols: ~"), 15, "families.AF_NETLINK.protocols is empty"},
		{"protocols not a list", replace("  AF_INET: {types: [SOCK_STREAM], by: /bin/demo}", "  AF_INET: {types: [SOCK_STREAM], by: /bin/demo}\n  AF_NETLINK: {types: [SOCK_RAW], protocols: NETLINK_ROUTE}"), 13, "families.AF_NETLINK.protocols: want a list"},
		{"protocol key misspelt", replace("  AF_INET: {types: [SOCK_STREAM], by: /bin/demo}", "  AF_INET: {types: [SOCK_STREAM], by: /bin/demo}\n  AF_NETLINK: {types: [SOCK_RAW], protocol: [NETLINK_ROUTE]}"), 13, `unknown key "protocol" in families.AF_NETLINK (known: types, protocols, by)`},
		{"first problem in file order", strings.Replace(replace("CAP_NET_BIND_SERVICE", "CAP_X"), "namespaces: [net]", "namespaces: [nett]", 1), 10, `unknown capability "CAP_X" (and 1 more problem)`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, err := Parse("bad.yaml", []byte(tt.data))
			if err == nil {
				t.Fatalf("accepted: %+v", p)
			}
			var pe *Error
			if !errors.As(err, &pe) || !errors.Is(err, ErrInvalid) {
				t.Fatalf("error %v (%T) is not a *profiles.Error", err, err)
			}
			if pe.File != "bad.yaml" {
				t.Errorf("File = %q", pe.File)
			}
			if tt.line != 0 && pe.Line != tt.line {
				t.Errorf("line %d, want %d: %v", pe.Line, tt.line, err)
			}
			if !strings.Contains(pe.Msg, tt.msg) {
				t.Errorf("message %q does not contain %q", pe.Msg, tt.msg)
			}
			if strings.ContainsAny(err.Error(), "\n\r") || pe.Msg == "" {
				t.Errorf("message is not one non-empty line: %q", err.Error())
			}
			if !strings.HasPrefix(err.Error(), "bad.yaml:") {
				t.Errorf("message does not start with the file: %q", err.Error())
			}
		})
	}
}

// TestParseErrorDeterministic: with several problems in maps (iterated in
// random order), the same one is reported every time: the first by line.
func TestParseErrorDeterministic(t *testing.T) {
	data := strings.Replace(good, "    read: /bin/demo", "    zz1: x\n    zz2: x\n    zz3: x\n    zz4: x", 1)
	first := ""
	for i := 0; i < 20; i++ {
		_, err := Parse("bad.yaml", []byte(data))
		if err == nil {
			t.Fatal("accepted")
		}
		if first == "" {
			first = err.Error()
		} else if err.Error() != first {
			t.Fatalf("error changed between runs: %q then %q", first, err.Error())
		}
	}
	if want := `bad.yaml:5: unknown x86_64 syscall "zz1" (and 3 more problems)`; first != want {
		t.Errorf("got %q, want %q", first, want)
	}
}

func TestLoadErrors(t *testing.T) {
	dir := t.TempDir()
	if _, err := Load(filepath.Join(dir, "missing.yaml")); err == nil || errors.Is(err, ErrInvalid) {
		t.Errorf("missing file: %v (want a read error, not ErrInvalid)", err)
	}
	big := filepath.Join(dir, "big.yaml")
	if err := os.WriteFile(big, make([]byte, MaxSize+1), 0o644); err != nil {
		t.Fatal(err)
	}
	_, err := Load(big)
	if !errors.Is(err, ErrInvalid) || !strings.Contains(err.Error(), big+": larger than") {
		t.Errorf("big file: %v", err)
	}
}

// TestParseTestdata: every profile in the repository's testdata loads.
func TestParseTestdata(t *testing.T) {
	for _, f := range testdataProfiles(t) {
		if _, err := Load(f); err != nil {
			t.Errorf("%v", err)
		}
	}
}

// TestParseHandoffs: a run's handoffs name an executable and one of the
// known ways of leaving; they are a set.
func TestParseHandoffs(t *testing.T) {
	const at = "      exitCode: 0\n"
	tests := []struct {
		name, handoffs, msg string
	}{
		{"leash", "      handoffs:\n        - {executable: /usr/bin/leash, how: leash}\n", ""},
		{"announced", "      handoffs:\n        - {executable: /opt/x, how: announced}\n", ""},
		{"both", "      handoffs:\n        - {executable: /opt/x, how: announced}\n        - {executable: /usr/bin/leash, how: leash}\n", ""},
		{"unknown how", "      handoffs:\n        - {executable: /opt/x, how: forked}\n", `unknown how "forked"`},
		{"no executable", "      handoffs:\n        - {how: leash}\n", "has no executable"},
		{"duplicate", "      handoffs:\n        - {executable: /opt/x, how: announced}\n        - {executable: /opt/x, how: announced}\n", "duplicate handoff /opt/x"},
		{"unknown key", "      handoffs:\n        - {executable: /opt/x, how: leash, pid: 3}\n", `unknown key "pid"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			data := strings.Replace(good, at, at+tt.handoffs, 1)
			p, err := Parse("h.yaml", []byte(data))
			if tt.msg == "" {
				if err != nil {
					t.Fatal(err)
				}
				if len(p.Provenance.Runs[0].Handoffs) == 0 || !reflect.DeepEqual(p.Handoffs(), p.Provenance.Runs[0].Handoffs) {
					t.Errorf("handoffs %+v not kept sorted", p.Provenance.Runs[0].Handoffs)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.msg) {
				t.Errorf("error %v, want one containing %q", err, tt.msg)
			}
		})
	}
}
