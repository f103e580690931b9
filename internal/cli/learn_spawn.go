package cli

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/spf13/cobra"
	"golang.org/x/sys/unix"

	"github.com/leash-project/leash/learner"
	"github.com/leash-project/leash/learner/trace"
	"github.com/leash-project/leash/manifest"
	"github.com/leash-project/leash/profiles"
)

// The spawn rendezvous of leash learn -f: a spawned component starts as
// "leash spawn-stub SOCKET NAME -- CMD...". The stub (any user: it needs
// no privilege) connects to the learning leash's unix socket and says
// which component it is; leash checks the peer's pid with SO_PEERCRED,
// marks it pending in that component's session of its own tracer, and
// answers; the stub then execs CMD, which is the first thing recorded.
// The stub's own execve of leash took it out of the spawner's session
// (the tracer stops following a task that execs leash), so the spawned
// component's work goes to its own profile only.

func init() { register(1000, "spawn-stub", newSpawnStubCmd) }

func newSpawnStubCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:    "spawn-stub SOCKET NAME -- CMD [ARG...]",
		Short:  "internal: start a spawned component for leash learn -f",
		Hidden: true,
		Args:   cobra.MinimumNArgs(3),
		RunE: func(c *cobra.Command, args []string) error {
			sock, name, argv := args[0], args[1], args[2:]
			if argv[0] == "--" {
				argv = argv[1:]
			}
			if len(argv) == 0 {
				return usageError("spawn-stub: missing CMD")
			}
			path, err := exec.LookPath(argv[0])
			if err != nil {
				return Exit(127, fmt.Errorf("spawn %s: %w", name, err))
			}
			conn, err := net.Dial("unix", sock)
			if err != nil {
				return Exit(ExitLaunch, fmt.Errorf("spawn %s: reach leash learn: %w", name, err))
			}
			defer conn.Close()
			if _, err := fmt.Fprintf(conn, "%s\n", name); err != nil {
				return Exit(ExitLaunch, fmt.Errorf("spawn %s: %w", name, err))
			}
			reply, err := bufio.NewReader(conn).ReadString('\n')
			if err != nil || reply != "ok\n" {
				return Exit(ExitLaunch, fmt.Errorf("spawn %s: leash learn refused: %q %v", name, strings.TrimSpace(reply), err))
			}
			conn.Close()
			err = syscall.Exec(path, argv, os.Environ())
			return Exit(126, fmt.Errorf("spawn %s: exec %s: %w", name, path, err))
		},
	}
	cmd.Flags().SetInterspersed(false)
	return cmd
}

// spawnLearner holds the sessions of the spawned components.
type spawnLearner struct {
	tr       *trace.Tracer
	ln       *net.UnixListener
	sock     string
	sessions map[string]*trace.Session
	comps    map[string]manifest.Component
	started  time.Time
	warn     io.Writer
	done     chan struct{}
	wg       sync.WaitGroup
}

func startSpawnLearner(m *manifest.Manifest, dir string, warn io.Writer) (*spawnLearner, error) {
	tr, err := trace.Open(trace.Options{})
	if err != nil {
		return nil, err
	}
	s := &spawnLearner{tr: tr, sessions: map[string]*trace.Session{}, comps: map[string]manifest.Component{},
		started: time.Now(), warn: warn, done: make(chan struct{}), sock: filepath.Join(dir, "spawn.sock")}
	for _, c := range m.Components {
		if c.SpawnedBy == "" {
			continue
		}
		sess, err := tr.NewSession()
		if err != nil {
			s.close()
			return nil, err
		}
		s.sessions[c.Name], s.comps[c.Name] = sess, c
	}
	ln, err := net.ListenUnix("unix", &net.UnixAddr{Name: s.sock, Net: "unix"})
	if err != nil {
		s.close()
		return nil, fmt.Errorf("listen for spawned components: %w", err)
	}
	s.ln = ln
	os.Chmod(s.sock, 0o666) // spawners may run as any user
	s.wg.Add(2)
	go s.accept()
	go func() {
		defer s.wg.Done()
		t := time.NewTicker(250 * time.Millisecond)
		defer t.Stop()
		for {
			select {
			case <-t.C:
				_ = s.tr.Drain()
			case <-s.done:
				return
			}
		}
	}()
	return s, nil
}

