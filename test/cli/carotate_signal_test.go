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
// are owed.
//
// Not fixed yet: phases/carotate's restart must return, once interrupted,
// an exitcode.Changed that says the stage was made and what to run (as
// phases/renew's interruptedRestarts does). Drop the Skip with that fix.
func TestSignalDuringRotationRestarts(t *testing.T) {
	t.Skip("known defect: an interrupted ca rotate --restart-control-plane says nothing was changed after its stage was made (phases/carotate, not fixed here)")
	bin := certctlBin(t)
	n := makeRotationNode(t, bin)
	args := append(n.rotateArgs("ca", false), "--restart-control-plane")
	stderr, _ := interrupt(t, bin, interruptCase{name: "ca rotate", args: args, ready: "[restart]"}, syscall.SIGTERM)
	after := readRotationRecord(t, filepath.Join(n.certDir, ".certctl-rotation-ca.json"))
	if after != nil && strings.Contains(stderr, "nothing was changed") {
		t.Errorf("ca rotate made stage %s, then said:\n%s", after.Stage, stderr)
	}
}
