package profiles

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
)

func TestShowGolden(t *testing.T) {
	for _, name := range []string{"web", "minimal", "netlink"} {
		t.Run(name, func(t *testing.T) {
			p := mustLoad(t, name+".yaml")
			var b bytes.Buffer
			if err := WriteText(&b, p); err != nil {
				t.Fatal(err)
			}
			golden(t, name+".show.txt", b.Bytes())
			j, err := json.MarshalIndent(Summarize(p), "", "  ")
			if err != nil {
				t.Fatal(err)
			}
			golden(t, name+".show.json", append(j, '\n'))
		})
	}
}

// TestSummaryContract: the keys other tools rely on are present, lists
// are [] and not null, and names are sorted.
func TestSummaryContract(t *testing.T) {
	p, err := Parse("tiny.yaml", []byte("apiVersion: leash/v1\ncomponent: tiny\n"))
	if err != nil {
		t.Fatal(err)
	}
	j, err := json.Marshal(Summarize(p))
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(j, &m); err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"syscalls", "compatSyscalls", "capabilities", "noauditCapabilities", "deniedCapabilities", "families", "namespaces", "executables"} {
		if l, ok := m[k].([]any); !ok || len(l) != 0 {
			t.Errorf("%s = %#v, want []", k, m[k])
		}
	}
	if st, ok := m["socketTypes"].(map[string]any); !ok || len(st) != 0 {
		t.Errorf("socketTypes = %#v, want {}", m["socketTypes"])
	}
	if m["component"] != "tiny" || m["incomplete"] != false || m["profile"] == nil {
		t.Errorf("component/incomplete/profile: %v %v %v", m["component"], m["incomplete"], m["profile"])
	}

	s := Summarize(mustLoad(t, "web.yaml"))
	if strings.Join(s.CompatSyscalls, " ") != "exit read socketcall" || s.Syscalls[0] != "accept4" || len(s.Syscalls) != 27 {
		t.Errorf("syscalls %v compat %v", s.Syscalls, s.CompatSyscalls)
	}
	if strings.Join(s.Capabilities, " ") != "CAP_NET_BIND_SERVICE" || strings.Join(s.DeniedCapabilities, " ") != "CAP_DAC_OVERRIDE" {
		t.Errorf("capabilities %v denied %v", s.Capabilities, s.DeniedCapabilities)
	}
	if strings.Join(s.Families, " ") != "AF_INET AF_INET6 AF_UNIX" || strings.Join(s.SocketTypes["AF_UNIX"], " ") != "SOCK_DGRAM SOCK_STREAM" {
		t.Errorf("families %v types %v", s.Families, s.SocketTypes)
	}
	if !Summarize(mustLoad(t, "minimal.yaml")).Incomplete {
		t.Error("minimal.yaml has an incomplete run")
	}
}

// TestShowProtocols: leash show lists AF_NETLINK's protocols, or says any
// protocol when none are listed; --json has them under protocols.
func TestShowProtocols(t *testing.T) {
	for _, tt := range []struct {
		protocols []string
		text      string
		json      string
	}{
		{[]string{"NETLINK_ROUTE", "NETLINK_AUDIT"}, "AF_NETLINK  SOCK_RAW, protocols NETLINK_AUDIT NETLINK_ROUTE  by /x", `"protocols":{"AF_NETLINK":["NETLINK_AUDIT","NETLINK_ROUTE"]}`},
		{nil, "AF_NETLINK  SOCK_RAW, any protocol  by /x", `"protocols":{}`},
	} {
		p := &Profile{APIVersion: APIVersion, Component: "nl", Families: map[string]Family{
			"AF_NETLINK": {Types: []string{"SOCK_RAW"}, Protocols: tt.protocols, By: "/x"},
		}}
		var b bytes.Buffer
		if err := WriteText(&b, p); err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(b.String(), tt.text) {
			t.Errorf("show lacks %q:\n%s", tt.text, b.String())
		}
		j, err := json.Marshal(Summarize(p))
		if err != nil || !strings.Contains(string(j), tt.json) {
			t.Errorf("show --json lacks %s (%v):\n%s", tt.json, err, j)
		}
	}
}
