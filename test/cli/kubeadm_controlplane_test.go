package cli

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
)

// kubeadmNode is a rotation node that kubeadm v1.37 can work on: kubeadm
// writes manifests and kubeconfigs in /etc/kubernetes only, so it runs with
// --rootfs ROOT (the folder above the node's), which chroots; ROOT/etc/kubernetes
// is the node's folder, and the node's own path exists in the chroot too,
// so that the paths kubeadm writes into the manifests (certificatesDir)
// are those certctl reads on the host.
type kubeadmNode struct {
	rotationNode
	kubeadm, root, config string
}

func makeKubeadmNode(t *testing.T, bin string) kubeadmNode {
	t.Helper()
	kubeadm := filepath.Join(os.Getenv("KUBE_BIN_DIR"), "kubeadm")
	if os.Getenv("KUBE_BIN_DIR") == "" {
		kubeadm = filepath.Join("..", "..", "_output", "bin", "v1.37.1", "kubeadm")
	}
	if _, err := os.Stat(kubeadm); err != nil {
		t.Fatalf("kubeadm v1.37.1 not found at %s: run `make kube-binaries` first", kubeadm)
	}
	k := kubeadmNode{rotationNode: makeRotationNode(t, bin), kubeadm: kubeadm}
	k.root = filepath.Dir(k.dir)
	// ROOT/etc/kubernetes -> ROOT/etc-kubernetes, and ROOT/ROOT/etc-kubernetes
	// -> /etc-kubernetes inside the chroot.
	same := filepath.Join(k.root, k.root)
	for _, d := range []string{filepath.Join(k.root, "etc"), same} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	for link, target := range map[string]string{filepath.Join(k.root, "etc", "kubernetes"): "../etc-kubernetes", filepath.Join(same, "etc-kubernetes"): "/etc-kubernetes"} {
		if err := os.Symlink(target, link); err != nil {
			t.Fatal(err)
		}
	}
	// A fixed version and address: kubeadm looks at neither the internet
	// nor the network.
	config := `apiVersion: kubeadm.k8s.io/v1beta4
kind: InitConfiguration
localAPIEndpoint:
  advertiseAddress: 198.51.100.10
nodeRegistration:
  name: cp-1
  criSocket: unix:///var/run/containerd/containerd.sock
---
apiVersion: kubeadm.k8s.io/v1beta4
kind: ClusterConfiguration
kubernetesVersion: v1.37.1
certificatesDir: ` + k.certDir + "\n"
	if err := os.WriteFile(filepath.Join(k.root, "kubeadm.yaml"), []byte(config), 0o600); err != nil {
		t.Fatal(err)
	}
	k.config = "/kubeadm.yaml"
	return k
}

