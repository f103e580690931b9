package signing

import (
	"encoding/json"
	"errors"
	"fmt"

	"golang.org/x/crypto/nacl/secretbox"
	"golang.org/x/crypto/scrypt"
)

// The body of an "ENCRYPTED SIGSTORE PRIVATE KEY" PEM block, as cosign
// generate-key-pair writes it (go-securesystemslib's encrypted package):
//
//	{"kdf":{"name":"scrypt","params":{"N":65536,"r":8,"p":1},"salt":"<base64>"},
//	 "cipher":{"name":"nacl/secretbox","nonce":"<base64, 24 bytes>"},
//	 "ciphertext":"<base64>"}
//
// The secretbox key is scrypt(password, salt, N, r, p, 32); the plaintext
// is the PKCS#8 DER of the private key. []byte fields are standard base64
// in encoding/json, as in the original.
type cosignEnvelope struct {
	KDF struct {
		Name   string       `json:"name"`
		Params scryptParams `json:"params"`
		Salt   []byte       `json:"salt"`
	} `json:"kdf"`
	Cipher struct {
		Name  string `json:"name"`
		Nonce []byte `json:"nonce"`
	} `json:"cipher"`
	Ciphertext []byte `json:"ciphertext"`
}

type scryptParams struct {
	N int `json:"N"`
	R int `json:"r"`
	P int `json:"p"`
}

// acceptedScrypt lists the scrypt parameters cosign's library writes
// (legacy 2^15, standard 2^16, OWASP 2^17). Others are refused, so a
// tampered key file cannot make leash spend minutes or gigabytes in scrypt.
var acceptedScrypt = []scryptParams{{32768, 8, 1}, {65536, 8, 1}, {131072, 8, 1}}

const (
	kdfScrypt       = "scrypt"
	cipherSecretbox = "nacl/secretbox"
	boxKeySize      = 32
	boxNonceSize    = 24
)

// decryptCosignKey opens the JSON envelope of an encrypted cosign key and
// returns the PKCS#8 DER inside.
func decryptCosignKey(body []byte, pw PasswordFunc) ([]byte, error) {
	var env cosignEnvelope
	if err := json.Unmarshal(body, &env); err != nil {
		return nil, fmt.Errorf("decode encrypted cosign key: %w", err)
	}
	if env.KDF.Name != kdfScrypt {
		return nil, fmt.Errorf("encrypted cosign key: unsupported kdf %q (want scrypt)", env.KDF.Name)
	}
	if env.Cipher.Name != cipherSecretbox {
		return nil, fmt.Errorf("encrypted cosign key: unsupported cipher %q (want nacl/secretbox)", env.Cipher.Name)
	}
	ok := false
	for _, p := range acceptedScrypt {
		ok = ok || env.KDF.Params == p
	}
	if !ok {
		return nil, fmt.Errorf("encrypted cosign key: unexpected scrypt parameters N=%d r=%d p=%d", env.KDF.Params.N, env.KDF.Params.R, env.KDF.Params.P)
	}
	if len(env.KDF.Salt) == 0 {
		return nil, errors.New("encrypted cosign key: empty salt")
	}
	if len(env.Cipher.Nonce) != boxNonceSize {
		return nil, fmt.Errorf("encrypted cosign key: nonce is %d bytes, want %d", len(env.Cipher.Nonce), boxNonceSize)
	}
	var password []byte
	given := false
	if pw != nil {
		password, given = pw()
	}
	k, err := scrypt.Key(password, env.KDF.Salt, env.KDF.Params.N, env.KDF.Params.R, env.KDF.Params.P, boxKeySize)
	if err != nil {
		return nil, fmt.Errorf("derive key: %w", err)
	}
	var key [boxKeySize]byte
	var nonce [boxNonceSize]byte
	copy(key[:], k)
	copy(nonce[:], env.Cipher.Nonce)
	der, ok := secretbox.Open(nil, env.Ciphertext, &nonce, &key)
	if !ok {
		if !given {
			return nil, errors.New("cannot decrypt the cosign key with an empty password: set " + passwordEnvVariable)
		}
		return nil, errors.New("cannot decrypt the cosign key: wrong " + passwordEnvVariable + " or a damaged key")
	}
	return der, nil
}
