//go:build linux

package e2e

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/leash-project/leash/profiles"
)

// TestRealPrograms learns and confines each program in turn, then prints
// the profile size table.
func TestRealPrograms(t *testing.T) {
	requireSuite(t)
	for _, b := range batches() {
		t.Run(b.name, func(t *testing.T) { testBatch(t, b) })
	}
	t.Run("nginx", testNginx)
	t.Run("redis", testRedis)

	resultsMu.Lock()
	rows := slices.Clone(results)
	resultsMu.Unlock()
	md := table(rows, time.Since(suiteStart))
	t.Logf("profile sizes:\n%s", md)
	if *flagWrite {
		if err := os.WriteFile("results.md", []byte(resultsHeader+md+jobsSection()), 0o644); err != nil {
			t.Fatal(err)
		}
		if err := writeReadme(); err != nil { // README.md quotes the table
			t.Fatal(err)
		}
	}
}

const resultsHeader = `# End-to-end results

Written by ` + "`LEASH_E2E=1 go test ./e2e -e2e.write`" + ` (as root). Each program was learned
with ` + "`leash learn`" + ` on a training job; then a different job ran confined with
` + "`leash run --default-action errno`" + ` and had to match the same job run unconfined:
stdout, stderr (less leash's own report of answered syscalls) and exit
status, and the files it left. Normalized, as inherently variable: the
scratch folder's path, and in server logs the time, pids and connection
numbers. The last column lists the syscalls leash run reported answering
with an error during the test job (clone3 is answered ENOSYS by design, so
that libc falls back to clone, whose flags the filter can check).

`

// jobsSection lists every program's training and test jobs.
func jobsSection() string {
	var b strings.Builder
	b.WriteString("\n## Jobs\n\nExit status of the unconfined run in brackets where it is not 0.\n\n")
	quote := func(argv []string, want int) string {
		s := "`" + shellJoin(argv) + "`"
		if want != 0 {
			s += fmt.Sprintf(" [%d]", want)
		}
		return s
	}
	for _, bt := range batches() {
		var train, test, controls []string
		for _, a := range bt.train {
			train = append(train, quote(a, 0))
		}
		for _, j := range bt.jobs {
			switch {
			case j.deny != "":
				controls = append(controls, quote(j.argv, j.want)+" must fail with "+j.deny+" denied")
			case j.plain:
				test = append(test, quote(j.argv, j.want)+" (unconfined in both: checks the output)")
			case j.stdin != "":
				test = append(test, quote(j.argv, j.want)+" (reading stdin)")
			default:
				test = append(test, quote(j.argv, j.want))
			}
		}
		fmt.Fprintf(&b, "- **%s**, as %s in namespaces %s: trained on %s; tested on %s.", bt.name, bt.user, strings.Join(bt.namespaces, ","), strings.Join(train, ", "), strings.Join(test, ", "))
		if len(controls) > 0 {
			fmt.Fprintf(&b, " Control: %s.", strings.Join(controls, ", "))
		}
		b.WriteString("\n")
	}
	reqs := func(rs []request) string {
		var l []string
		for _, r := range rs {
			l = append(l, r.method+" "+r.path)
		}
		return strings.Join(l, ", ")
	}
	fmt.Fprintf(&b, "- **nginx**, master as root on 127.0.0.1 port 80 (or the first free port below 1024), 2 workers dropping to www-data: trained on %s; tested on %s (answers 200, 206, 301, 403, 404, 405).\n", reqs(nginxTrain), reqs(nginxTest))
	fmt.Fprintf(&b, "- **redis-server**, as redis in namespaces ipc,uts on a free loopback port, driven by redis-cli: trained on %d commands, tested on %d others (including a WRONGTYPE error and an unknown command), each ended by SHUTDOWN NOSAVE.\n",
		strings.Count(redisTrain, "\n"), strings.Count(redisTest, "\n"))
	return b.String()
}