func (s *spawnLearner) accept() {
	defer s.wg.Done()
	for {
		conn, err := s.ln.AcceptUnix()
		if err != nil {
			return
		}
		go s.serve(conn)
	}
}

func (s *spawnLearner) serve(conn *net.UnixConn) {
	defer conn.Close()
	conn.SetDeadline(time.Now().Add(10 * time.Second))
	name, err := bufio.NewReader(conn).ReadString('\n')
	if err != nil {
		return
	}
	name = strings.TrimSpace(name)
	sess, ok := s.sessions[name]
	if !ok {
		fmt.Fprintf(conn, "no spawned component %q\n", name)
		return
	}
	raw, err := conn.SyscallConn()
	if err != nil {
		return
	}
	var cred *unix.Ucred
	var cerr error
	raw.Control(func(fd uintptr) { cred, cerr = unix.GetsockoptUcred(int(fd), unix.SOL_SOCKET, unix.SO_PEERCRED) })
	if cerr != nil || cred == nil {
		fmt.Fprintf(conn, "cannot identify the peer\n")
		return
	}
	if err := sess.Track(int(cred.Pid)); err != nil {
		fmt.Fprintf(conn, "%v\n", err)
		return
	}
	fmt.Fprint(conn, "ok\n")
}

// finish waits (at most linger) for the spawned components' processes to
// end, then writes one profile fragment per component that ran into dir.
func (s *spawnLearner) finish(dir string, linger time.Duration) {
	s.ln.Close()
	deadline := time.Now().Add(linger)
	for time.Now().Before(deadline) {
		busy := false
		for _, sess := range s.sessions {
			if live, err := sess.Live(); err == nil && live > 0 {
				busy = true
			}
		}
		if !busy {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	host, _ := os.Hostname()
	var uts unix.Utsname
	unix.Uname(&uts)
	for name, sess := range s.sessions {
		obs, err := sess.Observations()
		if err != nil {
			fmt.Fprintf(s.warn, "leash: learn: component %s: %v\n", name, err)
			continue
		}
		if obs.Processes == 0 {
			continue // never spawned: reported by the caller
		}
		var incomplete []string
		if obs.Live > 0 {
			incomplete = append(incomplete, fmt.Sprintf("%d tasks still running %s after the system stopped; recording stopped there", obs.Live, linger))
		}
		// Only the files that ran get a digest (learner.HashExecutables);
		// one changed or gone since makes the run incomplete.
		exes, notes, exeIncomplete := learner.HashExecutables(obs.ExeFiles)
		for _, n := range notes {
			fmt.Fprintf(s.warn, "leash: note: component %s: %s\n", name, n)
		}
		incomplete = append(incomplete, exeIncomplete...)
		c := s.comps[name]
		p := learner.Build(obs, learner.RunInfo{
			Component: name, Command: c.Command, User: c.User, Host: host,
			Kernel: unix.ByteSliceToString(uts.Release[:]), Leash: Version,
			Started: s.started, Duration: time.Since(s.started), Methods: s.tr.Methods(),
			Incomplete: incomplete, Executables: exes,
		})
		out := filepath.Join(dir, name+".spawned-"+strconv.FormatUint(uint64(sess.ID()), 10)+".yaml")
		if err := profiles.Save(out, p); err != nil {
			fmt.Fprintf(s.warn, "leash: learn: component %s: %v\n", name, err)
		}
	}
	s.close()
}

func (s *spawnLearner) close() {
	select {
	case <-s.done:
	default:
		close(s.done)
	}
	if s.ln != nil {
		s.ln.Close()
	}
	s.wg.Wait()
	for _, sess := range s.sessions {
		sess.Close()
	}
	if err := s.tr.Close(); err != nil && !errors.Is(err, os.ErrClosed) {
		fmt.Fprintf(s.warn, "leash: learn: close tracer: %v\n", err)
	}
}
