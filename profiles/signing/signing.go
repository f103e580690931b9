// Package signing signs and verifies profile files in the form cosign uses
// for blobs, so a team that signs with cosign can sign a profile with
// `cosign sign-blob --key` and have leash verify it, and the other way round.
//
// It lives under profiles because a profile is what it signs, but it never
// parses one: it signs the exact bytes of the file.
//
// The formats, as cosign's sign-blob and verify-blob use them with --key:
//
//   - A signature file holds the standard base64 encoding of an ASN.1 DER
//     ECDSA signature (SEQUENCE of the INTEGERs r and s) over the SHA-256
//     digest of the file's bytes. cosign writes it without a newline; leash
//     does the same. When reading, line breaks are ignored (so
//     `openssl dgst -sha256 -sign key.pem FILE | base64` works) and a file
//     that is not base64 is taken as raw DER, as cosign does. The
//     signature inside a cosign bundle (sign-blob --bundle, old or
//     .sigstore.json form) is read too; its certificate and transparency
//     log entry are not: the key is the trust.
//   - A public key is a PEM "PUBLIC KEY" block holding a PKIX
//     SubjectPublicKeyInfo. Only ECDSA P-256 keys are accepted.
//   - A private key is one of: cosign's own "ENCRYPTED SIGSTORE PRIVATE KEY"
//     (or the older "ENCRYPTED COSIGN PRIVATE KEY"): a JSON envelope with
//     scrypt key derivation and a NaCl secretbox around a PKCS#8 key,
//     decrypted with the password in $COSIGN_PASSWORD; a PKCS#8 "PRIVATE
//     KEY"; or a SEC1 "EC PRIVATE KEY" as `openssl ecparam -genkey` writes it.
//
// Errors: a signature that does not verify matches ErrBadSignature with
// errors.Is (commands exit 1); an unreadable or malformed key, signature or
// profile is a *FileError and matches ErrInput (commands exit 2).
package signing

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/rand"
	"crypto/sha256"
	"encoding/asn1"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/big"
	"os"

	"github.com/leash-project/leash/internal/atomicfile"
)

// SignatureSuffix is appended to a profile's path to name its signature
// file when none is given.
const SignatureSuffix = ".sig"

// ErrBadSignature is matched by every *VerifyError: the signature is
// well-formed but does not verify.
var ErrBadSignature = errors.New("signature does not verify")

// ErrInput is matched by every *FileError: an input could not be read or
// is malformed.
var ErrInput = errors.New("bad signing input")

// FileError is an unreadable or malformed key, signature or profile file.
type FileError struct {
	File string
	What string // "public key", "private key", "signature", "profile"
	Err  error
}

func (e *FileError) Error() string { return fmt.Sprintf("%s: %s: %v", e.File, e.What, e.Err) }
func (e *FileError) Unwrap() error { return e.Err }

// Is makes every *FileError match ErrInput.
func (e *FileError) Is(target error) bool { return target == ErrInput }

// VerifyError says that a signature did not verify.
type VerifyError struct {
	Profile, Signature, Key string
}

func (e *VerifyError) Error() string {
	return fmt.Sprintf("%s: signature %s does not verify with public key %s: the file changed after it was signed, or it was signed with another key",
		e.Profile, e.Signature, e.Key)
}

// Is makes every *VerifyError match ErrBadSignature.
func (e *VerifyError) Is(target error) bool { return target == ErrBadSignature }

// DefaultSignaturePath returns the signature path used for profilePath
// when none is given: profilePath + ".sig".
func DefaultSignaturePath(profilePath string) string { return profilePath + SignatureSuffix }

// Sign returns the ASN.1 DER ECDSA signature of SHA-256(data).
func Sign(key *ecdsa.PrivateKey, data []byte) ([]byte, error) {
	digest := sha256.Sum256(data)
	sig, err := ecdsa.SignASN1(rand.Reader, key, digest[:])
	if err != nil {
		return nil, fmt.Errorf("sign: %w", err)
	}
	return sig, nil
}

// Verify reports whether der is a valid signature of SHA-256(data) by pub.
func Verify(pub *ecdsa.PublicKey, data, der []byte) bool {
	digest := sha256.Sum256(data)
	return ecdsa.VerifyASN1(pub, digest[:], der)
}

// EncodeSignature returns the content of a signature file for der: its
// standard base64 encoding, without a newline, as cosign writes it.
func EncodeSignature(der []byte) []byte {
	return []byte(base64.StdEncoding.EncodeToString(der))
}

// ParseSignature decodes the content of a signature file into an ASN.1 DER
// ECDSA signature. Base64 (line breaks and surrounding white space
// ignored) is tried first, then raw DER, as cosign's verify-blob does.
// A cosign bundle is accepted too: the old {"base64Signature": ...} of
// sign-blob --bundle, and a Sigstore bundle (.sigstore.json, from
// --new-bundle-format) with a messageSignature; only the signature is
// used, no certificate or transparency log entry. The result is checked
// to be a DER SEQUENCE of two positive INTEGERs.
func ParseSignature(content []byte) ([]byte, error) {
	trimmed := bytes.TrimSpace(content)
	if len(trimmed) == 0 {
		return nil, errors.New("empty signature")
	}
	if trimmed[0] == '{' {
		return parseBundle(trimmed)
	}
	der, err := base64.StdEncoding.DecodeString(string(trimmed))
	if err != nil {
		der = content // not base64: raw DER, as cosign accepts
	}
	if err := checkDER(der); err != nil {
		return nil, err
	}
	return der, nil
}

