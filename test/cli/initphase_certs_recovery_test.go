package cli

import (
	"os"
	"path/filepath"
	"testing"
)

// TestInitPhaseCertsRecoversKubeconfig: `init-phase certs` facing the
// committed transaction of a killed renew that names admin.conf in its
// --kubeconfig-dir finishes it, as renew does, instead of calling the
// kubeconfig folder outside its scope and advising to move the
// transaction away, which is wrong after a commit.
func TestInitPhaseCertsRecoversKubeconfig(t *testing.T) {
	bin := certctlBin(t)
	base := t.TempDir()
	certDir, kcDir := filepath.Join(base, "certs"), filepath.Join(base, "kubeconfigs")
	id := []string{"--node-name", "cp-1", "--apiserver-advertise-address", "198.51.100.10", "--encryption-algorithm", "ECDSA-P256"}
	run(t, bin, append([]string{"init-phase", "certs", "all", "--cert-dir", certDir}, id...)...)
	run(t, bin, append([]string{"init-phase", "kubeconfig", "all", "--cert-dir", certDir, "--kubeconfig-dir", kcDir}, id...)...)
	admin := filepath.Join(kcDir, "admin.conf")
	data, err := os.ReadFile(admin)
	if err != nil {
		t.Fatal(err)
	}
	changed := append([]byte("# recovered\n"), data...)
	commitByHand(t, base, admin, changed)
	r := runCode(t, bin, append([]string{"init-phase", "certs", "all", "--cert-dir", certDir, "--kubeconfig-dir", kcDir}, id...)...)
	if r.code != 0 {
		t.Fatalf("init-phase certs after a renewal killed after its commit: exit %d\n%s%s", r.code, r.out, r.errOut)
	}
	if got, _ := os.ReadFile(admin); string(got) != string(changed) {
		t.Errorf("init-phase certs did not finish the committed transaction naming %s\n%s%s", admin, r.out, r.errOut)
	}
}
