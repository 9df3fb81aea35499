package lock

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// TestNoWaitSaysSo: --lock-timeout 0 ("do not wait") while another
// certctl holds the lock (in the middle of its commit, say) fails at once
// with one line that names the lock file and the holder and says that it
// did not wait, and how to wait. It said "waited 0s; ... raise
// --lock-timeout", as if a wait had been tried and was too short.
func TestNoWaitSaysSo(t *testing.T) {
	p := filepath.Join(t.TempDir(), FileName)
	l, err := AcquireWait(context.Background(), p, Wait{})
	if err != nil {
		t.Fatal(err)
	}
	defer l.Release()
	var progress bytes.Buffer
	_, err = AcquireWait(context.Background(), p, Wait{Timeout: 0, Progress: &progress})
	var held *HeldError
	if !errors.As(err, &held) {
		t.Fatalf("err = %v, want a *HeldError", err)
	}
	msg := err.Error()
	for _, want := range []string{p, "pid " + strconv.Itoa(os.Getpid()), "not waited for, as --lock-timeout is 0", "pass --lock-timeout 5m to wait"} {
		if !strings.Contains(msg, want) {
			t.Errorf("message %q lacks %q", msg, want)
		}
	}
	if strings.Contains(msg, "waited 0s") || strings.Contains(msg, "raise --lock-timeout") || strings.Contains(msg, "\n") {
		t.Errorf("message %q: want one line that does not speak of a wait", msg)
	}
	if progress.Len() != 0 {
		t.Errorf("progress %q: nothing was waited for", progress.String())
	}
}