// bundle holds the fields leash reads of both cosign bundle formats.
type bundle struct {
	Base64Signature  string `json:"base64Signature"`
	MessageSignature *struct {
		MessageDigest struct {
			Algorithm string `json:"algorithm"`
		} `json:"messageDigest"`
		Signature []byte `json:"signature"`
	} `json:"messageSignature"`
	DSSEEnvelope json.RawMessage `json:"dsseEnvelope"`
}

func parseBundle(content []byte) ([]byte, error) {
	var b bundle
	if err := json.Unmarshal(content, &b); err != nil {
		return nil, fmt.Errorf("not a cosign bundle: %w", err)
	}
	var der []byte
	switch {
	case b.MessageSignature != nil:
		if alg := b.MessageSignature.MessageDigest.Algorithm; alg != "" && alg != "SHA2_256" {
			return nil, fmt.Errorf("bundle digest algorithm %s: only SHA2_256 is supported", alg)
		}
		der = b.MessageSignature.Signature
	case b.Base64Signature != "":
		var err error
		if der, err = base64.StdEncoding.DecodeString(b.Base64Signature); err != nil {
			return nil, fmt.Errorf("bundle base64Signature: %w", err)
		}
	case b.DSSEEnvelope != nil:
		return nil, errors.New("bundle holds a DSSE envelope (an attestation), not a blob signature")
	default:
		return nil, errors.New("bundle has no messageSignature or base64Signature")
	}
	if err := checkDER(der); err != nil {
		return nil, err
	}
	return der, nil
}

// checkDER checks that der is an ECDSA-Sig-Value: SEQUENCE { r INTEGER,
// s INTEGER } with nothing after it.
func checkDER(der []byte) error {
	var v struct{ R, S *big.Int }
	rest, err := asn1.Unmarshal(der, &v)
	if err != nil {
		return errors.New("not a base64 or DER ECDSA signature (want the output of cosign sign-blob or leash sign)")
	}
	if len(rest) > 0 {
		return fmt.Errorf("%d bytes of trailing data after the DER ECDSA signature", len(rest))
	}
	if v.R.Sign() <= 0 || v.S.Sign() <= 0 {
		return errors.New("ECDSA signature has a zero or negative component")
	}
	return nil
}

// SignFile signs the bytes of profilePath with the private key at keyPath
// (the password of an encrypted cosign key comes from $COSIGN_PASSWORD) and
// writes the signature file to sigPath atomically; sigPath "" means
// profilePath + ".sig". It returns the signature path written.
func SignFile(profilePath, keyPath, sigPath string) (string, error) {
	data, err := readInput(profilePath, "profile")
	if err != nil {
		return "", err
	}
	key, err := LoadPrivateKey(keyPath, EnvPassword)
	if err != nil {
		return "", err
	}
	return SignData(data, key, profilePath, sigPath)
}

// SignData signs data (read from profilePath) with key and writes the
// signature file to sigPath ("" means profilePath + ".sig").
func SignData(data []byte, key *ecdsa.PrivateKey, profilePath, sigPath string) (string, error) {
	if sigPath == "" {
		sigPath = DefaultSignaturePath(profilePath)
	}
	der, err := Sign(key, data)
	if err != nil {
		return "", err
	}
	if err := atomicfile.Write(sigPath, EncodeSignature(der), 0o644); err != nil {
		return "", fmt.Errorf("write signature: %w", err)
	}
	return sigPath, nil
}

// VerifyFile checks that the signature file at sigPath ("" means
// profilePath + ".sig") is a valid signature of the bytes of profilePath
// by the public key at pubKeyPath. It returns nil when it verifies, an
// error matching ErrBadSignature when it does not, and one matching
// ErrInput when a file is missing, unreadable or malformed.
//
// A caller that goes on to use the profile should use VerifyData on the
// bytes it parses, so that the file cannot change between the check and
// the use.
func VerifyFile(profilePath, sigPath, pubKeyPath string) error {
	data, err := readInput(profilePath, "profile")
	if err != nil {
		return err
	}
	return VerifyData(profilePath, data, sigPath, pubKeyPath)
}

// VerifyData is VerifyFile for profile bytes already read from
// profilePath (which names the file in errors and gives the default
// signature path).
func VerifyData(profilePath string, data []byte, sigPath, pubKeyPath string) error {
	if sigPath == "" {
		sigPath = DefaultSignaturePath(profilePath)
	}
	pub, err := LoadPublicKey(pubKeyPath)
	if err != nil {
		return err
	}
	content, err := readInput(sigPath, "signature")
	if err != nil {
		return err
	}
	der, err := ParseSignature(content)
	if err != nil {
		return &FileError{File: sigPath, What: "signature", Err: err}
	}
	if !Verify(pub, data, der) {
		return &VerifyError{Profile: profilePath, Signature: sigPath, Key: pubKeyPath}
	}
	return nil
}

// maxInput bounds what leash reads as a key, signature or profile; real
// ones are a few kilobytes.
const maxInput = 16 << 20

// readInput reads a whole input file, as a *FileError on failure.
func readInput(path, what string) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, &FileError{File: path, What: what, Err: unwrapPath(err)}
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, maxInput+1))
	if err != nil {
		return nil, &FileError{File: path, What: what, Err: unwrapPath(err)}
	}
	if len(data) > maxInput {
		return nil, &FileError{File: path, What: what, Err: fmt.Errorf("larger than %d bytes", maxInput)}
	}
	return data, nil
}

// unwrapPath drops the *PathError wrapper, whose path the FileError
// already names.
func unwrapPath(err error) error {
	var pe *os.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}
