package cli

import (
	"encoding/json"
	"errors"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/leash-project/leash/profiles/signing"
)

func init() { register(71, "verify", newVerifyCmd) }

// verifyResult is leash verify's --json output.
type verifyResult struct {
	Profile   string `json:"profile"`
	Signature string `json:"signature"`
	Key       string `json:"key"`
	Verified  bool   `json:"verified"`
	Error     string `json:"error,omitempty"`
}

func newVerifyCmd() *cobra.Command {
	var keyPath, sigPath string
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "verify --key PUB [--signature SIGFILE] PROFILE",
		Short: "Check a profile's signature (cosign verify-blob compatible)",
		Long: `Check that SIGFILE (default PROFILE.sig) is a signature of the exact bytes
of PROFILE by the ECDSA P-256 public key PUB (a PEM "PUBLIC KEY", such as
cosign.pub or the .pub of leash keygen). Signatures made by leash sign,
by cosign sign-blob --key (its base64 signature file, or the signature in
its --bundle output, old or .sigstore.json), and by openssl dgst -sha256
-sign | base64 are accepted. No certificate or transparency log is
consulted: the key is the trust.

Exit status:
  0  the signature verifies
  1  it does not: the profile changed after it was signed, or another key
     signed it
  2  bad usage, or a missing, unreadable or malformed profile, signature
     or key (the message names the file)`,
		Example: `  leash verify --key team.pub profiles/web.yaml
  leash verify --key cosign.pub --signature web.sig profiles/web.yaml

  # A signature made with cosign verifies with leash, and the other way round:
  cosign sign-blob --key cosign.key --tlog-upload=false --output-signature web.yaml.sig web.yaml
  leash verify --key cosign.pub web.yaml
  cosign verify-blob --key cosign.pub --signature web.yaml.sig --insecure-ignore-tlog web.yaml`,
		Args: exactArgs("PROFILE"),
		RunE: func(cmd *cobra.Command, args []string) error {
			if keyPath == "" {
				return usageError("leash verify: --key PUB is required")
			}
			path := args[0]
			sig := sigPath
			if sig == "" {
				sig = signing.DefaultSignaturePath(path)
			}
			err := signing.VerifyFile(path, sig, keyPath)
			if asJSON {
				res := verifyResult{Profile: path, Signature: sig, Key: keyPath, Verified: err == nil}
				if err != nil {
					res.Error = err.Error()
				}
				enc := json.NewEncoder(cmd.OutOrStdout())
				enc.SetIndent("", "  ")
				if encErr := enc.Encode(res); encErr != nil {
					return fmt.Errorf("write result: %w", encErr)
				}
				if err != nil {
					// The JSON says why; print nothing more, exit with the code.
					var ee *ExitError
					if errors.As(signingExit(err), &ee) {
						return Exit(ee.Code, nil)
					}
					return err
				}
				return nil
			}
			if err != nil {
				return signingExit(err)
			}
			fmt.Fprintf(cmd.OutOrStdout(), "%s: verified OK (signature %s, key %s)\n", path, sig, keyPath)
			return nil
		},
	}
	cmd.Flags().StringVar(&keyPath, "key", "", "public key (PEM \"PUBLIC KEY\", ECDSA P-256)")
	cmd.Flags().StringVar(&sigPath, "signature", "", "signature file (default PROFILE.sig)")
	cmd.Flags().BoolVar(&asJSON, "json", false, "print the result as JSON")
	return cmd
}
