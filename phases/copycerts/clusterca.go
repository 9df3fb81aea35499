package copycerts

import (
	"context"
	"fmt"
	"slices"
	"strings"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"

	"github.com/certctl/certctl/pki"
)

// RootCAConfigMap is the ConfigMap kube-controller-manager publishes in
// every namespace with the cluster's CA (its --root-ca-file, kubeadm's
// ca.crt): during a CA rotation, the old and the new one.
const RootCAConfigMap = "kube-root-ca.crt"

// checkClusterCA refuses to upload a cluster CA that is not the one of
// the cluster the client reaches: the folder (--cert-dir, --config) is
// another cluster's, or a stale copy, and a joining node would get CAs
// that no other node trusts. The cluster's CAs are read from
// kube-system/kube-root-ca.crt; when it cannot be read (not published
// yet, a user who may not get it), nothing is checked, as kubeadm checks
// nothing. Any certificate of caPEM found in it is enough, so that every
// stage of a CA rotation passes.
func checkClusterCA(ctx context.Context, client kubernetes.Interface, caPath string, caPEM []byte) error {
	cm, err := client.CoreV1().ConfigMaps(Namespace).Get(ctx, RootCAConfigMap, metav1.GetOptions{})
	if err != nil {
		return nil
	}
	published, err := pki.ParseCerts([]byte(cm.Data["ca.crt"]))
	if err != nil {
		return nil
	}
	ours, err := pki.ParseCerts(caPEM)
	if err != nil {
		return nil // check has refused it already
	}
	var names []string
	for _, p := range published {
		if slices.ContainsFunc(ours, p.Equal) {
			return nil
		}
		names = append(names, fmt.Sprintf("%q serial %X", p.Subject.CommonName, p.SerialNumber))
	}
	return fmt.Errorf("%s (%q serial %X) is not the CA of the cluster the kubeconfig reaches: %s/%s, which kube-controller-manager publishes from that cluster's CA, holds another (%s): a joining node would get CAs no node of the cluster trusts; pass --cert-dir (or --config) with this cluster's certificate folder, or --kubeconfig of the cluster of %s; nothing was uploaded",
		caPath, ours[0].Subject.CommonName, ours[0].SerialNumber, Namespace, RootCAConfigMap, strings.Join(names, ", "), caPath)
}
