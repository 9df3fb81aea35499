package cli

import (
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// TestKubeadmRenewDuringRotation: `kubeadm certs renew all` (which
// `kubeadm upgrade apply|node` runs too) writes into every kubeconfig it
// renews the first certificate of ca.crt alone as CA data: at stage trust
// it drops the new CA that the stage added, so that the kubeconfig's
// clients would reject kube-apiserver's certificate once reissue has the
// new CA sign it. certctl's reissue refuses then, but neither ca status
// nor the refusal said that kubeadm's renewal did it, nor that `certctl
// renew NAME.conf` puts the stage's CA data back without waiting for the
// next renewal. Both must say so; after that advice, reissue goes on.
func TestKubeadmRenewDuringRotation(t *testing.T) {
	bin := certctlBin(t)
	k := makeKubeadmNode(t, bin)
	run(t, bin, k.rotateArgs("ca", false)...)
	k.kubeadmRun(t, "certs", "renew", "all", "--config", k.config)
	status, _ := exec.Command(bin, append([]string{"ca", "status", "--node-only", "--manifest-dir", k.manifestDir}, k.flags()...)...).CombinedOutput()
	refusal, err := exec.Command(bin, k.rotateArgs("ca", false)...).CombinedOutput()
	if err == nil {
		t.Fatalf("reissue after kubeadm certs renew all at trust went on:\n%s", refusal)
	}
	for what, out := range map[string]string{"ca status": string(status), "the refusal of reissue": string(refusal)} {
		for _, kc := range kubeconfigs {
			// The command as printed acts on this node's folders, not
			// on /etc/kubernetes.
			for _, want := range []string{filepath.Join(k.dir, kc), "kubeadm certs renew", "certctl renew " + kc + " " + strings.Join(k.flags(), " ")} {
				if !strings.Contains(out, want) {
					t.Errorf("%s does not say %q:\n%s", what, want, out)
				}
			}
		}
	}
	run(t, bin, append(append([]string{"renew"}, kubeconfigs...), k.flags()...)...)
	run(t, bin, k.rotateArgs("ca", false)...)
}
