package renewal

import (
	"maps"
	"reflect"
	"testing"

	"github.com/certctl/certctl/pki"
)

// TestRestartsOf: renew's and certs import's one restart order, etcd
// first (kube-apiserver cannot start without it), the kubelet last; each
// component's certificates in the order they were installed.
func TestRestartsOf(t *testing.T) {
	installed := []struct {
		name       string
		components []string
	}{
		{"kubelet.conf", []string{pki.Kubelet}},
		{"apiserver", []string{pki.KubeAPIServer}},
		{"ca", []string{pki.KubeAPIServer, pki.KubeControllerManager, pki.KubeScheduler, pki.Kubelet}},
		{"etcd-server", []string{pki.Etcd}},
		{"admin.conf", nil},
	}
	got := RestartsOf(func(yield func(string, []string) bool) {
		for _, in := range installed {
			if !yield(in.name, in.components) {
				return
			}
		}
	})
	want := []Restart{
		{Component: pki.Etcd, Names: []string{"etcd-server"}},
		{Component: pki.KubeAPIServer, Names: []string{"apiserver", "ca"}},
		{Component: pki.KubeControllerManager, Names: []string{"ca"}},
		{Component: pki.KubeScheduler, Names: []string{"ca"}},
		{Component: pki.Kubelet, Names: []string{"kubelet.conf", "ca"}},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("RestartsOf:\n%v\nwant\n%v", got, want)
	}
	if none := RestartsOf(maps.All(map[string][]string{"admin.conf": nil})); len(none) != 0 {
		t.Errorf("a kubeconfig read at each use: %v, want no restart", none)
	}
}
