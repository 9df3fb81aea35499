package renewal

import (
	"context"
	"strings"
	"testing"
	"time"
)

// TestRestoreDuringRotationWarns: in the middle of a CA rotation (ca.crt
// holds the new CA, which signs, then the old one), restoring a backup taken
// before the rotation's trust stage succeeded without a word. It put back
// kubeconfigs whose CA data holds the old CA alone, whose clients reject the
// API server once it serves a certificate of the new CA, and leaves of the
// old CA, which the rotation's finish then refuses: `certctl
// check-expiration` said nothing was wrong and only `certctl ca status`
// showed the damage. The restore (and its dry run) must say so, naming
// the files, and a restore with nothing of the kind must not warn.
func TestRestoreDuringRotationWarns(t *testing.T) {
	n := newNode(t, nil)
	first, err := Renew(context.Background(), n.targets(t, "all"), n.options(made.Add(time.Hour)))
	if err != nil {
		t.Fatal(err)
	}
	second, err := Renew(context.Background(), n.targets(t, "all"), n.options(made.Add(2*time.Hour)))
	if err != nil {
		t.Fatal(err)
	}
	res, err := Restore(second.BackupDir, n.restoreOptions(made.Add(3*time.Hour)))
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Warnings) != 0 {
		t.Errorf("plain restore warned: %q", res.Warnings)
	}

	// The rotation's reissue stage: the new CA first, then the old one.
	oldCA := read(t, n.path("pki/ca.crt"))
	write(t, n.path("pki/ca.crt"), append(read(t, newNode(t, nil).path("pki/ca.crt")), oldCA...))
	for _, dry := range []bool{true, false} {
		o := n.restoreOptions(made.Add(4 * time.Hour))
		o.DryRun = dry
		res, err := Restore(first.BackupDir, o)
		if err != nil {
			t.Fatalf("dry run %v: %v", dry, err)
		}
		all := strings.Join(res.Warnings, "\n")
		for _, want := range []string{n.path("admin.conf"), n.path("pki/apiserver.crt"), n.path("pki/ca.crt"), "certctl ca status"} {
			if !strings.Contains(all, want) {
				t.Errorf("dry run %v: warnings %q do not name %s", dry, res.Warnings, want)
			}
		}
		if strings.Contains(all, "front-proxy-client") || strings.Contains(all, "etcd") {
			t.Errorf("dry run %v: warnings name certificates of CAs that did not change: %q", dry, res.Warnings)
		}
	}
}
