package cli

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestKubeadmReadsEveryRotationStage runs kubeadm v1.37's own `certs
// check-expiration` on the tree at every stage of the rotation of every CA
// (and after --abort): it must exit 0 and list every certificate,
// kubeconfig and CA, none missing. kubeadm reads the kubeconfigs from
// /etc/kubernetes only, so the node is made at ROOT/etc/kubernetes and
// kubeadm runs with --rootfs ROOT, which chroots: as root, or else in a new
// user namespace where this user is root.
func TestKubeadmReadsEveryRotationStage(t *testing.T) {
	bin := certctlBin(t)
	kubeadm := filepath.Join(os.Getenv("KUBE_BIN_DIR"), "kubeadm")
	if os.Getenv("KUBE_BIN_DIR") == "" {
		kubeadm = filepath.Join("..", "..", "_output", "bin", "v1.37.1", "kubeadm")
	}
	if _, err := os.Stat(kubeadm); err != nil {
		t.Fatalf("kubeadm v1.37.1 not found at %s: run `make kube-binaries` first", kubeadm)
	}
	n := makeRotationNode(t, bin)
	root := filepath.Dir(n.dir)
	// makeNode's folder is ROOT/etc-kubernetes: give kubeadm its
	// /etc/kubernetes through a link.
	if err := os.Mkdir(filepath.Join(root, "etc"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink("../etc-kubernetes", filepath.Join(root, "etc", "kubernetes")); err != nil {
		t.Fatal(err)
	}
	want := []string{"admin.conf", "apiserver", "apiserver-etcd-client", "apiserver-kubelet-client", "controller-manager.conf",
		"etcd-healthcheck-client", "etcd-peer", "etcd-server", "front-proxy-client", "scheduler.conf", "super-admin.conf",
		"ca ", "etcd-ca ", "front-proxy-ca "}
	check := func(what string) {
		t.Helper()
		out, err := rootfsCommand(kubeadm, root, "certs", "check-expiration").CombinedOutput()
		if err != nil {
			t.Fatalf("%s: kubeadm certs check-expiration: %v\n%s", what, err, out)
		}
		if strings.Contains(string(out), "MISSING") {
			t.Errorf("%s: kubeadm reports a file missing:\n%s", what, out)
		}
		for _, w := range want {
			if !strings.Contains(string(out), "\n"+w) {
				t.Errorf("%s: kubeadm does not list %q:\n%s", what, w, out)
			}
		}
	}
	check("before")
	for _, ca := range rotationCAs {
		for _, stage := range []string{"trust", "reissue", "abort to trust", "reissue", "finish"} {
			run(t, bin, n.rotateArgs(ca.name, strings.HasPrefix(stage, "abort"))...)
			check(ca.name + " " + stage)
		}
	}
}
