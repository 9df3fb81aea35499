package carotate

import (
	"bytes"
	"context"
	"crypto/x509"
	"fmt"
	"maps"
	"slices"
	"strings"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/clientcmd"
	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"
	"k8s.io/client-go/util/retry"

	"github.com/certctl/certctl/internal/bounded"
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

// clusterInfoObject names ClusterInfoConfigMap in messages.
const clusterInfoObject = "ConfigMap " + metav1.NamespacePublic + "/" + ClusterInfoConfigMap

// parseClusterInfo is the kubeconfig that cluster-info publishes.
func parseClusterInfo(cm *corev1.ConfigMap) (*clientcmdapi.Config, error) {
	cfg, err := clientcmd.Load([]byte(cm.Data[clusterInfoKubeconfig]))
	if err != nil {
		return nil, fmt.Errorf("%s: its %s does not parse: %w", clusterInfoObject, clusterInfoKubeconfig, err)
	}
	return cfg, nil
}

// syncClusterInfo makes the CA data of kube-public/cluster-info follow the
// rotation of the cluster CA: every certificate of add (the new CA, while
// the rotation is in progress) is added where it is missing, and the CA of
// fingerprint drop (the one no node trusts any more: dropped) is removed.
// The other certificates stay, in their order, and the CA data is never
// left empty. Nothing is written when nothing changes, nor when the
// ConfigMap does not exist (a cluster made without bootstrap tokens). It
// returns what it changed, for people; "" for nothing. With dry, it
// writes nothing and returns what it would change, refusing as the write
// would.
func (s store) syncClusterInfo(ctx context.Context, add []byte, drop string, dry bool) (string, error) {
	addCerts, err := pki.ParseCerts(add)
	if len(add) > 0 && err != nil {
		return "", fmt.Errorf("the new CA's certificate: %w", err)
	}
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
		cfg, err := parseClusterInfo(cm)
		if err != nil {
			return err
		}
		var changes []string
		for name, c := range cfg.Clusters {
			if len(c.CertificateAuthorityData) == 0 {
				continue // a CA file, or the system's roots: not ours to change
			}
			data := c.CertificateAuthorityData
			have, err := pki.ParseCerts(data)
			if err != nil {
				return fmt.Errorf("%s: the CA data of cluster %q: %w", clusterInfoObject, name, err)
			}
			for _, a := range addCerts {
				if !slices.ContainsFunc(have, a.Equal) {
					data = append(append(bytes.TrimRight(data, "\n"), '\n'), pki.EncodeCert(a)...)
					changes = append(changes, "added the new CA sha256 "+short([]string{fingerprint(a)}))
				}
			}
			if drop != "" {
				kept, n, err := withoutCert(data, drop)
				if err != nil {
					return fmt.Errorf("%s: the CA data of cluster %q: %w", clusterInfoObject, name, err)
				}
				if n > 0 && len(bytes.TrimSpace(kept)) == 0 {
					return fmt.Errorf("%s: the CA data of cluster %q holds only the CA this rotation dropped: check that every kube-apiserver serves a certificate of the new CA (certctl ca status), then write the new ca.crt there (kubectl -n %s edit configmap %s)", clusterInfoObject, name, metav1.NamespacePublic, ClusterInfoConfigMap)
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
		if dry {
			done = strings.Join(slices.Compact(changes), ", ")
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
	if err != nil && dry {
		return "", fmt.Errorf("check the CA data of %s on the API server %s, where kubeadm join finds the CA to trust: %w", clusterInfoObject, s.server, err)
	}
	if err != nil {
		return "", fmt.Errorf("update the CA data of %s on the API server %s, where kubeadm join finds the CA to trust: %w; the next `certctl ca rotate %s` tries again", clusterInfoObject, s.server, err, s.name)
	}
	return done, nil
}

// readClusterInfoCAs reads the CAs of kube-public/cluster-info: those of its
// clusters' CA data, in order; none when the ConfigMap does not exist,
// names a CA file, or may not be read by this user (nothing to report
// then: `ca status` is read-only and may run with less than admin.conf).
func readClusterInfoCAs(ctx context.Context, client kubernetes.Interface) ([]*x509.Certificate, error) {
	cm, err := bounded.Call(ctx, func(ctx context.Context) (*corev1.ConfigMap, error) {
		return client.CoreV1().ConfigMaps(metav1.NamespacePublic).Get(ctx, ClusterInfoConfigMap, metav1.GetOptions{})
	})
	if apierrors.IsNotFound(err) || apierrors.IsForbidden(err) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", clusterInfoObject, err)
	}
	cfg, err := parseClusterInfo(cm)
	if err != nil {
		return nil, err
	}
	var out []*x509.Certificate
	for _, name := range slices.Sorted(maps.Keys(cfg.Clusters)) {
		if data := cfg.Clusters[name].CertificateAuthorityData; len(data) > 0 {
			certs, err := pki.ParseCerts(data)
			if err != nil {
				return nil, fmt.Errorf("%s: the CA data of cluster %q: %w", clusterInfoObject, name, err)
			}
			out = append(out, certs...)
		}
	}
	return out, nil
}

// clusterInfoProblem says what is wrong with the CAs of cluster-info for
// a node whose ca.crt (at trustPath) holds trust: none of them, and a
// join with the hash of ca.crt fails; or, with no rotation of ca in
// progress (active false), one that ca.crt no longer holds, which a join
// still trusts. "" when all is well, or when cluster-info is absent.
func clusterInfoProblem(published, trust []*x509.Certificate, trustPath string, active bool) string {
	if len(published) == 0 {
		return ""
	}
	fix := fmt.Sprintf("write %s there: set certificate-authority-data in `kubectl -n %s edit configmap %s` to the output of `base64 -w0 %s`", trustPath, metav1.NamespacePublic, ClusterInfoConfigMap, trustPath)
	if !slices.ContainsFunc(trust, func(c *x509.Certificate) bool { return slices.ContainsFunc(published, c.Equal) }) {
		return fmt.Sprintf("%s, where kubeadm join finds the CA to trust, holds none of the CAs of %s (a rotation made with --node-only, or before certctl kept it in step): a join with the hash of this CA fails; %s", clusterInfoObject, trustPath, fix)
	}
	if active {
		return ""
	}
	var extra []string
	for _, c := range published {
		if !slices.ContainsFunc(trust, c.Equal) {
			extra = append(extra, fingerprint(c))
		}
	}
	if len(extra) > 0 {
		return fmt.Sprintf("%s, where kubeadm join finds the CA to trust, also holds the CA sha256 %s, which %s no longer holds: a joining node trusts it; %s", clusterInfoObject, short(extra), trustPath, fix)
	}
	return ""
}
