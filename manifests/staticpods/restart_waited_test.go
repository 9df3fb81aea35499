package staticpods

import (
	"bytes"
	"context"
	"math"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestRestartWaitedAgrees: a restart whose wait ends at --restart-timeout
// reports in waitedSeconds the time it waited, the one its message prints.
// Before, waitedSeconds was the time of the last check before the timeout
// (0.7 here), while the message said "after 1s".
func TestRestartWaitedAgrees(t *testing.T) {
	oldCert, newCert := newCert(t, 1001), newCert(t, 2002)
	n := newNode(t, oldCert)
	n.writeCert(t, "apiserver.crt", newCert)
	set, err := Load(n.manifestDir)
	if err != nil {
		t.Fatal(err)
	}
	affected := set.Affected([]string{filepath.Join(n.certDir, "apiserver.crt")})
	k := &kubelet{pids: map[int]int{}}
	var out bytes.Buffer
	timeout := time.Second
	results, err := Restart(context.Background(), affected, Options{Timeout: timeout, Poll: 700 * time.Millisecond, Now: fixedNow, Out: &out, ListenerPID: k.listenerPID})
	if err == nil || len(results) != 1 {
		t.Fatalf("Restart: %v, %+v", err, results)
	}
	r := results[0]
	if r.WaitedSeconds < timeout.Seconds() {
		t.Errorf("waitedSeconds %v, less than the --restart-timeout %s the wait lasted", r.WaitedSeconds, timeout)
	}
	printed := time.Duration(math.Round(r.WaitedSeconds*1000)) * time.Millisecond
	if !strings.Contains(r.Message, "after "+printed.String()) {
		t.Errorf("waitedSeconds %v, but the message does not say after %s: %s", r.WaitedSeconds, printed, r.Message)
	}
}
