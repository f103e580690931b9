package cli

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/leash-project/leash/profiles/signing"
)

func init() { register(72, "keygen", newKeygenCmd) }

func newKeygenCmd() *cobra.Command {
	var prefix string
	var force bool
	cmd := &cobra.Command{
		Use:   "keygen [--out-prefix NAME]",
		Short: "Make an ECDSA P-256 key pair for signing profiles",
		Long: `Make a new ECDSA P-256 key pair for leash sign and leash verify, for teams
that do not use cosign: NAME.key, the private key (PKCS#8 PEM, mode 0600,
not encrypted: keep it in a secret store), and NAME.pub, the public key
(PKIX PEM) to hand to leash verify and leash run --verify-key.

cosign verify-blob accepts NAME.pub as it is. To sign with cosign too,
import the private key: cosign import-key-pair --key NAME.key.

Existing files are never replaced unless --force is given.

Exit status: 0 written; 2 a file exists or bad usage; 4 it could not be
written.`,
		Example: `  leash keygen --out-prefix team        # team.key, team.pub
  leash sign --key team.key profiles/web.yaml
  leash verify --key team.pub profiles/web.yaml`,
		Args: func(cmd *cobra.Command, args []string) error {
			if len(args) != 0 {
				return usageError("%s takes no arguments (use --out-prefix NAME)", cmd.CommandPath())
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			if prefix == "" {
				return usageError("leash keygen: --out-prefix must not be empty")
			}
			keyPath, pubPath, err := signing.GenerateKeyPair(prefix, force)
			if err != nil {
				return signingExit(err)
			}
			fmt.Fprintf(cmd.OutOrStdout(), "wrote %s (private: keep it secret) and %s (public)\n", keyPath, pubPath)
			return nil
		},
	}
	cmd.Flags().StringVar(&prefix, "out-prefix", "leash", "write NAME.key and NAME.pub")
	cmd.Flags().BoolVar(&force, "force", false, "replace existing key files")
	return cmd
}
