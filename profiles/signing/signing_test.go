package signing

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"encoding/pem"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/leash-project/leash/internal/testutil"
)

// fixture is a signed profile in a temporary directory.
type fixture struct {
	dir, profile, sig, pub, key string
	priv                        *ecdsa.PrivateKey
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	dir := t.TempDir()
	keyPath, pubPath, err := GenerateKeyPair(filepath.Join(dir, "team"), false)
	if err != nil {
		t.Fatal(err)
	}
	blob, err := os.ReadFile(vectorPath("profile.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	f := &fixture{dir: dir, profile: filepath.Join(dir, "web.yaml"), pub: pubPath, key: keyPath}
	if err := os.WriteFile(f.profile, blob, 0o644); err != nil {
		t.Fatal(err)
	}
	if f.sig, err = SignFile(f.profile, keyPath, ""); err != nil {
		t.Fatal(err)
	}
	if f.priv, err = LoadPrivateKey(keyPath, nil); err != nil {
		t.Fatal(err)
	}
	return f
}

func (f *fixture) write(t *testing.T, name string, data []byte) string {
	t.Helper()
	p := filepath.Join(f.dir, name)
	if err := os.WriteFile(p, data, 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestSignVerify(t *testing.T) {
	f := newFixture(t)
	if f.sig != f.profile+".sig" {
		t.Errorf("default signature path %q, want %q", f.sig, f.profile+".sig")
	}
	if err := VerifyFile(f.profile, "", f.pub); err != nil {
		t.Fatalf("good signature: %v", err)
	}
	st, err := os.Stat(f.key)
	if err != nil {
		t.Fatal(err)
	}
	if st.Mode().Perm() != 0o600 {
		t.Errorf("private key mode %v, want 0600", st.Mode().Perm())
	}
	if _, _, err := GenerateKeyPair(filepath.Join(f.dir, "team"), false); !errors.Is(err, ErrInput) {
		t.Errorf("keygen over an existing key: %v, want a refusal", err)
	}
}

// TestVerifyFails covers the ways a signature must not verify: every one
// is ErrBadSignature (exit 1), never an input error.
func TestVerifyFails(t *testing.T) {
	f := newFixture(t)
	blob, _ := os.ReadFile(f.profile)
	other, _, err := GenerateKeyPair(filepath.Join(f.dir, "other"), false)
	if err != nil {
		t.Fatal(err)
	}
	otherSig, err := SignFile(f.profile, other, filepath.Join(f.dir, "other.sig"))
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name         string
		profile, sig string
	}{
		{"one byte changed", f.write(t, "tampered.yaml", flipByte(blob, bytes.Index(blob, []byte("user: executor"))+6)), f.sig},
		{"one byte appended", f.write(t, "appended.yaml", append(append([]byte(nil), blob...), '\n')), f.sig},
		{"signed by another key", f.profile, otherSig},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := VerifyFile(tc.profile, tc.sig, f.pub)
			if !errors.Is(err, ErrBadSignature) || errors.Is(err, ErrInput) {
				t.Fatalf("got %v, want ErrBadSignature", err)
			}
			msg := err.Error()
			if !strings.Contains(msg, tc.profile) || !strings.Contains(msg, "does not verify") || strings.Contains(msg, "\n") {
				t.Errorf("error %q should be one line naming %s", msg, tc.profile)
			}
		})
	}
}

func flipByte(b []byte, i int) []byte {
	out := append([]byte(nil), b...)
	out[i] ^= 0x01
	return out
}

// TestMalformedInputs: every unreadable or malformed file is ErrInput
// (exit 2) with a one-line error that names the file.
func TestMalformedInputs(t *testing.T) {
	f := newFixture(t)
	goodSig, _ := os.ReadFile(f.sig)
	der, _ := base64.StdEncoding.DecodeString(string(goodSig))
	pubPEM, _ := os.ReadFile(f.pub)
	p384, _ := ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
	p384pub, _ := x509.MarshalPKIXPublicKey(&p384.PublicKey)
	rsaKey, _ := rsa.GenerateKey(rand.Reader, 1024)
	rsaPub, _ := x509.MarshalPKIXPublicKey(&rsaKey.PublicKey)

	type files struct{ profile, sig, pub string }
	tests := []struct {
		name    string
		f       files
		blame   string // the file the error must name
		message string // a part of the message
	}{
		{"missing profile", files{profile: filepath.Join(f.dir, "nope.yaml"), sig: f.sig, pub: f.pub}, "nope.yaml", "no such file"},
		{"missing signature", files{f.profile, filepath.Join(f.dir, "none.sig"), f.pub}, "none.sig", "no such file"},
		{"missing key", files{f.profile, f.sig, filepath.Join(f.dir, "none.pub")}, "none.pub", "no such file"},
		{"empty signature", files{f.profile, f.write(t, "empty.sig", nil), f.pub}, "empty.sig", "empty"},
		{"garbage signature", files{f.profile, f.write(t, "garbage.sig", []byte("not a signature at all!")), f.pub}, "garbage.sig", "not a base64 or DER"},
		{"truncated signature", files{f.profile, f.write(t, "short.sig", EncodeSignature(der[:len(der)-3])), f.pub}, "short.sig", "not a base64 or DER"},
		{"trailing data", files{f.profile, f.write(t, "trail.sig", EncodeSignature(append(append([]byte(nil), der...), 0, 0))), f.pub}, "trail.sig", "trailing"},
		{"empty bundle", files{f.profile, f.write(t, "empty.bundle", []byte(`{"mediaType": "x"}`)), f.pub}, "empty.bundle", "no messageSignature"},
		{"DSSE bundle", files{f.profile, f.write(t, "dsse.bundle", []byte(`{"dsseEnvelope": {"payload": ""}}`)), f.pub}, "dsse.bundle", "DSSE envelope"},
		{"broken bundle", files{f.profile, f.write(t, "broken.bundle", []byte(`{"base64Signature": `)), f.pub}, "broken.bundle", "not a cosign bundle"},
		{"garbage key", files{f.profile, f.sig, f.write(t, "garbage.pub", []byte("ssh-ed25519 AAAA"))}, "garbage.pub", "no PEM public key"},
		{"damaged key", files{f.profile, f.sig, f.write(t, "damaged.pub", bytes.Replace(pubPEM, []byte("MFkw"), []byte("MFkx"), 1))}, "damaged.pub", "parse PKIX"},
		{"private key as public", files{f.profile, f.sig, f.key}, filepath.Base(f.key), "PRIVATE KEY"},
		{"P-384 key", files{f.profile, f.sig, f.write(t, "p384.pub", pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: p384pub}))}, "p384.pub", "only P-256"},
		{"RSA key", files{f.profile, f.sig, f.write(t, "rsa.pub", pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: rsaPub}))}, "rsa.pub", "rsa.PublicKey"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := VerifyFile(tc.f.profile, tc.f.sig, tc.f.pub)
			checkInputError(t, err, tc.blame, tc.message)
		})
	}
}

