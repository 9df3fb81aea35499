package copycerts

import (
	"context"
	"crypto/x509"
	"fmt"
	"io"
	"slices"
	"strings"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"

	"github.com/certctl/certctl/internal/kubeclient"
	"github.com/certctl/certctl/pki"
)

// RootCAConfigMap is the ConfigMap kube-controller-manager publishes in
// every namespace with the cluster's CA (its --root-ca-file, kubeadm's
// ca.crt): during a CA rotation, the old and the new one.
const RootCAConfigMap = "kube-root-ca.crt"

// RootCAKey is RootCAConfigMap's data key that holds the CAs.
const RootCAKey = "ca.crt"

// checkClusterCA refuses a cluster CA, the entry of es in files that
// what names (a file, a Secret's entry), that is not the one of the
// cluster the client reaches: Upload's folder (--cert-dir, --config) is
// another cluster's, or a stale copy, or Download's Secret was uploaded
// from one; either way a joining node would get CAs that no other node
// trusts. The refusal ends with fix. The cluster's CAs are read from
// kube-system/kube-root-ca.crt; any certificate of the entry found in it
// is enough, so that every stage of a CA rotation passes. When it cannot
// be read (not published yet, a user who may not get it, as a bootstrap
// token may not), they are server's: the CAs of the kubeconfig that
// verified the API server, for kubeadm's token discovery the one
// --discovery-token-ca-cert-hash pinned; a line on out that starts with
// tag says so. When the kubeconfig has none either (it skips the
// verification, or leaves it to the system's roots), or only the issuer
// of an intermediate CA (which may have issued other clusters' too),
// nothing is checked, as kubeadm checks nothing, and that line says why.
func checkClusterCA(ctx context.Context, client kubernetes.Interface, server kubeclient.ServerCA, out io.Writer, tag string, es []entry, files map[string][]byte, what func(entry) string, fix string) error {
	i := slices.IndexFunc(es, func(e entry) bool { return e.name == pki.CAName && e.kind == kindCA })
	if i < 0 {
		return nil
	}
	ours, err := pki.ParseCerts(files[es[i].key])
	if err != nil {
		return nil // check has refused it already
	}
	say := func(format string, a ...any) {
		if out != nil {
			fmt.Fprintf(out, tag+" "+format+"\n", a...)
		}
	}
	published, why := clusterCAs(ctx, client)
	holder := fmt.Sprintf("%s/%s, which kube-controller-manager publishes from that cluster's CA,", Namespace, RootCAConfigMap)
	if why != "" {
		cas, none := serverCAs(server)
		if none != "" {
			say("Not comparing %s with the cluster's CA: %s, and %s", what(es[i]), why, none)
			return nil
		}
		// A kubeconfig may trust the root that issued an intermediate
		// ca.crt: it cannot tell this cluster's CA from another it issued.
		if !slices.ContainsFunc(cas, func(p *x509.Certificate) bool { return slices.ContainsFunc(ours, p.Equal) }) {
			if j := slices.IndexFunc(cas, func(p *x509.Certificate) bool { return ours[0].CheckSignatureFrom(p) == nil }); j >= 0 {
				say("Not comparing %s with the cluster's CA: %s, and %s holds its issuer (%q serial %X), not it, which may have issued other clusters' CAs too", what(es[i]), why, server.From, cas[j].Subject.CommonName, cas[j].SerialNumber)
				return nil
			}
		}
		say("Comparing %s with %s, which verified the API server: %s", what(es[i]), server.From, why)
		published, holder = cas, server.From+", which verified the API server,"
	}
	var names []string
	for _, p := range published {
		if slices.ContainsFunc(ours, p.Equal) {
			return nil
		}
		names = append(names, fmt.Sprintf("%q serial %X", p.Subject.CommonName, p.SerialNumber))
	}
	return fmt.Errorf("%s (%q serial %X) is not the CA of the cluster the kubeconfig reaches: %s holds another (%s): a joining node would get CAs no node of the cluster trusts; %s",
		what(es[i]), ours[0].Subject.CommonName, ours[0].SerialNumber, holder, strings.Join(names, ", "), fix)
}

// serverCAs parses the CAs of server, or says why there are none to
// compare with.
func serverCAs(server kubeclient.ServerCA) ([]*x509.Certificate, string) {
	if server.PEM == nil {
		if server.From == "" {
			return nil, "the kubeconfig's CA is not known"
		}
		return nil, server.From
	}
	cas, err := pki.ParseCerts(server.PEM)
	if err != nil {
		return nil, fmt.Sprintf("%s holds no certificate: %v", server.From, err)
	}
	return cas, ""
}

// clusterCAs returns the CAs of kube-system/kube-root-ca.crt, or why
// there are none to compare with.
func clusterCAs(ctx context.Context, client kubernetes.Interface) ([]*x509.Certificate, string) {
	name := "configmap " + Namespace + "/" + RootCAConfigMap
	cm, err := client.CoreV1().ConfigMaps(Namespace).Get(ctx, RootCAConfigMap, metav1.GetOptions{})
	switch {
	case apierrors.IsForbidden(err):
		return nil, fmt.Sprintf("the kubeconfig's user may not get %s (a bootstrap token may not; an administrator may)", name)
	case apierrors.IsNotFound(err):
		return nil, fmt.Sprintf("%s is not there (kube-controller-manager publishes it once it runs)", name)
	case err != nil:
		return nil, fmt.Sprintf("get %s: %v", name, err)
	}
	cas, err := pki.ParseCerts([]byte(cm.Data[RootCAKey]))
	if err != nil {
		return nil, fmt.Sprintf("%s holds no certificate under %s: %v", name, RootCAKey, err)
	}
	return cas, ""
}
