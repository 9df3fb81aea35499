package copycerts

import (
	"bytes"
	"crypto/rand"
	"testing"
)

// FuzzSealRoundTrip: whatever is sealed opens to itself with the key, and
// not with another key or after any one byte changed.
func FuzzSealRoundTrip(f *testing.F) {
	f.Add([]byte(""), byte(0), 0)
	f.Add([]byte("-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n"), byte(7), 40)
	f.Fuzz(func(t *testing.T, data []byte, flip byte, at int) {
		key := bytes.Repeat([]byte{0x5a}, KeySize)
		sealed, err := Encrypt(rand.Reader, key, data)
		if err != nil {
			t.Fatal(err)
		}
		got, err := Decrypt(key, sealed)
		if err != nil || !bytes.Equal(got, data) {
			t.Fatalf("Decrypt(Encrypt(%q)) = %q, %v", data, got, err)
		}
		if flip != 0 {
			tampered := bytes.Clone(sealed)
			i := at % len(tampered)
			if i < 0 {
				i = -i
			}
			tampered[i] ^= flip
			if _, err := Decrypt(key, tampered); err == nil {
				t.Fatalf("byte %d changed by %#x: decrypt succeeded", i, flip)
			}
		}
	})
}

// FuzzDownloadData: a Secret's entries, however malformed (not sealed, or
// sealed garbage), are refused with an error, never a panic, before
// anything is written.
func FuzzDownloadData(f *testing.F) {
	f.Add([]byte("-----BEGIN PUBLIC KEY-----\n-----END PUBLIC KEY-----\n"), true)
	f.Add([]byte("short"), false)
	f.Fuzz(func(t *testing.T, content []byte, seal bool) {
		key := bytes.Repeat([]byte{0xa5}, KeySize)
		v := content
		if seal {
			var err error
			if v, err = Encrypt(rand.Reader, key, content); err != nil {
				t.Fatal(err)
			}
		}
		data := map[string][]byte{}
		for _, e := range entries("/nonexistent", nil) {
			data[e.key] = v
		}
		files, err := decryptAll(data, key)
		if err != nil {
			return
		}
		// The same bytes as a certificate, a key and a public key cannot all
		// parse: check refuses them.
		if err := check(entries("/nonexistent", nil), files, "fuzz", "fix"); err == nil && len(content) > 0 {
			t.Fatalf("check accepted %q as every entry", content)
		}
	})
}