func checkInputError(t *testing.T, err error, blame, message string) {
	t.Helper()
	if !errors.Is(err, ErrInput) || errors.Is(err, ErrBadSignature) {
		t.Fatalf("got %v, want an input error", err)
	}
	msg := err.Error()
	if !strings.Contains(msg, blame) || !strings.Contains(msg, message) || strings.Contains(msg, "\n") {
		t.Errorf("error %q should be one line naming %s and saying %q", msg, blame, message)
	}
}

// TestPrivateKeyFormats signs with each private key format leash reads
// and verifies with the one public key.
func TestPrivateKeyFormats(t *testing.T) {
	f := newFixture(t)
	pkcs8, _ := MarshalPrivateKey(f.priv)
	cosignKey := encryptCosignKey(t, f.priv, []byte("s3cret"), 32768)
	emptyPw := encryptCosignKey(t, f.priv, nil, 32768)
	oldType := bytes.ReplaceAll(cosignKey, []byte("SIGSTORE"), []byte("COSIGN"))
	tests := []struct {
		name     string
		data     []byte
		password *string // nil: COSIGN_PASSWORD unset
	}{
		{"pkcs8", pkcs8, nil},
		{"sec1 with EC PARAMETERS", sec1WithParams(t, f.priv), nil},
		{"cosign sigstore key", cosignKey, ptr("s3cret")},
		{"cosign key, old PEM type", oldType, ptr("s3cret")},
		{"cosign key, empty password, unset", emptyPw, nil},
		{"cosign key, empty password, set", emptyPw, ptr("")},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			setPassword(t, tc.password)
			keyPath := f.write(t, "k.pem", tc.data)
			sigPath, err := SignFile(f.profile, keyPath, filepath.Join(f.dir, "k.sig"))
			if err != nil {
				t.Fatal(err)
			}
			if err := VerifyFile(f.profile, sigPath, f.pub); err != nil {
				t.Fatal(err)
			}
		})
	}
}

func ptr(s string) *string { return &s }

func setPassword(t *testing.T, pw *string) {
	t.Helper()
	if pw == nil {
		t.Setenv(passwordEnvVariable, "")
		os.Unsetenv(passwordEnvVariable)
	} else {
		t.Setenv(passwordEnvVariable, *pw)
	}
}

