package carotate

import (
	"bytes"
	"context"
	"crypto/x509"
	"fmt"
	"slices"
	"strings"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/tools/clientcmd"
	"k8s.io/client-go/util/retry"

	"github.com/certctl/certctl/pki"
)

// ClusterInfoConfigMap is the ConfigMap of kube-public where kubeadm init
// publishes the cluster of admin.conf (its server and CA data) under the
// key clusterInfoKubeconfig (k8s.io/cluster-bootstrap/token/api). `kubeadm
// join` reads it before it trusts anything, with a bootstrap token, and
// goes on only if a CA in it matches --discovery-token-ca-cert-hash; it
// then trusts those CAs for the API server. A rotated cluster CA that is
// not there failed every join after the rotation: the hash that `kubeadm
// token create --print-join-command` prints is the new CA's, and the API
// servers serve certificates of the new CA. kube-controller-manager's
// bootstrap signer signs the new content again.
const ClusterInfoConfigMap = "cluster-info"

const clusterInfoKubeconfig = "kubeconfig"

// syncClusterInfo makes the CA data of kube-public/cluster-info follow the
// rotation of the cluster CA: every certificate of add (the new CA, while
// the rotation is in progress) is added where it is missing, and the CA of
// fingerprint drop (the one no node trusts any more: dropped) is removed.
// The other certificates stay, in their order, and the CA data is never
// left empty. Nothing is written when nothing changes, nor when the
// ConfigMap does not exist (a cluster made without bootstrap tokens). It
// returns what it changed, for people; "" for nothing.
func (s store) syncClusterInfo(ctx context.Context, add []byte, drop string) (string, error) {
	addCerts, err := pki.ParseCerts(add)
	if len(add) > 0 && err != nil {
		return "", fmt.Errorf("the new CA's certificate: %w", err)
	}
	what := "ConfigMap " + metav1.NamespacePublic + "/" + ClusterInfoConfigMap
	done := ""
	err = retry.RetryOnConflict(retry.DefaultRetry, func() error {
		done = ""
		gctx, cancel := context.WithTimeout(ctx, apiTimeout)
		defer cancel()
		cms := s.client.CoreV1().ConfigMaps(metav1.NamespacePublic)
		cm, err := cms.Get(gctx, ClusterInfoConfigMap, metav1.GetOptions{})
		if apierrors.IsNotFound(err) {
			return nil
		}
		if err != nil {
			return err
		}
		cfg, err := clientcmd.Load([]byte(cm.Data[clusterInfoKubeconfig]))
		if err != nil {
			return fmt.Errorf("%s: its %s does not parse: %w", what, clusterInfoKubeconfig, err)
		}
		var changes []string
		for name, c := range cfg.Clusters {
			if len(c.CertificateAuthorityData) == 0 {
				continue // a CA file, or the system's roots: not ours to change
			}
			data := c.CertificateAuthorityData
			have, err := pki.ParseCerts(data)
			if err != nil {
				return fmt.Errorf("%s: the CA data of cluster %q: %w", what, name, err)
			}
			for _, a := range addCerts {
				if !holdsCert(have, a) {
					data = append(append(bytes.TrimRight(data, "\n"), '\n'), pki.EncodeCert(a)...)
					changes = append(changes, "added the new CA sha256 "+short([]string{fingerprint(a)}))
				}
			}
			if drop != "" {
				kept, n, err := withoutCert(data, drop)
				if err != nil {
					return fmt.Errorf("%s: the CA data of cluster %q: %w", what, name, err)
				}
				if n > 0 && len(bytes.TrimSpace(kept)) == 0 {
					return fmt.Errorf("%s: the CA data of cluster %q holds only the CA this rotation dropped: check that every kube-apiserver serves a certificate of the new CA (certctl ca status), then write the new ca.crt there (kubectl -n %s edit configmap %s)", what, name, metav1.NamespacePublic, ClusterInfoConfigMap)
				}
				if n > 0 {
					data = kept
					changes = append(changes, "removed the CA sha256 "+short([]string{drop})+" that no node trusts any more")
				}
			}
			c.CertificateAuthorityData = data
		}
		if len(changes) == 0 {
			return nil
		}
		out, err := clientcmd.Write(*cfg)
		if err != nil {
			return err
		}
		cm = cm.DeepCopy()
		cm.Data[clusterInfoKubeconfig] = string(out)
		if _, err := cms.Update(gctx, cm, metav1.UpdateOptions{}); err != nil {
			return err
		}
		done = strings.Join(slices.Compact(changes), ", ")
		return nil
	})
	if err != nil {
		return "", fmt.Errorf("update the CA data of %s on the API server %s, where kubeadm join finds the CA to trust: %w; the next `certctl ca rotate %s` tries again", what, s.server, err, s.name)
	}
	return done, nil
}

// holdsCert reports whether certs holds c.
func holdsCert(certs []*x509.Certificate, c *x509.Certificate) bool {
	for _, h := range certs {
		if h.Equal(c) {
			return true
		}
	}
	return false
}
