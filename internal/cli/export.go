package cli

import (
	"errors"
	"fmt"
	"sort"
	"strings"

	"github.com/spf13/cobra"

	"github.com/leash-project/leash/internal/atomicfile"
	"github.com/leash-project/leash/linux"
	"github.com/leash-project/leash/profiles"
	"github.com/leash-project/leash/seccomp"
)

func init() { register(50, "export", newExportCmd) }

func newExportCmd() *cobra.Command {
	var format, output, namespace, file string
	cmd := &cobra.Command{
		Use:   "export --format systemd|oci|oci-caps|k8s [-o FILE] PROFILE",
		Short: "Turn a profile into a systemd drop-in, an OCI seccomp profile or Kubernetes objects",
		Long: `leash export writes PROFILE in a format another launcher enforces. The
syscalls allowed are those leash's own filter allows: the learned ones, clone
when clone3 was learned, and the profile's widenings.

Formats:
  systemd   a drop-in for a service unit ([Service]): User=, Group=,
            NoNewPrivileges=, CapabilityBoundingSet=, AmbientCapabilities=,
            SystemCallFilter=, SystemCallArchitectures=, SystemCallErrorNumber=
            (SystemCallLog= for defaultAction log), RestrictAddressFamilies=,
            RestrictNamespaces= and the sandboxing settings the profile allows.
            systemd allows syscalls by name only: no argument rules, and
            no netlink protocols (a comment says which the profile lists).
  oci       the seccomp profile of Docker, Podman and containerd (and the
            linux.seccomp object of an OCI runtime spec): defaultAction,
            architectures, syscalls, with argument rules for socket and
            socketpair (families and types; socket also AF_NETLINK's listed
            protocols), clone and unshare (namespace flags), setns; clone3
            answers ENOSYS so libc falls back to clone.
            One name list serves every architecture (the format has no
            per-ABI list): with i386 syscalls learned, both ABIs get the union.
  oci-caps  process.capabilities of an OCI runtime spec (bounding, effective,
            permitted, inheritable, ambient), a separate JSON object.
  k8s       two YAML documents: a security-profiles-operator SeccompProfile,
            and a pod spec fragment with the securityContext that uses it
            (capabilities drop ALL and add the needed ones, no privilege
            escalation, runAsNonRoot where the user is a uid).

FILE is written atomically; without -o the export goes to standard output.` + profileExitHelp,
		Example: `  # A systemd drop-in
  leash export --format systemd web.yaml > /etc/systemd/system/web.service.d/leash.conf

  # Docker or Podman
  leash export --format oci -o web-seccomp.json web.yaml
  docker run --security-opt seccomp=web-seccomp.json --cap-drop ALL --cap-add NET_BIND_SERVICE ...

  # An OCI bundle: the capabilities block into config.json
  leash export --format oci-caps web.yaml > caps.json
  jq --slurpfile c caps.json '.process.capabilities = $c[0]' config.json

  # Kubernetes with the security-profiles-operator
  leash export --format k8s --namespace apps web.yaml | kubectl apply -f -  # first document`,
		Args: func(cmd *cobra.Command, args []string) error {
			if file != "" { // export_manifest in up.go: one unit per component
				return cobra.NoArgs(cmd, args)
			}
			return cobra.ExactArgs(1)(cmd, args)
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			if file != "" {
				return exportManifest(cmd, file, format, output)
			}
			switch format {
			case "systemd", "oci", "oci-caps", "k8s":
			case "":
				return usageError("leash export: --format is required (systemd, oci, oci-caps or k8s)")
			default:
				return usageError("leash export: unknown format %q (want systemd, oci, oci-caps or k8s)", format)
			}
			path := args[0]
			p, err := loadInput(path)
			if err != nil {
				return err
			}
			opts := profiles.ExportOptions{K8sNamespace: namespace}
			if format != "oci-caps" {
				if opts.Allowed, err = allowedSyscalls(path, p); err != nil {
					return err
				}
				if w := abiUnionWarning(format, opts.Allowed); w != "" {
					fmt.Fprintf(cmd.ErrOrStderr(), "leash: warning: %s: %s\n", path, w)
				}
			}
			var data []byte
			switch format {
			case "systemd":
				data, err = profiles.Systemd(p, opts)
			case "oci":
				data, err = profiles.OCI(p, opts)
			case "oci-caps":
				data, err = profiles.OCICapsJSON(p)
			case "k8s":
				data, err = profiles.K8s(p, opts)
			}
			if err != nil {
				return err
			}
			if output == "" || output == "-" {
				_, err = cmd.OutOrStdout().Write(data)
				return err
			}
			return atomicfile.Write(output, data, 0o644)
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&format, "format", "", "systemd, oci, oci-caps or k8s")
	fl.StringVarP(&output, "output", "o", "", "write to FILE atomically instead of standard output")
	fl.StringVarP(&file, "file", "f", "", "export every component of the manifest `leash.yaml` (--format systemd, -o DIR: one NAME.service each)")
	fl.StringVar(&namespace, "namespace", "default", "k8s: the namespace of the SeccompProfile (part of its localhost path)")
	return cmd
}

// allowedSyscalls asks the seccomp compiler which syscalls leash's filter
// lets through per ABI (learned, clone for clone3, widenings), so the
// exports agree with leash run. clone3 (answered ENOSYS) is left out.
func allowedSyscalls(path string, p *profiles.Profile) (map[string][]string, error) {
	arch := linux.X86_64
	if len(p.Syscalls[string(linux.ARM64)]) > 0 && len(p.Syscalls[string(linux.X86_64)]) == 0 {
		arch = linux.ARM64
	}
	f, err := seccomp.Compile(p, seccomp.Options{Arch: arch})
	if err != nil {
		if errors.Is(err, seccomp.ErrOptions) {
			return nil, usageError("leash export: %v", err)
		}
		return nil, &profiles.Error{File: path, Msg: err.Error()}
	}
	out := map[string][]string{}
	for _, e := range f.Syscalls {
		if e.Action == "enosys" {
			continue
		}
		out[string(e.ABI)] = append(out[string(e.ABI)], e.Name)
	}
	return out, nil
}

// abiUnionWarning says what an export grants beyond leash's filter when the
// profile learned syscalls on two ABIs (x86_64 and i386): systemd's
// SystemCallFilter=, OCI's and so Kubernetes' seccomp JSON have one name
// list for every architecture, so each ABI gets the other's syscalls too.
// "" when nothing is widened.
func abiUnionWarning(format string, allowed map[string][]string) string {
	if len(allowed) < 2 {
		return ""
	}
	abis := make([]string, 0, len(allowed))
	for abi := range allowed {
		abis = append(abis, abi)
	}
	sort.Strings(abis)
	var parts []string
	for _, abi := range abis {
		own := map[string]bool{}
		for _, n := range allowed[abi] {
			own[n] = true
		}
		extra := map[string]bool{}
		for _, other := range abis {
			for _, n := range allowed[other] {
				if other != abi && !own[n] {
					extra[n] = true
				}
			}
		}
		if len(extra) == 0 {
			continue
		}
		names := make([]string, 0, len(extra))
		for n := range extra {
			names = append(names, n)
		}
		sort.Strings(names)
		shown := strings.Join(names, " ")
		if len(names) > 8 {
			shown = strings.Join(names[:8], " ") + " ..."
		}
		parts = append(parts, fmt.Sprintf("%d more on %s (%s)", len(names), abi, shown))
	}
	if len(parts) == 0 {
		return ""
	}
	return fmt.Sprintf("the %s format has one syscall list for all architectures, so it allows the union of the ABIs' syscalls, which leash's own filter keeps apart: %s",
		format, strings.Join(parts, "; "))
}
