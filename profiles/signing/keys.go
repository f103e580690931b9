package signing

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"os"

	"github.com/leash-project/leash/internal/atomicfile"
)

// PEM block types leash reads and writes.
const (
	pemPublicKey        = "PUBLIC KEY"
	pemPKCS8            = "PRIVATE KEY"
	pemSEC1             = "EC PRIVATE KEY"
	pemECParameters     = "EC PARAMETERS"
	pemEncryptedPKCS8   = "ENCRYPTED PRIVATE KEY"
	pemSigstoreKey      = "ENCRYPTED SIGSTORE PRIVATE KEY"
	pemCosignKey        = "ENCRYPTED COSIGN PRIVATE KEY"
	pemRSAPrivateKey    = "RSA PRIVATE KEY"
	pemCertificate      = "CERTIFICATE"
	passwordEnvVariable = "COSIGN_PASSWORD"
)

// PasswordFunc returns the password of an encrypted cosign key, and
// whether one was given at all.
type PasswordFunc func() (password []byte, given bool)

// EnvPassword reads the password from $COSIGN_PASSWORD, as cosign does.
func EnvPassword() ([]byte, bool) {
	pw, ok := os.LookupEnv(passwordEnvVariable)
	return []byte(pw), ok
}

// LoadPrivateKey reads an ECDSA P-256 private key: an encrypted cosign key
// (password from pw), PKCS#8 or SEC1 PEM. Errors are *FileError.
func LoadPrivateKey(path string, pw PasswordFunc) (*ecdsa.PrivateKey, error) {
	data, err := readInput(path, "private key")
	if err != nil {
		return nil, err
	}
	key, err := ParsePrivateKey(data, pw)
	if err != nil {
		return nil, &FileError{File: path, What: "private key", Err: err}
	}
	return key, nil
}

// ParsePrivateKey decodes the first private key PEM block of data,
// skipping "EC PARAMETERS" blocks such as openssl ecparam writes.
func ParsePrivateKey(data []byte, pw PasswordFunc) (*ecdsa.PrivateKey, error) {
	rest := data
	for {
		var block *pem.Block
		block, rest = pem.Decode(rest)
		if block == nil {
			return nil, errors.New("no PEM private key found (want a cosign key, or a PKCS#8 \"PRIVATE KEY\" or SEC1 \"EC PRIVATE KEY\" PEM)")
		}
		switch block.Type {
		case pemECParameters:
			continue
		case pemSigstoreKey, pemCosignKey:
			der, err := decryptCosignKey(block.Bytes, pw)
			if err != nil {
				return nil, err
			}
			return pkcs8Key(der)
		case pemPKCS8:
			return pkcs8Key(block.Bytes)
		case pemSEC1:
			k, err := x509.ParseECPrivateKey(block.Bytes)
			if err != nil {
				return nil, fmt.Errorf("parse EC PRIVATE KEY: %w", err)
			}
			return checkP256Private(k)
		case pemEncryptedPKCS8:
			return nil, errors.New("encrypted PKCS#8 keys are not supported: decrypt with `openssl pkcs8 -in KEY -out PLAIN.pem`, or use a cosign key")
		case pemPublicKey, pemCertificate:
			return nil, fmt.Errorf("found a %s, not a private key: sign with the private key, verify with the public one", block.Type)
		case pemRSAPrivateKey:
			return nil, errors.New("RSA keys are not supported: use an ECDSA P-256 key (leash keygen, cosign generate-key-pair)")
		default:
			return nil, fmt.Errorf("unsupported PEM block %q", block.Type)
		}
	}
}

func pkcs8Key(der []byte) (*ecdsa.PrivateKey, error) {
	k, err := x509.ParsePKCS8PrivateKey(der)
	if err != nil {
		return nil, fmt.Errorf("parse PKCS#8 private key: %w", err)
	}
	ec, ok := k.(*ecdsa.PrivateKey)
	if !ok {
		return nil, fmt.Errorf("%T keys are not supported: use an ECDSA P-256 key", k)
	}
	return checkP256Private(ec)
}

