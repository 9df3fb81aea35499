package carotate

import (
	"errors"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/certctl/certctl/internal/treetest"
	"github.com/certctl/certctl/pki"
)

// TestKinds: what each rotation changes and restarts comes from the
// inventory, and is what kubeadm's manifests read.
func TestKinds(t *testing.T) {
	if got, want := Names(), []string{pki.CAName, pki.FrontProxyCAName, pki.EtcdCAName, pki.SAName}; !reflect.DeepEqual(got, want) {
		t.Fatalf("Names() = %v, want %v", got, want)
	}
	for _, want := range []struct {
		kind
		base    string
		restart []string
	}{
		{kind{name: pki.CAName, signing: true, kubeconfigs: true}, "ca",
			[]string{pki.KubeAPIServer, pki.KubeControllerManager, pki.KubeScheduler, pki.Kubelet}},
		{kind{name: pki.FrontProxyCAName}, "front-proxy-ca", []string{pki.KubeAPIServer, pki.KubeControllerManager}},
		{kind{name: pki.EtcdCAName}, "etcd/ca", []string{pki.Etcd, pki.KubeAPIServer}},
		{kind{name: pki.SAName, sa: true}, "sa", []string{pki.KubeAPIServer, pki.KubeControllerManager}},
	} {
		got, err := kindOf(want.name)
		base, restart := got.entry.BaseName, got.entry.Restart
		got.entry = pki.Entry{}
		if err != nil || !reflect.DeepEqual(got, want.kind) || base != want.base || !reflect.DeepEqual(restart, want.restart) {
			t.Errorf("kindOf(%q) = %+v (base %q, restart %v), %v; want %+v (base %q, restart %v)", want.name, got, base, restart, err, want.kind, want.base, want.restart)
		}
	}
	for _, name := range []string{"apiserver", "admin.conf", "nope"} {
		if _, err := kindOf(name); err == nil {
			t.Errorf("kindOf(%q): no error, want unknown CA", name)
		}
	}
}

// TestTrustedRefusesFIFO: a FIFO in place of the trust file (ca status
// reads it for every CA) is refused at once, naming it, instead of
// blocking the command until something writes to it.
func TestTrustedRefusesFIFO(t *testing.T) {
	for _, name := range []string{pki.CAName, pki.SAName} {
		k, err := kindOf(name)
		if err != nil {
			t.Fatal(err)
		}
		fifo := filepath.Join(t.TempDir(), "trust")
		treetest.FIFO(t, fifo)
		err = treetest.Unblocked(t, "trusted("+name+", "+fifo+")", func() error { _, err := trusted(k, fifo); return err })
		if !errors.Is(err, pki.ErrNotRegular) || !strings.Contains(err.Error(), fifo) {
			t.Errorf("trusted(%s, %s): %v; want ErrNotRegular naming the file", name, fifo, err)
		}
	}
}

// TestReadRecordRefusesFIFO: a FIFO in place of the rotation record (ca
// status and ca rotate read it) is refused at once, naming it.
func TestReadRecordRefusesFIFO(t *testing.T) {
	fifo := filepath.Join(t.TempDir(), "record")
	treetest.FIFO(t, fifo)
	err := treetest.Unblocked(t, "ReadRecord("+fifo+")", func() error { _, err := ReadRecord(fifo); return err })
	if !errors.Is(err, pki.ErrNotRegular) || !strings.Contains(err.Error(), fifo) {
		t.Errorf("ReadRecord(%s): %v; want ErrNotRegular naming the file", fifo, err)
	}
}
