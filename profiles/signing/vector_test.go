package signing

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"encoding/asn1"
	"encoding/json"
	"encoding/pem"
	"errors"
	"flag"
	"os"
	"path/filepath"
	"testing"

	"golang.org/x/crypto/nacl/secretbox"
	"golang.org/x/crypto/scrypt"
)

var update = flag.Bool("update", false, "regenerate the test vector in testdata/signing")

// The committed test vector. The key is fixed: -update writes key.pem only
// when it is missing and derives every other key file from it, then signs
// profile.yaml again (ECDSA signatures are randomised, so the signature
// changes; the tests verify it, they never compare bytes).
var vectorDir = filepath.Join("..", "..", "testdata", "signing")

// vectorPassword encrypts testdata/signing/cosign.key. It protects nothing:
// the same key is committed in clear beside it.
const vectorPassword = "leash-test-vector"

func vectorPath(name string) string { return filepath.Join(vectorDir, name) }

// TestGenerateVector writes the test vector with Go's crypto in cosign's
// formats. It only runs with -update.
func TestGenerateVector(t *testing.T) {
	if !*update {
		t.Skip("run with -update to regenerate testdata/signing")
	}
	var key *ecdsa.PrivateKey
	if data, err := os.ReadFile(vectorPath("key.pem")); err == nil {
		if key, err = ParsePrivateKey(data, nil); err != nil {
			t.Fatal(err)
		}
	} else {
		if key, err = ecdsa.GenerateKey(elliptic.P256(), rand.Reader); err != nil {
			t.Fatal(err)
		}
		priv, err := MarshalPrivateKey(key)
		if err != nil {
			t.Fatal(err)
		}
		writeVector(t, "key.pem", priv)
	}
	pub, err := MarshalPublicKey(&key.PublicKey)
	if err != nil {
		t.Fatal(err)
	}
	writeVector(t, "cosign.pub", pub)
	writeVector(t, "ec.pem", sec1WithParams(t, key))
	if _, err := os.Stat(vectorPath("cosign.key")); err != nil {
		writeVector(t, "cosign.key", encryptCosignKey(t, key, []byte(vectorPassword), 65536))
	}
	blob, err := os.ReadFile(vectorPath("profile.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	der, err := Sign(key, blob)
	if err != nil {
		t.Fatal(err)
	}
	writeVector(t, "profile.yaml.sig", EncodeSignature(der))
}

func writeVector(t *testing.T, name string, data []byte) {
	t.Helper()
	if err := os.WriteFile(vectorPath(name), data, 0o644); err != nil {
		t.Fatal(err)
	}
}

// sec1WithParams encodes key as `openssl ecparam -genkey -name prime256v1`
// prints it: an "EC PARAMETERS" block naming the curve, then the SEC1 key.
func sec1WithParams(t testing.TB, key *ecdsa.PrivateKey) []byte {
	t.Helper()
	params, err := asn1.Marshal(asn1.ObjectIdentifier{1, 2, 840, 10045, 3, 1, 7}) // prime256v1
	if err != nil {
		t.Fatal(err)
	}
	der, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	var b bytes.Buffer
	pem.Encode(&b, &pem.Block{Type: pemECParameters, Bytes: params})
	pem.Encode(&b, &pem.Block{Type: pemSEC1, Bytes: der})
	return b.Bytes()
}

// encryptCosignKey writes key as cosign generate-key-pair does: PKCS#8
// DER in a secretbox keyed by scrypt(password), in a JSON envelope, in an
// "ENCRYPTED SIGSTORE PRIVATE KEY" PEM block.
func encryptCosignKey(t testing.TB, key *ecdsa.PrivateKey, password []byte, n int) []byte {
	t.Helper()
	der, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	var env cosignEnvelope
	env.KDF.Name = kdfScrypt
	env.KDF.Params = scryptParams{N: n, R: 8, P: 1}
	env.KDF.Salt = make([]byte, 32)
	env.Cipher.Name = cipherSecretbox
	env.Cipher.Nonce = make([]byte, boxNonceSize)
	rand.Read(env.KDF.Salt)
	rand.Read(env.Cipher.Nonce)
	k, err := scrypt.Key(password, env.KDF.Salt, n, 8, 1, boxKeySize)
	if err != nil {
		t.Fatal(err)
	}
	var bk [32]byte
	var nonce [24]byte
	copy(bk[:], k)
	copy(nonce[:], env.Cipher.Nonce)
	env.Ciphertext = secretbox.Seal(nil, der, &nonce, &bk)
	body, err := json.Marshal(env)
	if err != nil {
		t.Fatal(err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: pemSigstoreKey, Bytes: body})
}

// TestVector verifies the committed signature with the committed public
// key, and checks that the three committed private key encodings hold the
// key that public key belongs to.
func TestVector(t *testing.T) {
	if err := VerifyFile(vectorPath("profile.yaml"), "", vectorPath("cosign.pub")); err != nil {
		t.Fatalf("committed vector does not verify: %v", err)
	}
	pub, err := LoadPublicKey(vectorPath("cosign.pub"))
	if err != nil {
		t.Fatal(err)
	}
	sig, err := os.ReadFile(vectorPath("profile.yaml.sig"))
	if err != nil {
		t.Fatal(err)
	}
	if bytes.ContainsAny(sig, "\n\r ") {
		t.Errorf("signature file has white space; cosign writes bare base64")
	}
	pw := func() ([]byte, bool) { return []byte(vectorPassword), true }
	for _, name := range []string{"key.pem", "ec.pem", "cosign.key"} {
		t.Run(name, func(t *testing.T) {
			key, err := LoadPrivateKey(vectorPath(name), pw)
			if err != nil {
				t.Fatal(err)
			}
			if !key.PublicKey.Equal(pub) {
				t.Fatalf("%s does not hold the key of cosign.pub", name)
			}
		})
	}
}

// TestVectorCosign checks the vector made by the real cosign binary
// (testdata/signing/cosign-made): its encrypted key
// decrypts to the key of its public key, and its sign-blob signature
// verifies. See that directory's README for how it was made.
func TestVectorCosign(t *testing.T) {
	dir := filepath.Join(vectorDir, "cosign-made")
	profile := filepath.Join(dir, "profile.yaml")
	pubPath := filepath.Join(dir, "cosign.pub")
	for _, sig := range []string{"profile.yaml.sig", "profile.yaml.bundle", "profile.yaml.sigstore.json"} {
		if err := VerifyFile(profile, filepath.Join(dir, sig), pubPath); err != nil {
			t.Errorf("cosign sign-blob %s: %v", sig, err)
		}
		if err := VerifyFile(vectorPath("profile.yaml"), filepath.Join(dir, sig), vectorPath("cosign.pub")); !errors.Is(err, ErrBadSignature) {
			t.Errorf("%s verified with another key: %v", sig, err)
		}
	}
	password, err := os.ReadFile(filepath.Join(dir, "password"))
	if err != nil {
		t.Fatal(err)
	}
	key, err := LoadPrivateKey(filepath.Join(dir, "cosign.key"), func() ([]byte, bool) { return bytes.TrimSpace(password), true })
	if err != nil {
		t.Fatal(err)
	}
	pub, err := LoadPublicKey(pubPath)
	if err != nil {
		t.Fatal(err)
	}
	if !key.PublicKey.Equal(pub) {
		t.Fatal("cosign.key does not hold the key of cosign.pub")
	}
}