func checkP256Private(k *ecdsa.PrivateKey) (*ecdsa.PrivateKey, error) {
	if k.Curve != elliptic.P256() {
		return nil, fmt.Errorf("ECDSA key on curve %s: only P-256 is supported", k.Curve.Params().Name)
	}
	return k, nil
}

// LoadPublicKey reads an ECDSA P-256 public key from a PEM "PUBLIC KEY"
// (PKIX) file. Errors are *FileError.
func LoadPublicKey(path string) (*ecdsa.PublicKey, error) {
	data, err := readInput(path, "public key")
	if err != nil {
		return nil, err
	}
	pub, err := ParsePublicKey(data)
	if err != nil {
		return nil, &FileError{File: path, What: "public key", Err: err}
	}
	return pub, nil
}

// ParsePublicKey decodes the first PEM "PUBLIC KEY" block of data.
func ParsePublicKey(data []byte) (*ecdsa.PublicKey, error) {
	block, _ := pem.Decode(data)
	if block == nil {
		return nil, errors.New("no PEM public key found (want a \"PUBLIC KEY\" PEM such as cosign.pub)")
	}
	switch block.Type {
	case pemPublicKey:
	case pemSigstoreKey, pemCosignKey, pemPKCS8, pemSEC1, pemECParameters, pemEncryptedPKCS8, pemRSAPrivateKey:
		return nil, fmt.Errorf("found a %s: verify with the public key (the .pub file), and keep the private key secret", block.Type)
	default:
		return nil, fmt.Errorf("unsupported PEM block %q (want \"PUBLIC KEY\")", block.Type)
	}
	k, err := x509.ParsePKIXPublicKey(block.Bytes)
	if err != nil {
		return nil, fmt.Errorf("parse PKIX public key: %w", err)
	}
	ec, ok := k.(*ecdsa.PublicKey)
	if !ok {
		return nil, fmt.Errorf("%T keys are not supported: use an ECDSA P-256 key", k)
	}
	if ec.Curve != elliptic.P256() {
		return nil, fmt.Errorf("ECDSA key on curve %s: only P-256 is supported", ec.Curve.Params().Name)
	}
	return ec, nil
}

// MarshalPrivateKey returns key as a PKCS#8 "PRIVATE KEY" PEM.
func MarshalPrivateKey(key *ecdsa.PrivateKey) ([]byte, error) {
	der, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return nil, fmt.Errorf("encode private key: %w", err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: pemPKCS8, Bytes: der}), nil
}

// MarshalPublicKey returns pub as a PKIX "PUBLIC KEY" PEM, as cosign
// writes cosign.pub.
func MarshalPublicKey(pub *ecdsa.PublicKey) ([]byte, error) {
	der, err := x509.MarshalPKIXPublicKey(pub)
	if err != nil {
		return nil, fmt.Errorf("encode public key: %w", err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: pemPublicKey, Bytes: der}), nil
}

// GenerateKeyPair makes a new ECDSA P-256 key and writes prefix.key
// (PKCS#8 PEM, mode 0600) and prefix.pub (PKIX PEM, 0644). It refuses to
// replace existing files unless force is set. It returns the two paths.
func GenerateKeyPair(prefix string, force bool) (keyPath, pubPath string, err error) {
	keyPath, pubPath = prefix+".key", prefix+".pub"
	if !force {
		for _, p := range []string{keyPath, pubPath} {
			if _, err := os.Lstat(p); err == nil {
				return "", "", &FileError{File: p, What: "key pair", Err: errors.New("already exists (pass --force to replace it)")}
			}
		}
	}
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return "", "", fmt.Errorf("generate key: %w", err)
	}
	priv, err := MarshalPrivateKey(key)
	if err != nil {
		return "", "", err
	}
	pub, err := MarshalPublicKey(&key.PublicKey)
	if err != nil {
		return "", "", err
	}
	// The temporary file atomicfile writes through is created 0600, so
	// the private key is never readable by others, not even briefly.
	if err := atomicfile.Write(keyPath, priv, 0o600); err != nil {
		return "", "", fmt.Errorf("write private key: %w", err)
	}
	if err := atomicfile.Write(pubPath, pub, 0o644); err != nil {
		return "", "", fmt.Errorf("write public key: %w", err)
	}
	return keyPath, pubPath, nil
}