// kubeadmRun runs kubeadm with --rootfs on the node (rootfsCommand).
func (k kubeadmNode) kubeadmRun(t *testing.T, args ...string) string {
	t.Helper()
	out, err := rootfsCommand(k.kubeadm, k.root, args...).CombinedOutput()
	if err != nil {
		t.Fatalf("kubeadm %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return string(out)
}

// TestKubeadmControlPlaneDuringRotation: `kubeadm upgrade apply|node`
// writes kube-controller-manager's manifest again, as `kubeadm init phase
// control-plane controller-manager` does, with --cluster-signing-cert-file
// on ca.crt. During a rotation of ca (trust, reissue) ca.crt holds both
// CAs, which kube-controller-manager's signer refuses ("expected 1
// certificate"): it does not start. `certctl ca status` said "0 problems"
// and the next stage went on from trust as if kube-controller-manager had
// restarted on the stage's files. ca status must name the manifest and
// the flag to set back, and reissue must refuse until it is.
func TestKubeadmControlPlaneDuringRotation(t *testing.T) {
	bin := certctlBin(t)
	k := makeKubeadmNode(t, bin)
	manifest := filepath.Join(k.manifestDir, "kube-controller-manager.yaml")
	status := func() string {
		t.Helper()
		out, _ := exec.Command(bin, append([]string{"ca", "status", "--node-only", "--manifest-dir", k.manifestDir}, k.flags()...)...).CombinedOutput()
		return string(out)
	}
	for _, stage := range []struct{ name, signs string }{{"trust", "ca.old.crt"}, {"reissue", "ca.new.crt"}} {
		run(t, bin, k.rotateArgs("ca", false)...)
		ours, err := os.ReadFile(manifest)
		if err != nil {
			t.Fatal(err)
		}
		k.kubeadmRun(t, "init", "phase", "control-plane", "controller-manager", "--config", k.config)
		kubeadms, err := os.ReadFile(manifest)
		if err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(string(kubeadms), "--cluster-signing-cert-file="+filepath.Join(k.certDir, "ca.crt")+"\n") {
			t.Fatalf("at %s kubeadm's manifest does not sign with ca.crt:\n%s", stage.name, kubeadms)
		}
		out := status()
		for _, want := range []string{manifest, "--cluster-signing-cert-file=" + filepath.Join(k.certDir, stage.signs), "refuses"} {
			if !strings.Contains(out, want) {
				t.Errorf("at %s, after kubeadm wrote kube-controller-manager's manifest, ca status does not say %q:\n%s", stage.name, want, out)
			}
		}
		if stage.name == "trust" {
			args := k.rotateArgs("ca", false)
			out, err := exec.Command(bin, args...).CombinedOutput()
			if err == nil || !strings.Contains(string(out), manifest) {
				t.Errorf("reissue after kubeadm wrote kube-controller-manager's manifest: %v, want a refusal naming %s:\n%s", err, manifest, out)
			}
		}
		// What the problem says to do: the stage's flags back.
		if err := os.WriteFile(manifest, ours, 0o600); err != nil {
			t.Fatal(err)
		}
		if out := status(); strings.Contains(out, "refuses") {
			t.Errorf("at %s with the stage's manifest back, ca status still reports it:\n%s", stage.name, out)
		}
	}
	run(t, bin, k.rotateArgs("ca", false)...)
	// After finish, kubeadm's manifest is the one certctl leaves.
	before, err := os.ReadFile(manifest)
	if err != nil {
		t.Fatal(err)
	}
	k.kubeadmRun(t, "init", "phase", "control-plane", "controller-manager", "--config", k.config)
	if out := status(); strings.Contains(out, "refuses") {
		t.Errorf("after finish ca status reports kubeadm's manifest:\n%s\nours was:\n%s", out, before)
	}
}

// TestKubeadmControlPlaneSignerStatus: after kubeadm wrote
// kube-controller-manager's manifest at stage trust of a rotation of ca,
// its signer reads ca.crt, which holds both CAs: kube-controller-manager
// refuses it and does not start. `certctl signer status` said "on" for
// every built-in signer and nothing else: it must say that the file holds
// two certificates, which kube-controller-manager refuses, and point at ca
// status.
func TestKubeadmControlPlaneSignerStatus(t *testing.T) {
	bin := certctlBin(t)
	k := makeKubeadmNode(t, bin)
	manifest := filepath.Join(k.manifestDir, "kube-controller-manager.yaml")
	args := []string{"signer", "status", "--manifest", manifest, "--cert-dir", k.certDir}
	run(t, bin, k.rotateArgs("ca", false)...)
	if out := run(t, bin, args...); strings.Contains(out, "refuses") {
		t.Errorf("with the manifest of stage trust, signer status reports a problem:\n%s", out)
	}
	k.kubeadmRun(t, "init", "phase", "control-plane", "controller-manager", "--config", k.config)
	out := strings.Join(strings.Fields(run(t, bin, args...)), " ") // unwrapped
	for _, want := range []string{filepath.Join(k.certDir, "ca.crt") + " holds 2 certificates", "refuses", "certctl ca status"} {
		if !strings.Contains(out, want) {
			t.Errorf("signer status does not say %q:\n%s", want, out)
		}
	}
	if out := run(t, bin, append(args, "-o", "json")...); !strings.Contains(out, `"problems"`) {
		t.Errorf("signer status -o json has no problems:\n%s", out)
	}
}

// rootfsCommand is kubeadm ARGS --rootfs ROOT: as root, or else in a new
// user namespace where this user is root (chroot needs it).
func rootfsCommand(kubeadm, root string, args ...string) *exec.Cmd {
	cmd := exec.Command(kubeadm, append(args, "--rootfs", root)...)
	if uid := os.Geteuid(); uid != 0 {
		cmd.SysProcAttr = &syscall.SysProcAttr{
			Cloneflags:  syscall.CLONE_NEWUSER,
			UidMappings: []syscall.SysProcIDMap{{ContainerID: 0, HostID: uid, Size: 1}},
			GidMappings: []syscall.SysProcIDMap{{ContainerID: 0, HostID: os.Getegid(), Size: 1}},
		}
	}
	return cmd
}
