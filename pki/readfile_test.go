package pki

import (
	"crypto/rand"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/certctl/certctl/internal/treetest"
)

func TestReadFileRefusesNonRegular(t *testing.T) {
	dir := t.TempDir()
	fifo := filepath.Join(dir, "ca.key")
	treetest.FIFO(t, fifo)
	for path, kind := range map[string]string{fifo: "FIFO", os.DevNull: "device", dir: "folder"} {
		if _, err := ReadFile(path); !errors.Is(err, ErrNotRegular) || !strings.Contains(err.Error(), path) || !strings.Contains(err.Error(), kind) {
			t.Errorf("%s: err = %v, want ErrNotRegular naming the file and %q", path, err, kind)
		}
	}
	if _, _, err := ReadCertFile(fifo); !errors.Is(err, ErrNotRegular) {
		t.Errorf("ReadCertFile on a FIFO: %v", err)
	}
	regular := filepath.Join(dir, "x")
	if err := os.WriteFile(regular, []byte("data"), 0o600); err != nil {
		t.Fatal(err)
	}
	link := filepath.Join(dir, "link")
	if err := os.Symlink(regular, link); err != nil {
		t.Fatal(err)
	}
	if data, err := ReadFile(link); err != nil || string(data) != "data" {
		t.Errorf("symlink to a regular file: %q %v", data, err)
	}
	// A link to itself read "too many levels of symbolic links", which
	// every caller took for a permission problem.
	loop := filepath.Join(dir, "apiserver.key")
	if err := os.Symlink("apiserver.key", loop); err != nil {
		t.Fatal(err)
	}
	if _, err := ReadFile(loop); !errors.Is(err, ErrNotRegular) || !strings.Contains(err.Error(), loop) || !strings.Contains(err.Error(), "leads back to itself") {
		t.Errorf("a symbolic link to itself: %v, want ErrNotRegular naming the file and the loop", err)
	}
}

// TestLoadCARefusesFIFO: a FIFO in place of a CA's certificate or key is
// refused at once, as every other reader refuses it, instead of blocking
// the command until something writes to it.
func TestLoadCARefusesFIFO(t *testing.T) {
	dir := t.TempDir()
	fifo := filepath.Join(dir, "fifo")
	treetest.FIFO(t, fifo)
	key, err := GenerateKey(rand.Reader, ECDSAP256)
	if err != nil {
		t.Fatal(err)
	}
	ca, err := NewSelfSignedCA(rand.Reader, Profile{CommonName: "ca", IsCA: true}, key, NewValidity(fixedNow, 0, time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	certFile := filepath.Join(dir, "ca.crt")
	if err := os.WriteFile(certFile, EncodeCert(ca), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct{ cert, key string }{{fifo, ""}, {certFile, fifo}} {
		call := fmt.Sprintf("LoadCA(%s, %s)", tt.cert, tt.key)
		err := treetest.Unblocked(t, call, func() error { _, err := LoadCA(tt.cert, tt.key, time.Time{}); return err })
		if !errors.Is(err, ErrNotRegular) || !strings.Contains(err.Error(), fifo) {
			t.Errorf("%s: %v; want ErrNotRegular naming %s", call, err, fifo)
		}
	}
}

// TestExistsLinkLoop: a file that is a symbolic link leading back to
// itself is an error naming the link, its target and what to correct; it
// said "check FILE: stat FILE: too many levels of symbolic links".
func TestExistsLinkLoop(t *testing.T) {
	dir := t.TempDir()
	a, b := filepath.Join(dir, "apiserver.crt"), filepath.Join(dir, "other.crt")
	if err := os.Symlink(b, a); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(a, b); err != nil {
		t.Fatal(err)
	}
	ok, err := Exists(a)
	treetest.ErrMentions(t, err, a+" is a symbolic link to "+b, "leads back to itself", "correct the link (ls -l "+a+")")
	if ok {
		t.Error("Exists = true, want false")
	}
}
