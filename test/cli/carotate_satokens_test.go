package cli

import (
	"os/exec"
	"strings"
	"testing"
	"time"
)

// TestSAFinishWaitsFromTheRecordedRestart: without --restart-control-plane,
// kube-apiserver signs tokens with the old sa.key until the user restarts
// it, maybe long after reissue. The --restarted that records the restarts
// of reissue stops there and says when finish goes; finish is refused
// until --max-token-lifetime after it, then goes.
func TestSAFinishWaitsFromTheRecordedRestart(t *testing.T) {
	bin := certctlBin(t)
	n := makeRotationNode(t, bin)
	const life = 3 * time.Second
	args := func(extra ...string) []string {
		return append(append([]string{"ca", "rotate", "sa", "--manifest-dir", n.manifestDir, "--node-only", "--max-token-lifetime", life.String()}, n.flags()...), extra...)
	}
	run(t, bin, args()...)              // trust
	run(t, bin, args("--restarted")...) // reissue
	time.Sleep(life + time.Second)      // the user restarts kube-apiserver late
	out := run(t, bin, args("--restarted")...)
	if !strings.Contains(out, "the restarts after stage reissue are recorded") || !strings.Contains(out, "run `certctl ca rotate sa") {
		t.Fatalf("--restarted at reissue, later than --max-token-lifetime after it, says:\n%s\nwant the restarts recorded and finish left for later", out)
	}
	refused, err := exec.Command(bin, args()...).CombinedOutput()
	if err == nil || !strings.Contains(string(refused), "tokens signed by the old service-account key may be valid until") {
		t.Fatalf("finish right after the recorded restart: %v\n%s\nwant a refusal", err, refused)
	}
	time.Sleep(life)
	if out := run(t, bin, args()...); !strings.Contains(out, "finish done and verified") {
		t.Fatalf("finish once the tokens expired:\n%s", out)
	}
}
