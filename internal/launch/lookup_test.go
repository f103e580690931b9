package launch

import (
	"os"
	"os/user"
	"strconv"
	"strings"
	"testing"
)

// TestLookupMatchesOSUser checks the /etc fast path against os/user for
// every entry of this host's files.
func TestLookupMatchesOSUser(t *testing.T) {
	for _, name := range etcNames(t, "/etc/passwd") {
		u, err := user.Lookup(name)
		if err != nil {
			continue
		}
		uid, gid, err := lookupUser(name)
		if err != nil || strconv.Itoa(uid) != u.Uid || strconv.Itoa(gid) != u.Gid {
			t.Errorf("lookupUser(%q) = %d, %d, %v; os/user: %s, %s", name, uid, gid, err, u.Uid, u.Gid)
		}
		if _, gid, _ := lookupUser(u.Uid); strconv.Itoa(gid) != u.Gid {
			t.Errorf("lookupUser(%q) gid %d; os/user: %s", u.Uid, gid, u.Gid)
		}
	}
	for _, name := range etcNames(t, "/etc/group") {
		g, err := user.LookupGroup(name)
		if err != nil {
			continue
		}
		if gid, err := lookupGroup(name); err != nil || strconv.Itoa(gid) != g.Gid {
			t.Errorf("lookupGroup(%q) = %d, %v; os/user: %s", name, gid, err, g.Gid)
		}
	}
	if _, _, err := lookupUser("no-such-user-leash"); err == nil {
		t.Error("lookupUser of an unknown name did not fail")
	}
}

// etcNames lists the entry names (first fields) of /etc/passwd or
// /etc/group; the test skips when the file cannot be read.
func etcNames(t *testing.T, path string) []string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Skip(err)
	}
	var names []string
	for _, line := range strings.Split(string(b), "\n") {
		name, _, _ := strings.Cut(line, ":")
		if name != "" && !strings.HasPrefix(name, "#") {
			names = append(names, name)
		}
	}
	return names
}
