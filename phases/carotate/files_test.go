package carotate

import (
	"reflect"
	"testing"

	"github.com/certctl/certctl/pki"
)

// TestKinds: what each rotation changes and restarts comes from the
// inventory, and is what kubeadm's manifests read.
func TestKinds(t *testing.T) {
	if got, want := Names(), []string{pki.CAName, pki.FrontProxyCAName, pki.EtcdCAName, pki.SAName}; !reflect.DeepEqual(got, want) {
		t.Fatalf("Names() = %v, want %v", got, want)
	}
	for _, want := range []kind{
		{name: pki.CAName, base: "ca", signing: true, kubeconfigs: true,
			restart: []string{pki.KubeAPIServer, pki.KubeControllerManager, pki.KubeScheduler, pki.Kubelet}},
		{name: pki.FrontProxyCAName, base: "front-proxy-ca", restart: []string{pki.KubeAPIServer, pki.KubeControllerManager}},
		{name: pki.EtcdCAName, base: "etcd/ca", restart: []string{pki.Etcd, pki.KubeAPIServer}},
		{name: pki.SAName, base: "sa", sa: true, restart: []string{pki.KubeAPIServer, pki.KubeControllerManager}},
	} {
		got, err := kindOf(want.name)
		if err != nil || !reflect.DeepEqual(got, want) {
			t.Errorf("kindOf(%q) = %+v, %v; want %+v", want.name, got, err, want)
		}
	}
	for _, name := range []string{"apiserver", "admin.conf", "nope"} {
		if _, err := kindOf(name); err == nil {
			t.Errorf("kindOf(%q): no error, want unknown CA", name)
		}
	}
}
