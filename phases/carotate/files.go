package carotate

import (
	"fmt"
	"path/filepath"
	"slices"

	"github.com/certctl/certctl/pki"
)

// Names lists what `ca rotate` rotates, in the inventory's order.
func Names() []string {
	return []string{pki.CAName, pki.FrontProxyCAName, pki.EtcdCAName, pki.SAName}
}

// kind is one CA, or the sa key pair, and the files it rotates.
type kind struct {
	name string // pki.CAName, ..., pki.SAName
	base string // its BaseName: "ca", "etcd/ca", "sa"
	sa   bool
	// signing: kube-controller-manager signs with this CA
	// (--cluster-signing-cert-file), which cannot read a bundle
	// (pkg/controller/certificates/signer: "expected 1 certificate").
	signing bool
	// kubeconfigs: every kubeconfig's certificate-authority-data is this CA.
	kubeconfigs bool
	// restart lists the components that read the CA's files only when they
	// start, after kubeadm's manifests: what must be restarted after each
	// stage (kube-apiserver reloads --client-ca-file and
	// --requestheader-client-ca-file, but not --etcd-cafile, its kubelet
	// and etcd clients, nor the service-account keys).
	restart []string
}

func kindOf(name string) (kind, error) {
	switch name {
	case pki.CAName:
		// kube-apiserver: --client-ca-file, apiserver.crt; KCM: --root-ca-file
		// (published to pods), its kubeconfig, signing; the scheduler: its
		// kubeconfig; the kubelet: kubelet.conf and its --client-ca-file.
		return kind{name: name, base: "ca", signing: true, kubeconfigs: true,
			restart: []string{pki.KubeAPIServer, pki.KubeControllerManager, pki.KubeScheduler, pki.Kubelet}}, nil
	case pki.FrontProxyCAName:
		// --requestheader-client-ca-file of kube-apiserver and KCM,
		// --proxy-client-cert-file.
		return kind{name: name, base: "front-proxy-ca", restart: []string{pki.KubeAPIServer, pki.KubeControllerManager}}, nil
	case pki.EtcdCAName:
		// etcd's --trusted-ca-file, --peer-trusted-ca-file and its
		// certificates; kube-apiserver's --etcd-cafile and client.
		return kind{name: name, base: "etcd/ca", restart: []string{pki.Etcd, pki.KubeAPIServer}}, nil
	case pki.SAName:
		// kube-apiserver's --service-account-key-file and
		// --service-account-signing-key-file, KCM's
		// --service-account-private-key-file.
		return kind{name: name, base: "sa", sa: true, restart: []string{pki.KubeAPIServer, pki.KubeControllerManager}}, nil
	}
	return kind{}, fmt.Errorf("unknown CA %q: rotate one of %v", name, Names())
}

// paths are the files of a kind in a certificate folder.
type paths struct {
	trust   string // the bundle: ca.crt, or sa.pub
	key     string // the signing key: ca.key, sa.key
	oldCert string // ca.old.crt: the old CA alone (none for sa)
	newCert string // ca.new.crt: the new CA alone
	oldKey  string // ca.old.key: the old key, once the new one signs
	newKey  string // ca.new.key: the new key, until it signs
	record  string // .certctl-rotation-ca.json
}

func (k kind) paths(certDir string) paths {
	s := pki.Store{Dir: certDir}
	p := paths{key: s.KeyPath(k.base), oldKey: s.KeyPath(k.base + ".old"), newKey: s.KeyPath(k.base + ".new"),
		record: filepath.Join(certDir, RecordPrefix+k.name+".json")}
	if k.sa {
		p.trust = s.PublicKeyPath(k.base)
		return p
	}
	p.trust, p.oldCert, p.newCert = s.CertPath(k.base), s.CertPath(k.base+".old"), s.CertPath(k.base+".new")
	return p
}

// extras are the files that exist only during a rotation.
func (p paths) extras() []string {
	return slices.DeleteFunc([]string{p.oldCert, p.newCert, p.oldKey, p.newKey}, func(s string) bool { return s == "" })
}

// stray lists the files that must not exist at stage: the key of the CA
// that does not sign is ca.new.key in trust and ca.old.key in reissue;
// after the rotation none of the extras is kept.
func (p paths) stray(stage string) []string {
	switch stage {
	case StageTrust:
		return []string{p.oldKey}
	case StageReissue:
		return []string{p.newKey}
	case StageFinished, StageAborted:
		return p.extras()
	}
	return nil
}