// batch is a program run as a sequence of commands in a work folder.
type batch struct {
	name, pkg string
	bins      []string // executables the jobs need
	// user runs the component as this user: learned with --user, the
	// unconfined jobs with its uid/gid, and run.user in the profile.
	user string
	// namespaces go in run.namespaces: an operator gives a job that needs
	// no network an empty network namespace, and its own IPC and UTS.
	namespaces []string
	widen      []string
	testdata   string                         // folder copied into every work folder
	setup      func(t *testing.T, dir string) // more inputs, made in every work folder
	train      [][]string                     // training commands, learned one by one and merged
	jobs       []job                          // the test job
	rules      []rule                         // more normalization
}

// job is one command of a test job.
type job struct {
	argv  []string
	stdin string
	want  int // exit status the unconfined run must have
	// plain runs the command unconfined in both work folders: it checks
	// what the confined commands produced (e.g. runs the binary gcc built).
	plain bool
	// deny makes the job a control: it does what training never did, a
	// call of this syscall, which the filter must answer with EPERM, so
	// the confined run must fail where the unconfined one exited want.
	deny string
}

// nobody runs the batch jobs: a user that owns nothing on the system.
const nobody = "nobody"

var offline = []string{"ipc", "net", "pid", "uts"}

func batches() []batch {
	return []batch{
		{
			name: "gcc", pkg: "gcc", bins: []string{"gcc", "as", "ld"},
			user: nobody, namespaces: offline, testdata: "gcc",
			train: [][]string{{"gcc", "-O2", "-Wall", "-o", "stats", "main.c", "util.c", "-lm"}},
			jobs: []job{
				{argv: []string{"gcc", "-O1", "-Wall", "-o", "calc", "calc.c", "-lm"}},
				{argv: []string{"./calc", "3", "4", "12", "-1.5"}, plain: true},
				{argv: []string{"gcc", "-Wall", "-c", "bad.c"}, want: 1},
				{argv: []string{"gcc", "-O0", "-S", "-o", "calc.s", "calc.c"}},
				{argv: []string{"gcc", "-o", "nothere", "nothere.c"}, want: 1},
			},
		},
		{
			// --sort=name: archives must not depend on the order the
			// file system lists a folder in, which differs between the
			// twin work folders.
			name: "tar", pkg: "tar, gzip", bins: []string{"tar", "gzip"},
			user: nobody, namespaces: offline, setup: tarSetup,
			train: [][]string{
				{"tar", "--sort=name", "-czf", "train.tgz", "src"},
				{"tar", "tzvf", "train.tgz"},
				{"tar", "xzf", "train.tgz", "-C", "out"},
			},
			jobs: []job{
				{argv: []string{"tar", "--sort=name", "-czf", "docs.tgz", "docs"}},
				{argv: []string{"tar", "tzvf", "docs.tgz"}},
				{argv: []string{"tar", "xzf", "docs.tgz", "-C", "restore"}},
				{argv: []string{"tar", "--sort=name", "-czf", "missing.tgz", "docs", "no-such-file"}, want: 2},
				{argv: []string{"tar", "xzf", "corrupt.tgz"}, want: 2},
			},
		},
		{
			name: "python3", pkg: "python3", bins: []string{"/usr/bin/python3", "wc"},
			user: nobody, namespaces: offline, testdata: "python",
			train: [][]string{{"/usr/bin/python3", "report.py", "-o", "out/train.json", "train/zen.txt", "train/lorem.txt"}},
			jobs: []job{
				{argv: []string{"/usr/bin/python3", "report.py", "-o", "reports/test.json", "test/fox.txt", "test/rfc.txt", "test/haiku.txt"}},
				{argv: []string{"/usr/bin/python3", "report.py", "-o", "reports/missing.json", "test/fox.txt", "test/missing.txt"}, want: 1},
				{argv: []string{"/usr/bin/python3", "report.py", "-o", "reports/latin1.json", "test/latin1.txt"}, want: 1},
				{argv: []string{"/usr/bin/python3", "report.py", "test/fox.txt"}, want: 2},
				// Control: the report never opened a socket.
				{argv: []string{"/usr/bin/python3", "-c", "import socket; socket.socket(socket.AF_INET6, socket.SOCK_DGRAM); print('made a socket')"}, deny: "socket"},
			},
		},
		{
			// shfmt is statically linked Go: the go-runtime widening adds
			// the runtime's syscalls a short run may not reach.
			name: "shfmt", pkg: "shfmt, static Go", bins: []string{"shfmt"},
			user: nobody, namespaces: offline, widen: []string{"go-runtime"}, testdata: "shfmt",
			// Training as a CI job uses it: format a folder in place, and
			// list the repository's shell files (-f walks "." and needs
			// getcwd, which formatting a named folder does not).
			train: [][]string{
				{"shfmt", "-l", "-w", "-i", "2", "train"},
				{"shfmt", "-f", "."},
			},
			jobs: []job{
				{argv: []string{"shfmt", "-d", "-i", "4", "test"}, want: 1},
				{argv: []string{"shfmt", "bad.sh"}, want: 1},
				{argv: []string{"shfmt", "-l", "-i", "4", "."}, want: 1},
				{argv: []string{"shfmt", "-l", "-w", "-i", "4", "test"}},
				{argv: []string{"shfmt", "-d", "-i", "4", "test"}},
				{argv: []string{"shfmt", "-i", "2"}, stdin: "if true;then echo  piped;fi\n"},
			},
		},
	}
}

