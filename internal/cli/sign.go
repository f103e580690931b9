package cli

import (
	"errors"
	"fmt"
	"os"

	"github.com/spf13/cobra"

	"github.com/leash-project/leash/profiles"
	"github.com/leash-project/leash/profiles/signing"
)

func init() { register(70, "sign", newSignCmd) }

func newSignCmd() *cobra.Command {
	var keyPath, sigPath string
	cmd := &cobra.Command{
		Use:   "sign --key KEY [-o SIGFILE] PROFILE",
		Short: "Sign a profile, in the form cosign sign-blob uses",
		Long: `Sign the exact bytes of PROFILE with an ECDSA P-256 private key and write
the signature to SIGFILE (default PROFILE.sig): the standard base64 of an
ASN.1 DER ECDSA signature over the file's SHA-256, as cosign sign-blob
--key writes it. leash verify, leash run --verify-key and cosign
verify-blob --key all accept it.

KEY may be a key made by cosign generate-key-pair (ENCRYPTED SIGSTORE
PRIVATE KEY; its password is read from $COSIGN_PASSWORD), one made by
leash keygen (PKCS#8), or an openssl EC key (openssl ecparam -genkey -name
prime256v1). The profile is validated first: leash does not sign a file
it could not run.

Exit status: 0 signed; 2 bad usage, or an unreadable or malformed profile
or key; 4 the signature could not be written.`,
		Example: `  # A key pair of your own, then sign:
  leash keygen --out-prefix team
  leash sign --key team.key profiles/web.yaml          # writes profiles/web.yaml.sig

  # With a cosign key (cosign generate-key-pair):
  COSIGN_PASSWORD=... leash sign --key cosign.key -o web.sig profiles/web.yaml

  # The same signature, made with cosign itself:
  cosign sign-blob --key cosign.key --tlog-upload=false --output-signature profiles/web.yaml.sig profiles/web.yaml`,
		Args: exactArgs("PROFILE"),
		RunE: func(cmd *cobra.Command, args []string) error {
			if keyPath == "" {
				return usageError("leash sign: --key KEY is required")
			}
			path := args[0]
			data, err := os.ReadFile(path)
			if err != nil {
				return Exit(ExitInput, fmt.Errorf("read profile: %w", err))
			}
			if _, err := profiles.Parse(path, data); err != nil {
				return Exit(ExitInput, err)
			}
			key, err := signing.LoadPrivateKey(keyPath, signing.EnvPassword)
			if err != nil {
				return signingExit(err)
			}
			written, err := signing.SignData(data, key, path, sigPath)
			if err != nil {
				return signingExit(err)
			}
			fmt.Fprintf(cmd.OutOrStdout(), "signed %s: wrote %s\n", path, written)
			return nil
		},
	}
	cmd.Flags().StringVar(&keyPath, "key", "", "private key: cosign (password in $COSIGN_PASSWORD), PKCS#8 or SEC1 PEM")
	cmd.Flags().StringVarP(&sigPath, "output-signature", "o", "", "where to write the signature (default PROFILE.sig)")
	return cmd
}

// signingExit maps errors of package signing to exit codes: 1 when a
// signature does not verify, 2 for unreadable or malformed inputs.
func signingExit(err error) error {
	switch {
	case err == nil:
		return nil
	case errors.Is(err, signing.ErrBadSignature):
		return Exit(ExitGate, err)
	case errors.Is(err, signing.ErrInput):
		return Exit(ExitInput, err)
	}
	return err
}

// exactArgs accepts exactly one argument, named name in the error.
func exactArgs(name string) cobra.PositionalArgs {
	return func(cmd *cobra.Command, args []string) error {
		if len(args) != 1 {
			return usageError("%s: want one %s argument, got %d (see %s --help)", cmd.CommandPath(), name, len(args), cmd.CommandPath())
		}
		return nil
	}
}
