package cli

import (
	"strings"
	"testing"
)

// TestDocumentedTimerDropIn: docs/cron.md said to add renew flags with
// `systemctl edit certctl-renew.service`; a drop-in's ExecStart= is added
// to the unit's, and a oneshot service runs both, the original first. Its
// drop-in example now empties ExecStart= first: merged as systemd merges
// it, one command is left, and it runs as written on a test node.
func TestDocumentedTimerDropIn(t *testing.T) {
	bin := certctlBin(t)
	var execStart []string
	for _, block := range []string{docBlock(t, "ini certctl-renew.service"), docBlock(t, "ini certctl-renew.service.d/override.conf")} {
		for _, l := range strings.Split(block, "\n") {
			if v, ok := strings.CutPrefix(l, "ExecStart="); ok {
				execStart = append(execStart, v)
				if v == "" { // systemd.service(5): an empty value resets the list
					execStart = nil
				}
			}
		}
	}
	if len(execStart) != 1 {
		t.Fatalf("the unit with the documented drop-in runs %d commands: %q", len(execStart), execStart)
	}
	words := strings.Fields(execStart[0])
	if words[0] != "/usr/local/bin/certctl" {
		t.Fatalf("drop-in ExecStart %q", execStart[0])
	}
	n := makeNode(t, bin, "ECDSA-P256")
	args := strings.Fields(strings.Replace(strings.Join(words[1:], " "), "/srv/k8s/manifests", t.TempDir(), 1))
	if r := runCode(t, bin, append(args, n.flags()...)...); r.code != 2 {
		t.Errorf("certctl %s: exit %d, want 2 (nothing to do)\n%s%s", strings.Join(args, " "), r.code, r.out, r.errOut)
	}
}
