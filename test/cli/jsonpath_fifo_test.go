package cli

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestJSONPathIntegers: `check-expiration -o jsonpath=` printed
// residualTime of a fresh node as 3.1535999e+07, and a numeric filter
// failed with "incompatible types for comparison" (exit 1, nothing on
// stdout), as kubectl's JSONPath does neither (docs/renew.md: "-o
// jsonpath=... reads the JSON form below, as kubectl's does").
func TestJSONPathIntegers(t *testing.T) {
	bin := certctlBin(t)
	n := makeNode(t, bin, "ECDSA-P256")
	r := runCode(t, bin, append([]string{"check-expiration", "--warn-within", "720h",
		"-o", "jsonpath={.warnWithinSeconds} {.certificates[?(@.name==\"apiserver\")].residualTime}"}, n.flags()...)...)
	if r.code != 0 || !regexp.MustCompile(`^2592000 3153\d{4}\n$`).MatchString(r.out) {
		t.Errorf("integers: exit %d, stdout %q, want \"2592000 3153....\"\n%s", r.code, r.out, r.errOut)
	}
	r = runCode(t, bin, append([]string{"check-expiration", "-o", "jsonpath={.certificates[?(@.residualTime>2592000)].name}"}, n.flags()...)...)
	if r.code != 0 || !strings.Contains(r.out, "apiserver") {
		t.Errorf("numeric filter: exit %d, stdout %q\n%s", r.code, r.out, r.errOut)
	}
}

// TestRestartsFileFIFO: a FIFO in place of .certctl-restarts.json made
// check-expiration and certs list block until killed; they fail at once,
// naming it.
func TestRestartsFileFIFO(t *testing.T) {
	bin := certctlBin(t)
	n := makeNode(t, bin, "ECDSA-P256")
	fifo := filepath.Join(n.dir, ".certctl-restarts.json")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Fatal(err)
	}
	defer os.Remove(fifo)
	for _, cmd := range [][]string{{"check-expiration"}, {"certs", "list"}} {
		done := make(chan result, 1)
		go func() { done <- runCode(t, bin, append(cmd, n.flags()...)...) }()
		select {
		case r := <-done:
			if r.code != 1 || !strings.Contains(r.errOut, fifo) || !strings.Contains(r.errOut, "FIFO") {
				t.Errorf("%s: exit %d, want 1 naming the FIFO %s\n%s", cmd, r.code, fifo, r.errOut)
			}
		case <-time.After(20 * time.Second):
			if f, err := os.OpenFile(fifo, os.O_WRONLY, 0); err == nil {
				f.Close() // let it end
			}
			t.Fatalf("%s blocked on the FIFO %s", cmd, fifo)
		}
	}
}
