package copycerts

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/x509"
	"math/big"
	"os"
	"path/filepath"
	"strings"
	"testing"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/kubernetes/fake"
	k8stesting "k8s.io/client-go/testing"

	"github.com/certctl/certctl/internal/kubeclient"
	"github.com/certctl/certctl/internal/pkitest"
	"github.com/certctl/certctl/internal/treetest"
	"github.com/certctl/certctl/pki"
)

// TestClusterCAFromKubeconfig: with a bootstrap token (the usual join,
// docs/ha.md), kube-system/kube-root-ca.crt is forbidden, and certs
// download wrote a Secret uploaded from another cluster's folder without
// comparing anything; certs upload did the same from another cluster's
// folder when that ConfigMap was not there. The kubeconfig's CA, which
// verified the API server (for kubeadm's token discovery, the one the CA
// hash pinned), is now compared instead: another cluster's CA is refused
// naming it, with nothing written or uploaded; the cluster's CA, and a
// kubeconfig holding the old and the new CA (a rotation), pass with a
// line saying what was compared; a kubeconfig without a CA, or with only
// the issuer of an intermediate ca.crt, compares nothing and says why.
func TestClusterCAFromKubeconfig(t *testing.T) {
	cluster := pkitest.NewNode(t, nil)
	other := pkitest.NewNode(t, nil)
	key := testKey(t)
	caOf := func(n *pkitest.Node) []byte {
		b, err := os.ReadFile(filepath.Join(n.CertDir(), "ca.crt"))
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	from := "the certificate-authority-data of kubeconfig bootstrap.conf"
	insecure := "kubeconfig bootstrap.conf skips the verification of the API server's certificate (insecure-skip-tls-verify)"
	// unreadable makes kube-root-ca.crt forbidden (a bootstrap token),
	// or leaves it absent (no kube-controller-manager yet).
	unreadable := func(cs *fake.Clientset, forbidden bool) *fake.Clientset {
		if forbidden {
			cs.PrependReactor("get", "configmaps", func(k8stesting.Action) (bool, runtime.Object, error) {
				return true, nil, apierrors.NewForbidden(schema.GroupResource{Resource: "configmaps"}, RootCAConfigMap, nil)
			})
		}
		return cs
	}
	// intermediate's ca.crt is issued by other's CA, which a kubeconfig
	// may trust instead.
	intermediate := pkitest.NewNode(t, nil)
	{
		root, rootKey := other.CA(t, "ca")
		tmpl := *root
		key, err := pki.GenerateKey(rand.Reader, pki.ECDSAP256)
		if err != nil {
			t.Fatal(err)
		}
		tmpl.SerialNumber = big.NewInt(42)
		der, err := x509.CreateCertificate(rand.Reader, &tmpl, root, key.Public(), rootKey)
		if err != nil {
			t.Fatal(err)
		}
		cert, err := x509.ParseCertificate(der)
		if err != nil {
			t.Fatal(err)
		}
		s := pki.Store{Dir: intermediate.CertDir()}
		if err := s.WriteKey("ca", key); err != nil {
			t.Fatal(err)
		}
		if err := s.WriteCert("ca", cert); err != nil {
			t.Fatal(err)
		}
	}
	for _, tc := range []struct {
		name      string
		folder    *pkitest.Node // the files uploaded
		server    kubeclient.ServerCA
		forbidden bool
		refused   bool
		line      string // the one line on Out about the comparison
	}{
		{name: "another cluster's, forbidden", folder: other, server: kubeclient.ServerCA{PEM: caOf(cluster), From: from}, forbidden: true, refused: true},
		{name: "another cluster's, absent", folder: other, server: kubeclient.ServerCA{PEM: caOf(cluster), From: from}, refused: true},
		{name: "the cluster's", folder: cluster, server: kubeclient.ServerCA{PEM: caOf(cluster), From: from}, forbidden: true,
			line: " Comparing %s with " + from + ", which verified the API server: the kubeconfig's user may not get configmap kube-system/kube-root-ca.crt"},
		{name: "a rotation's two CAs", folder: cluster, server: kubeclient.ServerCA{PEM: append(caOf(other), caOf(cluster)...), From: from}, forbidden: true,
			line: " Comparing %s with " + from + ", which verified the API server: "},
		{name: "an intermediate CA, the kubeconfig holding its issuer", folder: intermediate, server: kubeclient.ServerCA{PEM: caOf(other), From: from}, forbidden: true,
			line: " Not comparing %s with the cluster's CA: the kubeconfig's user may not get configmap kube-system/kube-root-ca.crt (a bootstrap token may not; an administrator may), and " + from + " holds its issuer (\"kubernetes\" serial "},
		{name: "no CA in the kubeconfig", folder: other, server: kubeclient.ServerCA{From: insecure}, forbidden: true,
			line: " Not comparing %s with the cluster's CA: the kubeconfig's user may not get configmap kube-system/kube-root-ca.crt (a bootstrap token may not; an administrator may), and " + insecure},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var out bytes.Buffer
			o := Options{Key: key, Now: downloaded, ServerCA: tc.server, Rand: rand.Reader, Out: &out, ErrOut: &out}
			check := func(what, tag, subject string, err error) {
				t.Helper()
				if tc.refused {
					treetest.ErrMentions(t, err, subject, "is not the CA of the cluster the kubeconfig reaches", from+", which verified the API server, holds another", "nothing was")
					return
				}
				if err != nil {
					t.Fatalf("%s: %v\n%s", what, err, out.String())
				}
				if want := tag + strings.Replace(tc.line, "%s", subject, 1); strings.Count(out.String(), "omparing") != 1 || !strings.Contains(out.String(), want) {
					t.Errorf("%s: want one line %q, got:\n%s", what, want, out.String())
				}
			}

			// Upload of tc.folder.
			up := unreadable(fake.NewClientset(), tc.forbidden)
			o.CertDir = tc.folder.CertDir()
			_, err := Upload(context.Background(), up, o)
			check("upload", "[upload-certs]", filepath.Join(tc.folder.CertDir(), "ca.crt"), err)
			if secrets, _ := up.CoreV1().Secrets(Namespace).List(context.Background(), metav1.ListOptions{}); tc.refused != (len(secrets.Items) == 0) {
				t.Errorf("upload: %d Secrets stored, refused %v", len(secrets.Items), tc.refused)
			}

			// Download of a Secret holding tc.folder's files.
			down := fake.NewClientset()
			upload(t, down, tc.folder.CertDir(), key)
			unreadable(down, tc.forbidden)
			out.Reset()
			o.CertDir = filepath.Join(t.TempDir(), "pki")
			before := treetest.Snapshot(t, filepath.Dir(o.CertDir))
			err = Download(context.Background(), down, o)
			check("download", "[download-certs]", "ca.crt of secret kube-system/kubeadm-certs", err)
			if tc.refused {
				treetest.AssertSame(t, before, treetest.Snapshot(t, filepath.Dir(o.CertDir)))
			} else if _, err := os.Stat(filepath.Join(o.CertDir, "ca.crt")); err != nil {
				t.Error(err)
			}
		})
	}
}
