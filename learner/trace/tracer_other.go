//go:build !linux

package trace

import "errors"

// Tracer records sessions; it exists only on Linux.
type Tracer struct{}

// Session is one learning session.
type Session struct{}

// Options tune Open.
type Options struct {
	SelfExe, Kallsyms, BTF string
	Skip                   []string
}

// Open fails off Linux.
func Open(Options) (*Tracer, error) {
	return nil, &EnvError{Msg: "leash learn needs Linux with eBPF"}
}

func (t *Tracer) Methods() map[string]string            { return nil }
func (t *Tracer) Describe() []string                    { return nil }
func (t *Tracer) CapabilitiesRecorded() bool            { return false }
func (t *Tracer) Warnings() []string                    { return nil }
func (t *Tracer) Close() error                          { return nil }
func (t *Tracer) Drain() error                          { return nil }
func (t *Tracer) NewSession() (*Session, error)         { return nil, errors.New("new session: not on Linux") }
func (s *Session) ID() uint32                           { return 0 }
func (s *Session) Track(int) error                      { return errors.New("track: not on Linux") }
func (s *Session) Untrack(int)                          {}
func (s *Session) Live() (uint64, error)                { return 0, nil }
func (s *Session) Stats() (Stats, error)                { return Stats{}, nil }
func (s *Session) Observations() (*Observations, error) { return &Observations{}, nil }
func (s *Session) Close() error                         { return nil }

// EmptyHook is the benchmark baseline hook (Linux only).
type EmptyHook struct{}

// AttachEmptyHook fails off Linux.
func AttachEmptyHook() (*EmptyHook, error) { return nil, errors.New("empty hook: not on Linux") }

// Close does nothing.
func (h *EmptyHook) Close() error { return nil }
