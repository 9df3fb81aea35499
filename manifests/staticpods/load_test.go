package staticpods

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/certctl/certctl/internal/treetest"
	"github.com/certctl/certctl/pki"
)

// kubeadmDir copies the manifests kubeadm v1.37.1 writes (testdata/regen.sh)
// into a temporary manifest folder.
func kubeadmDir(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	for _, c := range Order {
		data, err := os.ReadFile(filepath.Join("testdata", "kubeadm", c+".yaml"))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, c+".yaml"), data, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

func TestAffectedKubeadm(t *testing.T) {
	dir := kubeadmDir(t)
	// Not manifests of the control plane, or not for the kubelet: skipped.
	os.WriteFile(filepath.Join(dir, ".kube-apiserver.yaml.tmp-1"), []byte("half"), 0o600)
	os.WriteFile(filepath.Join(dir, "notes.txt"), []byte("not yaml: ["), 0o600)
	os.Mkdir(filepath.Join(dir, "old"), 0o700)
	set, err := Load(dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(set.Manifests) != 4 || len(set.Warnings) != 1 || !strings.Contains(set.Warnings[0], "notes.txt") {
		t.Fatalf("Load: %d manifests, warnings %q", len(set.Manifests), set.Warnings)
	}
	inPKI := func(f string) string { return "/etc/kubernetes/pki/" + f }
	renewAll := []string{inPKI("apiserver.crt"), inPKI("apiserver.key"), inPKI("apiserver-kubelet-client.crt"), inPKI("apiserver-kubelet-client.key"),
		inPKI("front-proxy-client.crt"), inPKI("front-proxy-client.key"), inPKI("apiserver-etcd-client.crt"), inPKI("apiserver-etcd-client.key"),
		inPKI("etcd/server.crt"), inPKI("etcd/server.key"), inPKI("etcd/peer.crt"), inPKI("etcd/peer.key"),
		inPKI("etcd/healthcheck-client.crt"), inPKI("etcd/healthcheck-client.key"),
		"/etc/kubernetes/admin.conf", "/etc/kubernetes/super-admin.conf", "/etc/kubernetes/controller-manager.conf", "/etc/kubernetes/scheduler.conf"}
	tests := []struct {
		name    string
		changed []string
		want    []string // component: endpoint addresses
		port    map[string]int
		host    map[string]string // the address the port is bound on: "" for every one
	}{
		{"renew all", renewAll, []string{
			"etcd: 127.0.0.1:2379 198.51.100.10:2380",
			"kube-apiserver: 198.51.100.10:6443",
			"kube-controller-manager:",
			"kube-scheduler:",
		}, map[string]int{pki.Etcd: 2379, pki.KubeAPIServer: 6443, pki.KubeControllerManager: 10257, pki.KubeScheduler: 10259},
			map[string]string{pki.Etcd: "127.0.0.1", pki.KubeAPIServer: "", pki.KubeControllerManager: "127.0.0.1", pki.KubeScheduler: "127.0.0.1"}},
		{"serving certificate", []string{inPKI("apiserver.crt"), inPKI("apiserver.key")}, []string{"kube-apiserver: 198.51.100.10:6443"}, nil, nil},
		{"client certificate only", []string{inPKI("apiserver-etcd-client.crt")}, []string{"kube-apiserver:"}, nil, nil},
		{"etcd server", []string{inPKI("etcd/server.crt"), inPKI("etcd/server.key")}, []string{"etcd: 127.0.0.1:2379"}, nil, nil},
		// kubeadm v1.37's etcd probes are HTTP: no file names it.
		{"etcd healthcheck client", []string{inPKI("etcd/healthcheck-client.crt")}, nil, nil, nil},
		{"kubeconfig", []string{"/etc/kubernetes/scheduler.conf"}, []string{"kube-scheduler:"}, nil, nil},
		{"admin", []string{"/etc/kubernetes/admin.conf", "/etc/kubernetes/super-admin.conf"}, nil, nil, nil},
		{"CA", []string{inPKI("ca.crt")}, []string{"kube-apiserver:", "kube-controller-manager:"}, nil, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var got []string
			for _, a := range set.Affected(tc.changed) {
				s := a.Component + ":"
				for _, e := range a.Endpoints {
					s += " " + e.Address
					if !slices.Contains(tc.changed, e.CertFile) {
						t.Errorf("%s: endpoint %s serves %s, which did not change", a.Component, e.Address, e.CertFile)
					}
				}
				got = append(got, s)
				if p, ok := tc.port[a.Component]; ok && a.Port != p {
					t.Errorf("%s: port %d, want %d", a.Component, a.Port, p)
				}
				if h, ok := tc.host[a.Component]; ok && a.Host != h {
					t.Errorf("%s: bound on %q, want %q", a.Component, a.Host, h)
				}
			}
			if !slices.Equal(got, tc.want) {
				t.Errorf("affected\n got %q\nwant %q", got, tc.want)
			}
		})
	}
}

func TestLoadRefusesTwoManifestsOfOneComponent(t *testing.T) {
	dir := kubeadmDir(t)
	data, _ := os.ReadFile(filepath.Join(dir, "etcd.yaml"))
	os.WriteFile(filepath.Join(dir, "etcd-backup.yaml"), data, 0o600)
	if _, err := Load(dir); err == nil || !strings.Contains(err.Error(), "kubelet runs both") {
		t.Errorf("err = %v", err)
	}
	if _, err := Load(filepath.Join(dir, "nope")); err == nil || !strings.Contains(err.Error(), "--manifest-dir") {
		t.Errorf("missing folder: err = %v", err)
	}
}

func TestEtcdAddress(t *testing.T) {
	tests := map[string]string{
		"https://127.0.0.1:2379,https://198.51.100.10:2379": "127.0.0.1:2379",
		"https://198.51.100.10:2379,https://127.0.0.1:2379": "127.0.0.1:2379",
		"https://198.51.100.10:2379":                        "198.51.100.10:2379",
		"https://0.0.0.0:2379":                              "127.0.0.1:2379",
		"https://[::]:2379":                                 "[::1]:2379",
		"http://127.0.0.1:2379":                             "",
		"unix:///run/etcd.sock,https://localhost:12379":     "localhost:12379",
	}
	for in, want := range tests {
		if got := etcdAddress(in); got != want {
			t.Errorf("etcdAddress(%q) = %q, want %q", in, got, want)
		}
	}
}

// TestLoadSkipsFIFO: a FIFO in the manifest folder is skipped with a
// warning naming it, as any file that is not a manifest, instead of
// blocking Load until something writes to it.
func TestLoadSkipsFIFO(t *testing.T) {
	dir := kubeadmDir(t)
	fifo := filepath.Join(dir, "fifo.yaml")
	treetest.FIFO(t, fifo)
	var set *Set
	err := treetest.Unblocked(t, "Load("+dir+")", func() (err error) { set, err = Load(dir); return err })
	if err != nil {
		t.Fatal(err)
	}
	if len(set.Manifests) != 4 || len(set.Warnings) != 1 || !strings.Contains(set.Warnings[0], fifo) || !strings.Contains(set.Warnings[0], "FIFO") {
		t.Errorf("Load: %d manifests, warnings %q; want 4 and one naming the FIFO %s", len(set.Manifests), set.Warnings, fifo)
	}
}
