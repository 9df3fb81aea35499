package renewal

import (
	"maps"
	"reflect"
	"testing"
)

// TestRestartsOf: renew's and certs import's one restart order, etcd
// first (kube-apiserver cannot start without it), the kubelet last; each
// component's certificates in the order they were installed.
func TestRestartsOf(t *testing.T) {
	installed := []struct {
		name       string
		components []string
	}{
		{"kubelet.conf", []string{Kubelet}},
		{"apiserver", []string{KubeAPIServer}},
		{"ca", []string{KubeAPIServer, KubeControllerManager, KubeScheduler, Kubelet}},
		{"etcd-server", []string{Etcd}},
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
		{Component: Etcd, Names: []string{"etcd-server"}},
		{Component: KubeAPIServer, Names: []string{"apiserver", "ca"}},
		{Component: KubeControllerManager, Names: []string{"ca"}},
		{Component: KubeScheduler, Names: []string{"ca"}},
		{Component: Kubelet, Names: []string{"kubelet.conf", "ca"}},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("RestartsOf:\n%v\nwant\n%v", got, want)
	}
	if none := RestartsOf(maps.All(map[string][]string{"admin.conf": nil})); len(none) != 0 {
		t.Errorf("a kubeconfig read at each use: %v, want no restart", none)
	}
}
