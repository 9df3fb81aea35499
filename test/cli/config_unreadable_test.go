package cli

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestConfigLineUnreadableAdminConfAsNobody: a user who may not read
// admin.conf runs check-expiration (a monitoring agent, say). The
// [config] line said the kubeadm-config ConfigMap was not read because of
// "permission denied", and stopped there (client-go's error does not
// carry the cause for certctl to add its advice); it now says what to do.
func TestConfigLineUnreadableAdminConfAsNobody(t *testing.T) {
	bin := certctlBin(t)
	n := makeNode(t, bin, "ECDSA-P256")
	as := giveToNobody(t, n)
	admin := filepath.Join(n.dir, "admin.conf")
	if err := os.Lchown(admin, 0, 0); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(admin, 0o600); err != nil {
		t.Fatal(err)
	}
	_, _, stderr := runAll(t, as, bin, append([]string{"check-expiration"}, n.flags()...)...)
	line, _, _ := strings.Cut(stderr, "\n")
	for _, want := range []string{"[config] ", admin, "permission denied", "run certctl as root to read it, or pass --config"} {
		if !strings.Contains(line, want) {
			t.Errorf("first line of stderr %q does not say %q", line, want)
		}
	}
	// admin.conf is found in --kubeconfig-dir, not given as --kubeconfig:
	// the line must not name that flag's fault (kubeclient.Options.File).
	if strings.Contains(line, "--kubeconfig "+admin) {
		t.Errorf("first line of stderr %q names --kubeconfig, not given", line)
	}
}
