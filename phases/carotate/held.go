package carotate

import (
	"crypto/x509"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"time"

	"github.com/certctl/certctl/pki"
	"github.com/certctl/certctl/pki/kubeconfig"
)

// held is a certificate of the rotated CA as found on disk: a leaf of the
// certificate folder, or a kubeconfig's client certificate.
type held struct {
	entry pki.Entry
	file  string
	cert  *x509.Certificate // nil when it cannot be read (a kubeconfig without client certificate)
	inter []*x509.Certificate
	// caData is a kubeconfig's certificate-authority-data.
	caData []*x509.Certificate
	// embedded: the client certificate is in the kubeconfig itself, so
	// certctl can re-issue it (not kubelet.conf pointing at the kubelet's
	// rotated file).
	embedded bool
}

// signedBy reports whether h's certificate is signed by ca.
func (h held) signedBy(ca *x509.Certificate, now time.Time) bool {
	return h.cert != nil && pki.IssuedBy(h.cert, h.inter, ca, now) == nil // also by an expired CA: the one to replace
}

// heldOf reads every leaf and kubeconfig of k that exists: those its CA
// signs, and, for the cluster CA, every kubeconfig (their CA data).
func heldOf(k kind, externalEtcd bool, certDir, kubeconfigDir string) ([]held, error) {
	var out []held
	for _, e := range pki.Kubeadm().Select(externalEtcd, pki.KindLeaf, pki.KindKubeconfig) {
		if e.CAName != k.name || k.sa {
			continue
		}
		h := held{entry: e}
		var err error
		if e.Kind == pki.KindKubeconfig {
			h.file = filepath.Join(kubeconfigDir, e.BaseName)
			err = h.readKubeconfig()
		} else {
			h.file = pki.Store{Dir: certDir}.CertPath(e.BaseName)
			h.cert, h.inter, err = pki.ReadCertFile(h.file)
		}
		if errors.Is(err, fs.ErrNotExist) {
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("read %s: %w", h.file, err)
		}
		out = append(out, h)
	}
	return out, nil
}

func (h *held) readKubeconfig() error {
	if _, err := os.Lstat(h.file); err != nil {
		return err
	}
	cfg, err := kubeconfig.Load(h.file)
	if err != nil {
		return err
	}
	if h.caData, err = kubeconfig.CACerts(cfg); err != nil {
		return fmt.Errorf("kubeconfig %s: %w", h.file, err)
	}
	if chain, _, err := kubeconfig.ClientChain(cfg); err == nil {
		h.cert, h.inter, h.embedded = chain[0], chain[1:], true
		return nil
	}
	// kubelet.conf names the kubelet's own rotated file.
	_, _, _, user, err := kubeconfig.Current(cfg)
	if err != nil || user.ClientCertificate == "" {
		return nil
	}
	if cert, inter, rerr := pki.ReadCertFile(kubeconfig.Resolve(user.LocationOfOrigin, user.ClientCertificate)); rerr == nil {
		h.cert, h.inter = cert, inter
	}
	return nil
}
