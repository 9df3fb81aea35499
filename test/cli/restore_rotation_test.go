package cli

import (
	"path/filepath"
	"strings"
	"testing"
)

// TestRestoreDuringRotationWarns: a backup taken before a CA rotation,
// restored at its reissue stage, was written back with exit 0 and no word:
// kubeconfigs whose CA data lacks the new CA (their clients reject the API
// server once it serves the new CA's certificate) and leaves of the old CA
// (finish then refuses), while check-expiration reported nothing wrong. The
// restore and its dry run must warn, naming each such file.
func TestRestoreDuringRotationWarns(t *testing.T) {
	bin := certctlBin(t)
	n := makeRotationNode(t, bin)
	run(t, bin, append([]string{"renew", "all"}, n.flags()...)...)
	backup := strings.TrimSpace(runOut(t, bin, append([]string{"restore", "-o", "jsonpath={.items[-1:].name}"}, n.flags()...)...))
	run(t, bin, n.rotateArgs("ca", false)...) // trust
	run(t, bin, n.rotateArgs("ca", false)...) // reissue
	for _, dry := range []bool{true, false} {
		args := append([]string{"restore", backup}, n.flags()...)
		if dry {
			args = append(args, "--dry-run")
		}
		code, _, stderr := runAll(t, nil, bin, args...)
		if code != 0 {
			t.Fatalf("dry run %v: exit %d\n%s", dry, code, stderr)
		}
		for _, want := range []string{
			"[warning] " + filepath.Join(n.dir, "admin.conf") + " trusts only part of " + filepath.Join(n.certDir, "ca.crt"),
			"[warning] " + filepath.Join(n.certDir, "apiserver.crt") + " is signed by a CA that " + filepath.Join(n.certDir, "ca.crt") + " lists after",
			"certctl ca status",
		} {
			if !strings.Contains(stderr, want) {
				t.Errorf("dry run %v: stderr does not say %q:\n%s", dry, want, stderr)
			}
		}
	}
}
