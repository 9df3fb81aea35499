package e2e

import (
	"bytes"
	"crypto/tls"
	"net"
	"os"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/certctl/certctl/internal/testcluster"
)

// TestRestartOnNewCertificate proves what renewal tests build on: after certctl writes a new
// apiserver.crt (here: the old pair removed, `certctl init-phase certs all` run again, which like
// kubeadm keeps the CA and fills in what is missing), Restart stops the old kube-apiserver, waits
// for its PID to exit, and the new one serves the new certificate; etcd and kube-controller-manager
// restart on their files, and the cluster keeps its data.
func TestRestartOnNewCertificate(t *testing.T) {
	c := testcluster.Start(t, testcluster.Options{})
	ctx := testCtx(t, 3*time.Minute)
	pki := c.PKIDir()
	oldCert := readCert(t, filepath.Join(pki, "apiserver.crt"))
	oldCA := readCert(t, filepath.Join(pki, "ca.crt"))

	for _, f := range []string{"apiserver.crt", "apiserver.key"} {
		if err := os.Remove(filepath.Join(pki, f)); err != nil {
			t.Fatal(err)
		}
	}
	if err := c.PKI().InitCerts(ctx); err != nil {
		t.Fatalf("rewrite the apiserver certificate with certctl: %v", err)
	}
	newCert := readCert(t, filepath.Join(pki, "apiserver.crt"))
	if !bytes.Equal(readCert(t, filepath.Join(pki, "ca.crt")).Raw, oldCA.Raw) {
		t.Fatalf("certctl init-phase certs all replaced the existing ca.crt")
	}
	if bytes.Equal(newCert.Raw, oldCert.Raw) {
		t.Fatalf("certctl init-phase certs all did not write a new apiserver.crt")
	}

	oldPID := c.PID(testcluster.APIServer)
	if err := c.Restart(ctx, testcluster.APIServer); err != nil {
		t.Fatal(err)
	}
	if err := syscall.Kill(oldPID, 0); err != syscall.ESRCH {
		t.Errorf("old kube-apiserver pid %d still exists after Restart (kill 0: %v)", oldPID, err)
	}
	if c.PID(testcluster.APIServer) == oldPID {
		t.Errorf("kube-apiserver has the same pid %d after Restart", oldPID)
	}
	conn, err := tls.DialWithDialer(&net.Dialer{Timeout: 10 * time.Second}, "tcp", c.Addr(testcluster.APIServer), clientTLS(t, c, "ca.crt", ""))
	if err != nil {
		t.Fatalf("TLS handshake with the restarted kube-apiserver: %v", err)
	}
	served := conn.ConnectionState().PeerCertificates[0]
	conn.Close()
	if !bytes.Equal(served.Raw, newCert.Raw) {
		t.Errorf("restarted kube-apiserver serves serial %x, want the new apiserver.crt's %x", served.SerialNumber, newCert.SerialNumber)
	}

	// The binding Start created lives in etcd: it must survive restarts of etcd and the apiserver.
	for _, name := range []string{testcluster.Etcd, testcluster.ControllerManager} {
		before := c.PID(name)
		if err := c.Restart(ctx, name); err != nil {
			t.Fatal(err)
		}
		if c.PID(name) == before {
			t.Errorf("%s has the same pid %d after Restart", name, before)
		}
	}
	cs, err := c.AdminClient()
	if err != nil {
		t.Fatal(err)
	}
	// The apiserver's etcd client reconnects on its own after etcd's restart; allow it a moment.
	deadline := time.Now().Add(30 * time.Second)
	for {
		_, err = cs.RbacV1().ClusterRoleBindings().Get(ctx, "kubeadm:cluster-admins", metav1.GetOptions{})
		if err == nil || time.Now().After(deadline) {
			break
		}
		time.Sleep(200 * time.Millisecond)
	}
	if err != nil {
		t.Fatalf("get ClusterRoleBinding kubeadm:cluster-admins with admin.conf after restarts: %v", err)
	}
}