// tarSetup makes a tree to archive for training (src) and another for the
// test (docs), a corrupt archive, and the folders to extract into.
func tarSetup(t *testing.T, dir string) {
	t.Helper()
	for _, tree := range []struct {
		name  string
		files int
	}{{"src", 40}, {"docs", 60}} {
		for i := range tree.files {
			sub := filepath.Join(dir, tree.name, fmt.Sprintf("d%d", i%5))
			if err := os.MkdirAll(sub, 0o755); err != nil {
				t.Fatal(err)
			}
			// Repetitive but distinct content, so gzip has work to do.
			content := strings.Repeat(fmt.Sprintf("%s file %d line\n", tree.name, i), 50+i*7)
			if err := os.WriteFile(filepath.Join(sub, fmt.Sprintf("f%03d.txt", i)), []byte(content), 0o644); err != nil {
				t.Fatal(err)
			}
		}
		if err := os.Symlink("d0/f000.txt", filepath.Join(dir, tree.name, "link")); err != nil {
			t.Fatal(err)
		}
		if err := os.MkdirAll(filepath.Join(dir, tree.name, "empty"), 0o700); err != nil {
			t.Fatal(err)
		}
	}
	for _, d := range []string{"out", "restore"} {
		if err := os.Mkdir(filepath.Join(dir, d), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	// A gzip header followed by garbage.
	if err := os.WriteFile(filepath.Join(dir, "corrupt.tgz"), []byte("\x1f\x8b\x08\x00garbage, not deflate data"), 0o644); err != nil {
		t.Fatal(err)
	}
}

// checkDenied checks a control job: the confined run failed, with EPERM,
// and leash run reported the syscall.
func checkDenied(t *testing.T, what, syscallName string, conf outcome, report []string) {
	t.Helper()
	if conf.Exit == 0 {
		t.Errorf("%s: control job succeeded confined; %s should have been denied\nstdout: %s", what, syscallName, conf.Stdout)
	}
	if !strings.Contains(conf.Stderr, "Operation not permitted") {
		t.Errorf("%s: control job did not fail with EPERM\nstderr: %s", what, conf.Stderr)
	}
	// The report comes from the kernel's audit records, which the kernel
	// rate-limits (printk) when no audit daemon reads them: a missing line
	// is noted, not failed.
	if !slices.ContainsFunc(report, func(l string) bool { return strings.Contains(l, "syscall "+syscallName+" ") }) {
		t.Logf("%s: leash run did not report denying %s (kernel rate limit?); it reported:\n%s", what, syscallName, strings.Join(report, "\n"))
	}
}

// prepare makes a work folder name below base with b's inputs, owned by b's
// user.
func prepare(t *testing.T, base, name string, b batch) string {
	t.Helper()
	dir := filepath.Join(base, name)
	if err := os.Mkdir(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	if b.testdata != "" {
		src, err := filepath.Abs(filepath.Join("testdata", b.testdata))
		if err != nil {
			t.Fatal(err)
		}
		copyTree(t, src, dir)
	}
	if b.setup != nil {
		b.setup(t, dir)
	}
	fixTimes(t, dir)
	chownTree(t, dir, b.user)
	return dir
}

func testBatch(t *testing.T, b batch) {
	requireTools(t, b.bins...)
	base := newBase(t)

	// Train: each command learned on its own, the profiles merged.
	trainDir := prepare(t, base, "train", b)
	var parts []string
	for i, argv := range b.train {
		out := filepath.Join(base, fmt.Sprintf("train-%d.yaml", i))
		res := runJob(t, trainDir, nil, "", learnArgv(out, b.name, b.user, argv))
		if res.Exit != 0 {
			t.Fatalf("learn %s: exit %d\nstdout: %s\nstderr: %s", shellJoin(argv), res.Exit, res.Stdout, res.Stderr)
		}
		parts = append(parts, out)
	}
	killStragglers(t, trainDir)
	p := mergeProfiles(t, parts)
	// The operator's edits to the run section (see batch's fields).
	p.Run.User = b.user
	p.Run.Namespaces = b.namespaces
	p.Widen = b.widen
	profile := filepath.Join(base, b.name+".yaml")
	saveProfile(t, profile, p)

	// Test: the same job unconfined and confined, in twin work folders.
	plainDir := prepare(t, base, "plain", b)
	confDir := prepare(t, base, "confined", b)
	normPlain := normalizer{dir: plainDir, rules: b.rules}
	normConf := normalizer{dir: confDir, rules: b.rules}
	cred := credential(t, b.user)
	matched := 0
	var denied []string
	for _, j := range b.jobs {
		what := shellJoin(j.argv)
		plain := runJob(t, plainDir, cred, j.stdin, j.argv)
		if plain.Exit != j.want {
			t.Fatalf("%s (unconfined): exit %d, want %d\nstdout: %s\nstderr: %s", what, plain.Exit, j.want, plain.Stdout, plain.Stderr)
		}
		var conf outcome
		if j.plain {
			conf = runJob(t, confDir, cred, j.stdin, j.argv)
		} else {
			var report []string
			conf, report = splitReport(runJob(t, confDir, nil, j.stdin, runArgv(profile, j.argv)))
			if j.deny != "" {
				checkDenied(t, what, j.deny, conf, report)
				continue
			}
			denied = noteReport(t, what, report, denied)
		}
		if sameOutcome(t, what, normPlain.outcome(plain), normConf.outcome(conf)) && !j.plain {
			matched++
		}
	}
	killStragglers(t, plainDir)
	killStragglers(t, confDir)
	if a, c := treeDigest(t, plainDir), treeDigest(t, confDir); a != c {
		t.Errorf("work folders differ after the job:\n%s", lineDiff(a, c))
	}
	r := rowOf(b.name, b.pkg, p)
	r.Jobs = matched
	r.Denied = denied
	record(r)
}

// nginx: a web server that binds a privileged port as root and drops its
// workers to www-data.

func nginxPrepare(t *testing.T, base, name string, port int) string {
	t.Helper()
	dir := filepath.Join(base, name)
	if err := os.Mkdir(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	src, err := filepath.Abs("testdata/nginx")
	if err != nil {
		t.Fatal(err)
	}
	copyTree(t, src, dir)
	// Large files go out with sendfile.
	big := bytes.Repeat([]byte("0123456789abcdef"), 1<<14) // 256 KiB
	for name, data := range map[string][]byte{"www/big.bin": big, "www/docs/big2.bin": append(big, big...)} {
		if err := os.WriteFile(filepath.Join(dir, name), data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.Mkdir(filepath.Join(dir, "tmp"), 0o755); err != nil {
		t.Fatal(err)
	}
	conf := fmt.Sprintf(`# leash e2e: nginx as it runs in production, on loopback.
user www-data www-data;
worker_processes 2;
daemon off;
master_process on;
pid %[1]s/nginx.pid;
error_log stderr warn;
events { worker_connections 64; }
http {
	include /etc/nginx/mime.types;
	default_type application/octet-stream;
	access_log %[1]s/access.log;
	sendfile on;
	client_body_temp_path %[1]s/tmp/body;
	proxy_temp_path %[1]s/tmp/proxy;
	fastcgi_temp_path %[1]s/tmp/fastcgi;
	uwsgi_temp_path %[1]s/tmp/uwsgi;
	scgi_temp_path %[1]s/tmp/scgi;
	server {
		listen 127.0.0.1:%[2]d;
		server_name localhost;
		root %[1]s/www;
	}
}
`, dir, port)
	if err := os.WriteFile(filepath.Join(dir, "nginx.conf"), []byte(conf), 0o644); err != nil {
		t.Fatal(err)
	}
	fixTimes(t, dir)
	return dir
}

func nginxArgv(dir string) []string {
	return []string{"nginx", "-e", "stderr", "-p", dir, "-c", filepath.Join(dir, "nginx.conf")}
}

// request is one HTTP request of a job.
type request struct {
	method, path string
	header       map[string]string
	body         string
}

var (
	nginxTrain = []request{
		{method: "GET", path: "/"},
		{method: "GET", path: "/about.html"},
		{method: "GET", path: "/style.css"},
		{method: "GET", path: "/big.bin"},
		{method: "GET", path: "/missing.html"},
		{method: "HEAD", path: "/about.html"},
	}
	nginxTest = []request{
		{method: "GET", path: "/docs/guide.html"},
		{method: "GET", path: "/data.json"},
		{method: "GET", path: "/docs/big2.bin"},
		{method: "GET", path: "/nope"},
		{method: "GET", path: "/private/"},
		{method: "GET", path: "/docs"},
		{method: "HEAD", path: "/"},
		{method: "GET", path: "/big.bin", header: map[string]string{"Range": "bytes=100-199"}},
		{method: "POST", path: "/", body: "a=1"},
		{method: "GET", path: "/index.html", header: map[string]string{"If-None-Match": `"` + "x" + `"`}},
	}
)

// fetch runs requests against 127.0.0.1:port and returns a transcript:
// status, the headers that do not carry the time of day, and a hash of
// the body.
func fetch(t *testing.T, port int, reqs []request) string {
	t.Helper()
	client := &http.Client{
		Timeout: 10 * time.Second,
		// A redirect is part of the transcript, not something to follow.
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
	var b strings.Builder
	for _, r := range reqs {
		req, err := http.NewRequest(r.method, fmt.Sprintf("http://127.0.0.1:%d%s", port, r.path), strings.NewReader(r.body))
		if err != nil {
			t.Fatal(err)
		}
		for k, v := range r.header {
			req.Header.Set(k, v)
		}
		resp, err := client.Do(req)
		if err != nil {
			t.Fatalf("%s %s: %v", r.method, r.path, err)
		}
		body, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		if err != nil {
			t.Fatalf("%s %s: read body: %v", r.method, r.path, err)
		}
		sum := sha256.Sum256(body)
		fmt.Fprintf(&b, "%s %s -> %s len=%d sha256=%s", r.method, r.path, resp.Status, len(body), hex.EncodeToString(sum[:8]))
		// Date is the time of day; Last-Modified and ETag come from the
		// files' fixed mtimes and are compared.
		for _, h := range []string{"Content-Type", "Content-Length", "Content-Range", "Last-Modified", "ETag", "Location", "Server"} {
			if v := resp.Header.Get(h); v != "" {
				fmt.Fprintf(&b, " %s=%q", h, v)
			}
		}
		b.WriteByte('\n')
	}
	return b.String()
}

// nginxLog strips what varies in nginx's error log: time, pid#tid and the
// connection number.
var nginxLog = []rule{{regexp.MustCompile(`(?m)^\d{4}/\d\d/\d\d \d\d:\d\d:\d\d \[(\w+)\] \d+#\d+: (\*\d+ )?`), "[$1] "}}

// stopNginx asks the master for a graceful stop (SIGQUIT, as `nginx -s
// quit` does) and waits for it.
func stopNginx(t *testing.T, dir string, s *server) int {
	t.Helper()
	pid := readPid(t, filepath.Join(dir, "nginx.pid"))
	if err := syscall.Kill(pid, syscall.SIGQUIT); err != nil {
		t.Fatalf("stop nginx %d: %v", pid, err)
	}
	code := s.wait(t)
	killStragglers(t, dir)
	return code
}

// children returns the pids whose parent is pid.
func children(pid int) []int {
	var kids []int
	ents, _ := os.ReadDir("/proc")
	for _, e := range ents {
		stat, err := os.ReadFile(filepath.Join("/proc", e.Name(), "stat"))
		if err != nil {
			continue
		}
		// pid (comm) state ppid ...: comm may hold spaces, so cut at ')'.
		i := bytes.LastIndexByte(stat, ')')
		if i < 0 {
			continue
		}
		f := strings.Fields(string(stat[i+1:]))
		if len(f) > 1 && f[1] == strconv.Itoa(pid) {
			if k, err := strconv.Atoi(e.Name()); err == nil {
				kids = append(kids, k)
			}
		}
	}
	return kids
}

// waitPidFile waits for a server's pid file.
func waitPidFile(t *testing.T, path string, s *server) {
	t.Helper()
	deadline := time.Now().Add(serverTimeout)
	for time.Now().Before(deadline) && !s.exited() {
		if data, err := os.ReadFile(path); err == nil && strings.HasSuffix(string(data), "\n") {
			return
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatalf("%s: no pid file %s\nstderr: %s", shellJoin(s.argv), path, s.stderr.String())
}

func testNginx(t *testing.T) {
	requireTools(t, "nginx")
	wwwUID, _ := lookupUser(t, "www-data")
	port := privilegedPort(t)
	base := newBase(t)
	profile := filepath.Join(base, "nginx.yaml")

	// Train.
	dir := nginxPrepare(t, base, "train", port)
	s := startServer(t, dir, nil, learnArgv(profile, "nginx", "", nginxArgv(dir)))
	waitPort(t, s, port)
	waitPidFile(t, filepath.Join(dir, "nginx.pid"), s)
	fetch(t, port, nginxTrain)
	if code := stopNginx(t, dir, s); code != 0 {
		t.Fatalf("leash learn nginx: exit %d\nstderr: %s", code, s.stderr.String())
	}
	p, err := profiles.Load(profile)
	if err != nil {
		t.Fatal(err)
	}
	checkLearned(t, p)
	// No edit: the master stays root (it binds port 80 and drops its
	// workers itself), held to the capabilities it was seen to need.
	saveProfile(t, profile, p)

	// Test: unconfined, then confined.
	type result struct {
		transcript string
		exit       int
		stdout     string
		stderr     string
		report     []string
		workers    []string
	}
	job := func(name string, confined bool) result {
		dir := nginxPrepare(t, base, name, port)
		argv := nginxArgv(dir)
		if confined {
			argv = runArgv(profile, argv)
		}
		s := startServer(t, dir, nil, argv)
		waitPort(t, s, port)
		waitPidFile(t, filepath.Join(dir, "nginx.pid"), s)
		var r result
		r.transcript = fetch(t, port, nginxTest)
		// The master listens before it forks the workers, and a worker is
		// root until it runs its init: on a busy machine that can be after
		// the first requests. Wait (bounded) for both to have dropped.
		master := readPid(t, filepath.Join(dir, "nginx.pid"))
		var kids []int
		for deadline := time.Now().Add(serverTimeout); ; time.Sleep(20 * time.Millisecond) {
			kids = children(master)
			r.workers = nil
			for _, w := range kids {
				st := procStatus(t, w)
				r.workers = append(r.workers, strings.Fields(st["Uid"])[0]+" "+st["Name"])
			}
			if len(kids) == 2 && !slices.ContainsFunc(r.workers, func(u string) bool { return strings.HasPrefix(u, "0 ") }) || time.Now().After(deadline) {
				break
			}
		}
		if confined {
			for _, w := range kids {
				checkConfined(t, "nginx worker", w, p, "")
			}
		}
		if confined {
			checkConfined(t, "nginx master", master, p, "0")
		}
		r.exit = stopNginx(t, dir, s)
		n := normalizer{dir: dir, rules: nginxLog}
		o, report := splitReport(outcome{Stderr: s.stderr.String()})
		r.stdout, r.stderr, r.report = n.apply(s.stdout.String()), n.apply(o.Stderr), report
		return r
	}
	plain := job("plain", false)
	conf := job("confined", true)
	if plain.exit != 0 {
		t.Fatalf("nginx (unconfined): exit %d\nstderr: %s", plain.exit, plain.stderr)
	}
	t.Logf("nginx test job, unconfined:\n%s", plain.transcript)
	if !strings.Contains(plain.transcript, "404 Not Found") || !strings.Contains(plain.transcript, "403 Forbidden") {
		t.Fatalf("nginx (unconfined): the job misses its error paths:\n%s", plain.transcript)
	}
	want := strconv.Itoa(int(wwwUID)) + " nginx"
	for _, u := range conf.workers {
		if u != want {
			t.Errorf("confined nginx worker runs as uid/name %q, want %q (www-data)", u, want)
		}
	}
	if len(conf.workers) != 2 {
		t.Errorf("confined nginx has %d workers, want 2", len(conf.workers))
	}
	ok := sameOutcome(t, "nginx server", outcome{plain.exit, plain.stdout, plain.stderr}, outcome{conf.exit, conf.stdout, conf.stderr})
	if plain.transcript != conf.transcript {
		ok = false
		t.Errorf("nginx responses differ\nconfined:\n%s\nunconfined:\n%s", conf.transcript, plain.transcript)
	}
	r := rowOf("nginx", "nginx-light", p)
	r.Denied = noteReport(t, "nginx", conf.report, nil)
	if ok {
		r.Jobs = len(nginxTest)
	}
	record(r)
}

// redis: a key-value server run as its own user, driven by redis-cli.

func redisArgv(dir string, port int) []string {
	return []string{"redis-server", "--bind", "127.0.0.1", "--port", strconv.Itoa(port),
		"--save", "", "--appendonly", "no", "--daemonize", "no", "--dir", dir,
		"--loglevel", "warning", "--logfile", "", "--pidfile", filepath.Join(dir, "redis.pid")}
}

// redisLog strips the pid, role and time of redis's log lines, and the pid
// it prints at start.
var redisLog = []rule{
	{regexp.MustCompile(`(?m)^\d+:([A-Z]) \d\d \w{3} \d{4} \d\d:\d\d:\d\d\.\d{3} `), "$1 "},
	{regexp.MustCompile(`pid=\d+`), "pid=PID"},
}

const (
	redisTrain = `PING
SET greeting hello
GET greeting
INCR counter
INCRBY counter 41
LPUSH queue a b c
LRANGE queue 0 -1
HSET user:1 name ada lang c
HGETALL user:1
EXPIRE greeting 100
TTL greeting
DEL greeting
GET greeting
INCR queue
DBSIZE
`
	redisTest = `MSET k1 v1 k2 v2 k3 v3
MGET k1 k2 k3 nope
APPEND k1 -more
STRLEN k1
SADD tags red green blue green
SCARD tags
SISMEMBER tags red
ZADD board 3 carol 1 alice 2 bob
ZRANGE board 0 -1 WITHSCORES
RPUSH list x y
INCR list
HGET list field
GET k1
NOSUCHCOMMAND arg
EXISTS k2 nope
FLUSHDB
DBSIZE
`
)

func testRedis(t *testing.T) {
	requireTools(t, "redis-server", "redis-cli")
	const usr = "redis"
	cred := credential(t, usr)
	port := freePort(t)
	base := newBase(t)
	profile := filepath.Join(base, "redis.yaml")

	mkdir := func(name string) string {
		dir := filepath.Join(base, name)
		if err := os.Mkdir(dir, 0o755); err != nil {
			t.Fatal(err)
		}
		chownTree(t, dir, usr)
		return dir
	}
	cli := func(dir, stdin string, args ...string) outcome {
		argv := append([]string{"redis-cli", "-p", strconv.Itoa(port)}, args...)
		return runJob(t, dir, nil, stdin, argv)
	}
	stop := func(dir string, s *server) int {
		if o := cli(dir, "", "SHUTDOWN", "NOSAVE"); o.Exit != 0 {
			t.Errorf("redis-cli shutdown: exit %d: %s%s", o.Exit, o.Stdout, o.Stderr)
		}
		code := s.wait(t)
		killStragglers(t, dir)
		return code
	}

	// Train.
	dir := mkdir("train")
	s := startServer(t, dir, nil, learnArgv(profile, "redis", usr, redisArgv(dir, port)))
	waitPort(t, s, port)
	if o := cli(dir, redisTrain); o.Exit != 0 {
		t.Fatalf("redis-cli (training): exit %d: %s", o.Exit, o.Stderr)
	}
	if code := stop(dir, s); code != 0 {
		t.Fatalf("leash learn redis-server: exit %d\nstdout: %s\nstderr: %s", code, s.stdout.String(), s.stderr.String())
	}
	p, err := profiles.Load(profile)
	if err != nil {
		t.Fatal(err)
	}
	checkLearned(t, p)
	// Operator's edit: run the server as the redis user in its own IPC
	// and UTS namespaces (it needs the host's loopback, so no net).
	p.Run.User = usr
	p.Run.Namespaces = []string{"ipc", "uts"}
	saveProfile(t, profile, p)

	var report []string // leash run's report of the confined job
	job := func(name string, confined bool) (client, server outcome) {
		dir := mkdir(name)
		argv, c := redisArgv(dir, port), cred
		if confined {
			argv, c = runArgv(profile, argv), nil
		}
		s := startServer(t, dir, c, argv)
		waitPort(t, s, port)
		waitPidFile(t, filepath.Join(dir, "redis.pid"), s)
		if confined {
			uid, _ := lookupUser(t, usr)
			checkConfined(t, "redis-server", readPid(t, filepath.Join(dir, "redis.pid")), p, strconv.Itoa(int(uid)))
		}
		client = cli(dir, redisTest)
		exit := stop(dir, s)
		n := normalizer{dir: dir, rules: redisLog}
		server, report = splitReport(n.outcome(outcome{Exit: exit, Stdout: s.stdout.String(), Stderr: s.stderr.String()}))
		return client, server
	}
	plainClient, plainServer := job("plain", false)
	confClient, confServer := job("confined", true)
	if !strings.Contains(plainClient.Stdout, "WRONGTYPE") || !strings.Contains(plainClient.Stdout, "ERR unknown command") {
		t.Fatalf("redis (unconfined): the job misses its error paths:\n%s", plainClient.Stdout)
	}
	ok := sameOutcome(t, "redis-cli", plainClient, confClient)
	ok = sameOutcome(t, "redis-server", plainServer, confServer) && ok
	r := rowOf("redis-server", "redis-server", p)
	r.Denied = noteReport(t, "redis-server", report, nil)
	if ok {
		r.Jobs = strings.Count(redisTest, "\n")
	}
	record(r)
}
