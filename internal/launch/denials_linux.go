package launch

import (
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"time"

	"golang.org/x/sys/unix"

	"github.com/leash-project/leash/linux"
	"github.com/leash-project/leash/seccomp"
)

// KernelLog reads the kernel's seccomp audit records (type=1326) from
// /dev/kmsg.
type KernelLog struct {
	fd int // raw and non-blocking: os.File.Fd would make it blocking
}

// ErrNoKernelLog is returned by OpenKernelLog when /dev/kmsg cannot be
// read (leash is not root, or the log is restricted).
var ErrNoKernelLog = errors.New("cannot read the kernel log")

// OpenKernelLog opens /dev/kmsg for reading.
func OpenKernelLog() (*KernelLog, error) {
	fd, err := syscall.Open("/dev/kmsg", syscall.O_RDONLY|syscall.O_NONBLOCK|syscall.O_CLOEXEC, 0)
	if err != nil {
		return nil, fmt.Errorf("%w: open /dev/kmsg: %v", ErrNoKernelLog, err)
	}
	return &KernelLog{fd: fd}, nil
}

// Close closes the log.
func (k *KernelLog) Close() error { return syscall.Close(k.fd) }

// Mark skips every record logged so far.
func (k *KernelLog) Mark() {
	syscall.Seek(k.fd, 0, io.SeekEnd)
}

// Denials reads the records logged since Mark and returns those of the
// run: its audit session when session is not 0, else the process pid.
// The kernel's audit thread prints records a little after the syscall;
// settle is how long to wait for stragglers after a first read (0: none).
func (k *KernelLog) Denials(component string, session uint32, pid int, settle time.Duration) []Denial {
	counts := map[Denial]int{}
	k.drain(counts, component, session, pid)
	if settle > 0 {
		time.Sleep(settle)
		k.drain(counts, component, session, pid)
	}
	out := make([]Denial, 0, len(counts))
	for d, n := range counts {
		d.Count = n
		out = append(out, d)
	}
	sort.Slice(out, func(i, j int) bool {
		a, b := out[i], out[j]
		if a.ABI != b.ABI {
			return a.ABI < b.ABI
		}
		if a.Name != b.Name {
			return a.Name < b.Name
		}
		return a.Executable < b.Executable
	})
	return out
}

// drain counts the run's records available now.
func (k *KernelLog) drain(counts map[Denial]int, component string, session uint32, pid int) {
	buf := make([]byte, 8192)
	for {
		n, err := syscall.Read(k.fd, buf)
		if err == syscall.EPIPE { // records were overwritten: go on
			continue
		}
		if err != nil || n <= 0 {
			break
		}
		rec, ok := parseRecord(string(buf[:n]))
		if !ok {
			continue
		}
		if session != 0 && rec.session != session {
			continue
		}
		if session == 0 && rec.pid != pid {
			continue
		}
		d := Denial{Component: component, Kind: "syscall", ABI: rec.abi, Nr: rec.nr, Name: rec.name, Executable: rec.exe, Action: rec.action}
		counts[d]++
	}
}

type record struct {
	session uint32
	pid     int
	exe     string
	abi     string
	nr      int
	name    string
	action  string
}

// parseRecord reads one /dev/kmsg record ("pri,seq,ts,flags;text") that
// holds an "audit: type=1326" seccomp record. Only the kernel's own
// records count (facility 0 in pri): a root target can write to
// /dev/kmsg too, and the kernel gives what user space writes the
// facility LOG_USER (or the one it names, never 0), so a forged record
// cannot add to a report or to a --report fragment for leash merge.
func parseRecord(line string) (record, bool) {
	var r record
	prefix, text, ok := strings.Cut(line, ";")
	if !ok {
		return r, false
	}
	pri, _, _ := strings.Cut(prefix, ",")
	if n, err := strconv.Atoi(pri); err != nil || n>>3 != 0 {
		return r, false
	}
	text, _, _ = strings.Cut(text, "\n")
	if !strings.Contains(text, "type=1326 ") {
		return r, false
	}
	f := auditFields(text)
	ses, err := strconv.ParseUint(f["ses"], 10, 32)
	if err == nil && ses != 4294967295 {
		r.session = uint32(ses)
	}
	r.pid, _ = strconv.Atoi(f["pid"])
	r.exe = f["exe"]
	arch, err := strconv.ParseUint(f["arch"], 16, 32)
	if err != nil {
		return r, false
	}
	nr, err := strconv.ParseUint(f["syscall"], 10, 32)
	if err != nil {
		return r, false
	}
	code, _ := strconv.ParseUint(strings.TrimPrefix(f["code"], "0x"), 16, 32)
	r.action = seccomp.ActionName(uint32(code))
	if code == unix.SECCOMP_RET_ERRNO {
		// The kernel logs the action without its data (6.18:
		// code=0x50000 for any errno): ERRNO(0) would be a wrong errno.
		r.action = "ERRNO"
	}
	r.nr = int(nr)
	switch uint32(arch) {
	case linux.AuditArchX86_64:
		if nr&linux.X32SyscallBit != 0 {
			r.abi, r.name = "x32", fmt.Sprintf("x32:%d", nr&^linux.X32SyscallBit)
		} else {
			r.abi, r.name = string(linux.X86_64), linux.SyscallName(linux.X86_64, int(nr))
		}
	case linux.AuditArchI386:
		r.abi, r.name = string(linux.I386), linux.SyscallName(linux.I386, int(nr))
	case linux.AuditArchAARCH64:
		r.abi, r.name = string(linux.ARM64), linux.SyscallName(linux.ARM64, int(nr))
	default:
		r.abi, r.name = fmt.Sprintf("arch-%#x", arch), fmt.Sprintf("syscall-%d", nr)
	}
	if r.name == "" { // beyond leash's table: a newer kernel's, or no syscall at all
		r.name = fmt.Sprintf("syscall-%d", nr)
	}
	return r, true
}

// auditFields splits an audit record's key=value pairs. Quoted values are
// unquoted; unquoted hex values of exe and comm (the kernel's encoding of
// untrusted strings with spaces or quotes) are decoded.
func auditFields(text string) map[string]string {
	m := map[string]string{}
	for len(text) > 0 {
		text = strings.TrimLeft(text, " ")
		eq := strings.IndexByte(text, '=')
		if eq < 0 {
			break
		}
		key := text[:eq]
		if sp := strings.LastIndexByte(key, ' '); sp >= 0 {
			key = key[sp+1:]
		}
		text = text[eq+1:]
		var val string
		if strings.HasPrefix(text, `"`) {
			end := strings.IndexByte(text[1:], '"')
			if end < 0 {
				val, text = text[1:], ""
			} else {
				val, text = text[1:1+end], text[2+end:]
			}
		} else {
			end := strings.IndexByte(text, ' ')
			if end < 0 {
				val, text = text, ""
			} else {
				val, text = text[:end], text[end:]
			}
			if key == "exe" || key == "comm" {
				if b, err := hex.DecodeString(val); err == nil {
					val = string(b)
				}
			}
		}
		m[key] = val
	}
	return m
}
