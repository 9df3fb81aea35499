package cli

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// TestRotCheckExpirationAfterKubeadm: after `kubeadm init phase
// control-plane controller-manager` (what `kubeadm upgrade` does to
// kube-controller-manager's manifest) and `kubeadm certs renew admin.conf`
// at stage trust of a rotation of ca, kube-controller-manager signs with
// ca.crt, which holds both CAs (it refuses it and does not start), and
// admin.conf trusts the old CA alone. `certctl ca status` reported both;
// `certctl check-expiration`, which cron and monitoring run, exited 0 and
// said nothing, in text, -o json and the Prometheus metrics. It must
// report them as problems (exit 3) with ca status's words, the manifest
// flag or kubeconfig they name, and the command that fixes each.
func TestRotCheckExpirationAfterKubeadm(t *testing.T) {
	bin := certctlBin(t)
	k := makeKubeadmNode(t, bin)
	manifest := filepath.Join(k.manifestDir, "kube-controller-manager.yaml")
	check := append([]string{"check-expiration"}, k.flags()...)
	run(t, bin, k.rotateArgs("ca", false)...)
	if r := runCode(t, bin, check...); r.code != 0 || strings.Contains(r.out, "refuses") {
		t.Fatalf("check-expiration at stage trust, before kubeadm: exit %d, want 0 and no problem:\n%s%s", r.code, r.out, r.errOut)
	}
	k.kubeadmRun(t, "init", "phase", "control-plane", "controller-manager", "--config", k.config)
	k.kubeadmRun(t, "certs", "renew", "admin.conf", "--config", k.config)
	admin := filepath.Join(k.dir, "admin.conf")
	wants := []string{
		manifest, "--cluster-signing-cert-file=" + filepath.Join(k.certDir, "ca.crt"), "refuses",
		"certctl signer enable --manifest " + manifest + " --cert-dir " + k.certDir,
		admin + " trusts", "kubeadm certs renew", "certctl renew admin.conf " + strings.Join(k.flags(), " "),
	}
	for _, o := range [][]string{nil, {"-o", "json"}} {
		r := runCode(t, bin, append(check, o...)...)
		out := strings.Join(strings.Fields(r.out), " ") // unwrapped
		if r.code != 3 {
			t.Errorf("check-expiration %v after kubeadm at stage trust: exit %d, want 3 (a problem):\n%s%s", o, r.code, r.out, r.errOut)
		}
		for _, want := range wants {
			if !strings.Contains(out, want) {
				t.Errorf("check-expiration %v does not say %q:\n%s", o, want, r.out)
			}
		}
	}
	prom := runCode(t, bin, append(check, "-o", "prometheus")...).out
	for _, want := range []string{`certctl_certificate_problem{ca="",file="` + filepath.Join(k.certDir, "ca.crt") + `",kind="ca",name="ca",type="rotation-signing-flags"} 1`,
		`certctl_certificate_problem{ca="ca",file="` + admin + `",kind="certificate",name="admin.conf",type="rotation-ca-data"} 1`} {
		if !strings.Contains(prom, want) {
			t.Errorf("check-expiration -o prometheus has no %s:\n%s", want, prom)
		}
	}
}

// TestRotSignerEnableDuringRotation: after `kubeadm upgrade` (here `kubeadm
// init phase control-plane controller-manager`) at stage trust or reissue
// of a rotation of ca, kube-controller-manager's manifest signs with
// ca.crt, two CAs: `certctl signer enable` refused ("holds 2
// certificates"), so the manifest had to be fixed by hand. It must write
// the flags the stage wrote (ca.old.crt at trust, ca.new.crt at reissue,
// with ca.key), say so, and leave nothing for ca status or signer status
// to report; the rotation then goes on.
func TestRotSignerEnableDuringRotation(t *testing.T) {
	bin := certctlBin(t)
	k := makeKubeadmNode(t, bin)
	manifest := filepath.Join(k.manifestDir, "kube-controller-manager.yaml")
	enable := []string{"signer", "enable", "--manifest", manifest, "--cert-dir", k.certDir}
	for _, stage := range []struct{ name, signs string }{{"trust", "ca.old.crt"}, {"reissue", "ca.new.crt"}} {
		run(t, bin, k.rotateArgs("ca", false)...)
		k.kubeadmRun(t, "init", "phase", "control-plane", "controller-manager", "--config", k.config)
		out := run(t, bin, enable...)
		for _, want := range []string{"stage " + stage.name, filepath.Join(k.certDir, stage.signs)} {
			if !strings.Contains(out, want) {
				t.Errorf("signer enable at %s does not say %q:\n%s", stage.name, want, out)
			}
		}
		data, err := os.ReadFile(manifest)
		if err != nil {
			t.Fatal(err)
		}
		for flag, file := range map[string]string{"cluster-signing-cert-file": stage.signs, "cluster-signing-key-file": "ca.key"} {
			if line := "--" + flag + "=" + filepath.Join(k.certDir, file) + "\n"; !strings.Contains(string(data), line) {
				t.Errorf("at %s, after signer enable, the manifest has no %q:\n%s", stage.name, line, data)
			}
		}
		status, _ := exec.Command(bin, append([]string{"ca", "status", "--node-only", "--manifest-dir", k.manifestDir}, k.flags()...)...).CombinedOutput()
		if strings.Contains(string(status), "refuses") {
			t.Errorf("at %s, after signer enable, ca status still reports the manifest:\n%s", stage.name, status)
		}
		if out := run(t, bin, "signer", "status", "--manifest", manifest, "--cert-dir", k.certDir); strings.Contains(out, "refuses") {
			t.Errorf("at %s, after signer enable, signer status still reports the manifest:\n%s", stage.name, out)
		}
		if out := run(t, bin, enable...); !strings.Contains(out, "nothing to do") {
			t.Errorf("signer enable again at %s: want nothing to do:\n%s", stage.name, out)
		}
	}
	run(t, bin, k.rotateArgs("ca", false)...)
	if out := run(t, bin, enable...); !strings.Contains(out, "nothing to do") {
		t.Errorf("signer enable after finish: want nothing to do (finish points it at ca.crt):\n%s", out)
	}
}

// TestRotCheckExpirationManifestDir: with the kubelet's static pod folder
// elsewhere than beside the certificate folder, check-expiration read no
// manifest and so reported nothing of kube-controller-manager's signing
// flags during a rotation; --manifest-dir names the folder, as it does for
// ca status and renew.
func TestRotCheckExpirationManifestDir(t *testing.T) {
	bin := certctlBin(t)
	k := makeKubeadmNode(t, bin)
	run(t, bin, k.rotateArgs("ca", false)...)
	k.kubeadmRun(t, "init", "phase", "control-plane", "controller-manager", "--config", k.config)
	moved := filepath.Join(t.TempDir(), "static-pods")
	if err := os.Rename(k.manifestDir, moved); err != nil {
		t.Fatal(err)
	}
	check := append([]string{"check-expiration"}, k.flags()...)
	if r := runCode(t, bin, check...); r.code != 0 {
		t.Fatalf("check-expiration without the manifests: exit %d, want 0 (no manifest, no problem):\n%s%s", r.code, r.out, r.errOut)
	}
	r := runCode(t, bin, append(check, "--manifest-dir", moved)...)
	if want := filepath.Join(moved, "kube-controller-manager.yaml"); r.code != 3 || !strings.Contains(strings.Join(strings.Fields(r.out), " "), want) {
		t.Errorf("check-expiration --manifest-dir %s: exit %d, want 3 and a problem naming %s:\n%s%s", moved, r.code, want, r.out, r.errOut)
	}
}
