package cli

import (
	"bytes"
	"errors"
	"os"
	"os/exec"
	"strings"
	"testing"
)

// TestPrintedOutputLostIsAnError: `certs certificate-key` and
// `install-timer --dry-run` print what a script saves (`certctl certs
// certificate-key > key`, `install-timer --dry-run > units`). Their write
// to stdout was not checked: on a full disk the key or the units were lost
// and certctl exited 0, and with the reader of a pipe gone it exited 0
// rather than 141 (docs/exit-codes.md). They now fail, naming the write.
func TestPrintedOutputLostIsAnError(t *testing.T) {
	bin := certctlBin(t)
	full, err := os.OpenFile("/dev/full", os.O_WRONLY, 0)
	if err != nil {
		t.Skipf("no /dev/full: %v", err)
	}
	defer full.Close()
	for _, args := range [][]string{
		{"certs", "certificate-key"},
		{"install-timer", "--dry-run", "--node-name", "cp-1"},
	} {
		name := strings.Join(args, " ")
		cmd := exec.Command(bin, args...)
		var errOut bytes.Buffer
		cmd.Stdout, cmd.Stderr = full, &errOut
		err := cmd.Run()
		var ee *exec.ExitError
		if !errors.As(err, &ee) || ee.ExitCode() != 1 || !strings.Contains(errOut.String(), "no space left on device") {
			t.Errorf("%s > /dev/full: %v, stderr %q; want exit 1 naming the failed write", name, err, errOut.String())
		}
	}
}