func TestBadPrivateKeys(t *testing.T) {
	f := newFixture(t)
	cosignKey := encryptCosignKey(t, f.priv, []byte("s3cret"), 32768)
	block, _ := pem.Decode(cosignKey)
	hugeN := pem.EncodeToMemory(&pem.Block{Type: pemSigstoreKey, Bytes: bytes.Replace(block.Bytes, []byte(`"N":32768`), []byte(`"N":1048576`), 1)})
	pubPEM, _ := os.ReadFile(f.pub)
	p384, _ := ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
	p384der, _ := x509.MarshalPKCS8PrivateKey(p384)
	tests := []struct {
		name     string
		data     []byte
		password *string
		message  string
	}{
		{"wrong password", cosignKey, ptr("guess"), "wrong COSIGN_PASSWORD"},
		{"password unset", cosignKey, nil, "set COSIGN_PASSWORD"},
		{"scrypt parameters tampered", hugeN, ptr("s3cret"), "unexpected scrypt parameters"},
		{"public key", pubPEM, nil, "not a private key"},
		{"P-384", pem.EncodeToMemory(&pem.Block{Type: pemPKCS8, Bytes: p384der}), nil, "only P-256"},
		{"encrypted PKCS#8", pem.EncodeToMemory(&pem.Block{Type: pemEncryptedPKCS8, Bytes: []byte{1}}), nil, "not supported"},
		{"not PEM", []byte("hello"), nil, "no PEM private key"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			setPassword(t, tc.password)
			keyPath := f.write(t, "bad.key", tc.data)
			_, err := SignFile(f.profile, keyPath, filepath.Join(f.dir, "bad.sig"))
			checkInputError(t, err, "bad.key", tc.message)
			if _, err := os.Stat(filepath.Join(f.dir, "bad.sig")); err == nil {
				t.Error("a signature file was written despite the error")
			}
		})
	}
}

// TestParseSignatureEncodings: cosign's verify-blob accepts base64 with
// line breaks (as `base64` wraps it) and raw DER; so does leash.
func TestParseSignatureEncodings(t *testing.T) {
	f := newFixture(t)
	blob, _ := os.ReadFile(f.profile)
	der, err := Sign(f.priv, blob)
	if err != nil {
		t.Fatal(err)
	}
	b64 := base64.StdEncoding.EncodeToString(der)
	wrapped := b64[:40] + "\n" + b64[40:] + "\n"
	for name, content := range map[string][]byte{
		"bare base64":    []byte(b64),
		"newline at end": []byte(b64 + "\n"),
		"wrapped":        []byte(wrapped),
		"raw DER":        der,
	} {
		t.Run(name, func(t *testing.T) {
			got, err := ParseSignature(content)
			if err != nil {
				t.Fatal(err)
			}
			if !Verify(&f.priv.PublicKey, blob, got) {
				t.Fatal("does not verify")
			}
		})
	}
}

// TestOpenSSL checks leash against an independent implementation: a
// signature made by `openssl dgst -sha256 -sign key.pem | base64` verifies
// with leash, and one made by leash verifies with `openssl dgst -verify`.
func TestOpenSSL(t *testing.T) {
	openssl, err := exec.LookPath("openssl")
	if err != nil {
		testutil.SkipOrFail(t, "openssl not installed")
	}
	f := newFixture(t)
	// openssl's own key, in the form `openssl ecparam -genkey` writes.
	sslKey := filepath.Join(f.dir, "ssl.pem")
	run(t, openssl, "ecparam", "-genkey", "-name", "prime256v1", "-out", sslKey)
	sslPub := filepath.Join(f.dir, "ssl.pub")
	run(t, openssl, "ec", "-in", sslKey, "-pubout", "-out", sslPub)

	t.Run("openssl signs, leash verifies", func(t *testing.T) {
		der := run(t, openssl, "dgst", "-sha256", "-sign", sslKey, f.profile)
		sig := f.write(t, "ssl.sig", []byte(base64.StdEncoding.EncodeToString(der)+"\n"))
		if err := VerifyFile(f.profile, sig, sslPub); err != nil {
			t.Fatal(err)
		}
		if err := VerifyFile(f.profile, sig, f.pub); !errors.Is(err, ErrBadSignature) {
			t.Fatalf("verified with the wrong key: %v", err)
		}
	})
	t.Run("leash signs with an openssl key, openssl verifies", func(t *testing.T) {
		sig, err := SignFile(f.profile, sslKey, filepath.Join(f.dir, "byleash.sig"))
		if err != nil {
			t.Fatal(err)
		}
		content, _ := os.ReadFile(sig)
		der, err := ParseSignature(content)
		if err != nil {
			t.Fatal(err)
		}
		raw := f.write(t, "byleash.der", der)
		out := run(t, openssl, "dgst", "-sha256", "-verify", sslPub, "-signature", raw, f.profile)
		if !bytes.Contains(out, []byte("Verified OK")) {
			t.Fatalf("openssl: %s", out)
		}
	})
}

func run(t *testing.T, name string, args ...string) []byte {
	t.Helper()
	var stderr bytes.Buffer
	cmd := exec.Command(name, args...)
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("%s %s: %v: %s", name, strings.Join(args, " "), err, stderr.String())
	}
	return out
}
