package e2e

import (
	"context"
	"crypto/rand"
	"crypto/x509"
	"errors"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/tools/clientcmd"

	"github.com/certctl/certctl/internal/testcluster"
	"github.com/certctl/certctl/pki"
)

// TestExpiredControlPlaneRecovers is the outage certctl exists to end: every certificate and
// kubeconfig of a running control plane expires (here 150 s after the PKI is written), so that
// admin.conf is refused and no component can make a new connection. One
//
//	certctl renew all --restart-control-plane
//
// from the CAs on disk, with the kubelet running the static pods (kube-controller-manager and
// kube-scheduler exit once they cannot renew their leader Lease, and are started again), must
// bring it back: exit 0, every component restarted, etcd and kube-apiserver serving their new certificates, the
// new admin.conf accepted, and the cluster's data kept. The restarts come after the renewal of
// admin.conf, so they take their Leases as on any other day.
func TestExpiredControlPlaneRecovers(t *testing.T) {
	var until time.Time
	components := []string{testcluster.Etcd, testcluster.APIServer, testcluster.ControllerManager, testcluster.Scheduler}
	c := testcluster.Start(t, testcluster.Options{Components: components, WritePKI: func(ctx context.Context, s *testcluster.PKISpec) error {
		if err := s.WriteDefault(ctx); err != nil {
			return err
		}
		until = time.Now().Add(150 * time.Second).Truncate(time.Second)
		return expireAt(s.CertDir, s.KubeconfigDir, until)
	}})
	ctx := testCtx(t, 8*time.Minute)
	k, err := c.StartKubelet(ctx)
	if err != nil {
		t.Fatal(err)
	}
	pkiDir, kubeDir := c.PKIDir(), c.KubeconfigDir()

	time.Sleep(time.Until(until.Add(2 * time.Second)))
	cs, err := c.AdminClient()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := cs.CoreV1().Namespaces().Get(ctx, "kube-system", metav1.GetOptions{}); err == nil {
		t.Fatal("kube-apiserver accepts the expired admin.conf: the test proves nothing")
	}

	before := map[string]int{}
	for _, name := range components {
		before[name] = k.Restarts(name)
	}
	args := []string{"renew", "all", "--restart-control-plane", "--manifest-dir", c.ManifestDir(), "--restart-timeout", "3m",
		"--cert-dir", pkiDir, "--kubeconfig-dir", kubeDir}
	out, err := exec.CommandContext(ctx, certctlBin(t), args...).CombinedOutput()
	t.Logf("$ certctl %s\n%s", strings.Join(args, " "), out)
	t.Logf("kubelet: %v", k.Events())
	if err != nil {
		t.Fatalf("certctl renew all on the expired control plane: %v", err)
	}
	if !strings.Contains(string(out), "took the Lease kube-system/certctl-restart-etcd") {
		t.Errorf("the restarts did not take their Leases with the renewed admin.conf")
	}
	for _, f := range []string{"apiserver.crt", "apiserver-etcd-client.crt", "etcd/server.crt", "etcd/peer.crt"} {
		if got := readCert(t, filepath.Join(pkiDir, f)); !got.NotAfter.After(time.Now().Add(300 * 24 * time.Hour)) {
			t.Errorf("%s expires %s after the renewal", f, got.NotAfter)
		}
	}
	for _, name := range components {
		if k.Restarts(name) == before[name] {
			t.Errorf("the kubelet did not restart %s", name)
		}
	}
	if got, want := served(t, c.Addr(testcluster.APIServer), clientTLS(t, c, "ca.crt", "")), readCert(t, filepath.Join(pkiDir, "apiserver.crt")); !got.Equal(want) {
		t.Errorf("kube-apiserver serves serial %x, want the renewed %x", got.SerialNumber, want.SerialNumber)
	}
	if got, want := served(t, c.Addr(testcluster.Etcd), clientTLS(t, c, "etcd/ca.crt", "apiserver-etcd-client")), readCert(t, filepath.Join(pkiDir, "etcd/server.crt")); !got.Equal(want) {
		t.Errorf("etcd serves serial %x, want the renewed %x", got.SerialNumber, want.SerialNumber)
	}
	cs, err = c.AdminClient() // the renewed admin.conf
	if err != nil {
		t.Fatal(err)
	}
	if _, err := cs.RbacV1().ClusterRoleBindings().Get(ctx, "kubeadm:cluster-admins", metav1.GetOptions{}); err != nil {
		t.Errorf("the renewed admin.conf, or kube-apiserver's reads of etcd, do not work after the renewal: %v", err)
	}
}

// expireAt signs every leaf certificate of certDir and every client certificate embedded in
// kubeDir's kubeconfigs again, with the same key, subject and extensions, valid for the year that
// ends at until: the PKI of a cluster whose certificates were not renewed in a year.
func expireAt(certDir, kubeDir string, until time.Time) error {
	cas := map[string]issuer{}
	for _, base := range []string{"ca", "front-proxy-ca", "etcd/ca"} {
		cert, _, err := pki.ReadCertFile(filepath.Join(certDir, base+".crt"))
		if err != nil {
			return err
		}
		key, err := pki.ReadKeyFile(filepath.Join(certDir, base+".key"))
		if err != nil {
			return err
		}
		cas[string(cert.RawSubject)] = issuer{cert: cert, key: key}
	}
	resign := func(cert *x509.Certificate) ([]byte, error) {
		ca, ok := cas[string(cert.RawIssuer)]
		if !ok {
			return nil, errors.New("no CA of the node issued " + cert.Subject.String())
		}
		tmpl := *cert
		tmpl.NotBefore, tmpl.NotAfter = until.Add(-365*24*time.Hour), until // kubeadm's year, ending at until
		der, err := x509.CreateCertificate(rand.Reader, &tmpl, ca.cert, cert.PublicKey, ca.key)
		if err != nil {
			return nil, err
		}
		return pki.EncodeCert(&x509.Certificate{Raw: der}), nil
	}
	err := filepath.WalkDir(certDir, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || !strings.HasSuffix(path, ".crt") {
			return err
		}
		cert, _, err := pki.ReadCertFile(path)
		if err != nil || cert.IsCA {
			return err
		}
		data, err := resign(cert)
		if err != nil {
			return err
		}
		return os.WriteFile(path, data, 0o644)
	})
	if err != nil {
		return err
	}
	confs, _ := filepath.Glob(filepath.Join(kubeDir, "*.conf"))
	for _, path := range confs {
		cfg, err := clientcmd.LoadFromFile(path)
		if err != nil {
			return err
		}
		for _, user := range cfg.AuthInfos {
			if len(user.ClientCertificateData) == 0 {
				continue
			}
			certs, err := pki.ParseCerts(user.ClientCertificateData)
			if err != nil {
				return err
			}
			if user.ClientCertificateData, err = resign(certs[0]); err != nil {
				return err
			}
		}
		if err := clientcmd.WriteToFile(*cfg, path); err != nil {
			return err
		}
	}
	return nil
}
