package copycerts

import (
	"bytes"
	"context"
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"io"
	"strings"
	"testing"
	"testing/iotest"
)

func TestNewKey(t *testing.T) {
	k, err := NewKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	if len(k) != 2*KeySize || strings.ToLower(k) != k {
		t.Errorf("NewKey = %q, want %d lower-case hex digits", k, 2*KeySize)
	}
	b, err := ParseKey(k)
	if err != nil || len(b) != KeySize {
		t.Fatalf("ParseKey(NewKey()) = %d bytes, %v", len(b), err)
	}
	k2, _ := NewKey(rand.Reader)
	if k == k2 {
		t.Errorf("two keys are equal: %s", k)
	}
	if _, err := NewKey(bytes.NewReader(make([]byte, KeySize-1))); err == nil {
		t.Errorf("NewKey with a short reader: no error")
	}
}

func TestParseKey(t *testing.T) {
	for _, tc := range []struct {
		name, key, want string
	}{
		{"empty", "", "empty"},
		{"not hex", strings.Repeat("zz", KeySize), "invalid certificate key"},
		{"odd digits", strings.Repeat("a", 2*KeySize-1), "invalid certificate key"},
		{"AES-128 size", strings.Repeat("ab", 16), "16 bytes"},
		{"too long", strings.Repeat("ab", KeySize+1), "33 bytes"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := ParseKey(tc.key)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("ParseKey(%q) = %v, want an error with %q", tc.key, err, tc.want)
			}
		})
	}
}

// TestEncryptFormat checks the layout kubeadm's DecryptBytes expects: the
// 12-byte GCM nonce, then the sealed data with its tag, opened here with
// the standard library alone.
func TestEncryptFormat(t *testing.T) {
	key, _ := hex.DecodeString("000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f")
	nonce := []byte("twelve bytes")
	data := []byte("-----BEGIN CERTIFICATE-----\n")
	sealed, err := Encrypt(bytes.NewReader(nonce), key, data)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(sealed[:12], nonce) {
		t.Errorf("sealed data starts with %q, want the nonce %q", sealed[:12], nonce)
	}
	if len(sealed) != 12+len(data)+16 {
		t.Errorf("sealed length %d, want nonce + data + 16-byte tag = %d", len(sealed), 12+len(data)+16)
	}
	block, _ := aes.NewCipher(key)
	gcm, _ := cipher.NewGCM(block)
	plain, err := gcm.Open(nil, sealed[:12], sealed[12:], nil)
	if err != nil || !bytes.Equal(plain, data) {
		t.Errorf("standard AES-GCM open = %q, %v; want %q", plain, err, data)
	}
	if got, err := Decrypt(key, sealed); err != nil || !bytes.Equal(got, data) {
		t.Errorf("decrypt = %q, %v", got, err)
	}

	other := bytes.Clone(key)
	other[0] ^= 1
	if _, err := Decrypt(other, sealed); err == nil {
		t.Errorf("decrypt with another key: no error")
	}
	tampered := bytes.Clone(sealed)
	tampered[len(tampered)-1] ^= 1
	if _, err := Decrypt(key, tampered); err == nil {
		t.Errorf("decrypt of tampered data: no error")
	}
	if _, err := Decrypt(key, sealed[:11]); err == nil || !strings.Contains(err.Error(), "nonce") {
		t.Errorf("decrypt of 11 bytes = %v, want the nonce error", err)
	}
}

func TestRandomString(t *testing.T) {
	// 0xff is drawn again (>= 252); 0 is 'a', 35 is '9', 36 wraps to 'a'.
	s, err := randomString(bytes.NewReader([]byte{0xff, 0, 35, 36, 0xfc, 1, 2}), 3)
	if err != nil {
		t.Fatal(err)
	}
	if s != "a9a" {
		t.Errorf("randomString = %q, want %q", s, "a9a")
	}
	if _, err := randomString(bytes.NewReader([]byte{0xff, 0xff}), 2); err == nil {
		t.Errorf("randomString from an exhausted reader: no error")
	}
}

// TestKeyArg: --certificate-key - reads the key from standard input's
// first line (not shown by ps, as a command line is); any other value is
// the key itself; an empty input or a read error is refused, saying how
// to give the key. Piped, it asks nothing (keyarg_linux_test.go has the
// terminal).
func TestKeyArg(t *testing.T) {
	key := strings.Repeat("ab", KeySize)
	for _, tc := range []struct {
		name, value string
		stdin       io.Reader
		want, err   string
	}{
		{"the key itself", key, nil, key, ""},
		{"empty: left to --config or a new key", "", nil, "", ""},
		{"standard input", "-", strings.NewReader(key + "\n"), key, ""},
		{"without a newline, with spaces", "-", strings.NewReader("  " + key + " "), key, ""},
		{"only its first line", "-", strings.NewReader(key + "\nsomething else\n"), key, ""},
		{"nothing on standard input", "-", strings.NewReader(""), "", "standard input holds no key: give it the key, e.g. printf"},
		{"a blank line", "-", strings.NewReader("\n"), "", "standard input holds no key"},
		{"a read error", "-", iotest.ErrReader(errors.New("boom")), "", "--certificate-key -: read the key from standard input: boom"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var prompt bytes.Buffer
			got, err := KeyArg(context.Background(), tc.value, tc.stdin, &prompt)
			if got != tc.want || (err == nil) != (tc.err == "") || err != nil && !strings.Contains(err.Error(), tc.err) {
				t.Errorf("KeyArg(%q) = %q, %v; want %q, %q", tc.value, got, err, tc.want, tc.err)
			}
			if prompt.Len() > 0 {
				t.Errorf("a prompt without a terminal: %q", prompt.String())
			}
		})
	}
}
