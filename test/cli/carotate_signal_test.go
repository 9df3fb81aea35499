package cli

import (
	"path/filepath"
	"strings"
	"syscall"
	"testing"
)

// TestSignalDuringRotationRestarts: `ca rotate --restart-control-plane`
// stopped by SIGTERM while it restarts the components, after its stage
// committed, said "interrupted; nothing was changed": the stage was made
// (its record, the new CA, the trust files), and the restarts it names
// are owed. It now says the stage was made and what to run.
func TestSignalDuringRotationRestarts(t *testing.T) {
	bin := certctlBin(t)
	n := makeRotationNode(t, bin)
	args := append(n.rotateArgs("ca", false), "--restart-control-plane")
	stderr, _ := interrupt(t, bin, interruptCase{name: "ca rotate", args: args, ready: "[restart]"}, syscall.SIGTERM)
	after := readRotationRecord(t, filepath.Join(n.certDir, ".certctl-rotation-ca.json"))
	if after == nil {
		t.Fatalf("no rotation record after the signal, which came once a restart began:\n%s", stderr)
	}
	if after != nil && strings.Contains(stderr, "nothing was changed") {
		t.Errorf("ca rotate made stage %s, then said:\n%s", after.Stage, stderr)
	}
	if after != nil && (!strings.Contains(stderr, "stage "+after.Stage+" of the ca rotation was made") || !strings.Contains(stderr, "--restart-control-plane` again")) {
		t.Errorf("ca rotate made stage %s, but does not say so and what to run:\n%s", after.Stage, stderr)
	}
}
