package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/certctl/certctl/internal/testcluster"
)

// TestClusterConfigFromConfigMap: on a running control plane whose
// kube-system/kubeadm-config ConfigMap holds the cluster's
// ClusterConfiguration (certificateValidityPeriod 480h, the node's SANs),
// certctl without --config reads it through the node's admin.conf, says
// so, finds no SAN drift on the healthy node, renews with 480h, and reports
// drift when the ConfigMap asks for a SAN the certificate lacks. With the
// API server stopped it falls back to the certificates and says that.
func TestClusterConfigFromConfigMap(t *testing.T) {
	c := testcluster.Start(t, testcluster.Options{})
	ctx := testCtx(t, 5*time.Minute)
	bin, err := testcluster.CertctlBinary()
	if err != nil {
		t.Fatal(err)
	}
	folders := []string{"--cert-dir", c.PKIDir(), "--kubeconfig-dir", c.KubeconfigDir()}
	certctl := func(args ...string) (stdout, stderr string, code int) {
		cmd := exec.CommandContext(ctx, bin, append(args, folders...)...)
		var out, errOut bytes.Buffer
		cmd.Stdout, cmd.Stderr = &out, &errOut
		err := cmd.Run()
		var exit *exec.ExitError
		if errors.As(err, &exit) {
			code = exit.ExitCode()
		} else if err != nil {
			t.Fatalf("certctl %v: %v", args, err)
		}
		return out.String(), errOut.String(), code
	}
	admin, err := c.SuperAdminClient()
	if err != nil {
		t.Fatal(err)
	}
	setConfigMap := func(extraSAN string) {
		cc := "apiVersion: kubeadm.k8s.io/v1beta4\nkind: ClusterConfiguration\nkubernetesVersion: v1.37.1\n" +
			"controlPlaneEndpoint: " + c.Addr(testcluster.APIServer) + "\n" +
			"certificateValidityPeriod: 480h0m0s\n" +
			"networking:\n  serviceSubnet: " + testcluster.ServiceCIDR + "\n  dnsDomain: " + testcluster.DNSDomain + "\n"
		if extraSAN != "" {
			cc += "apiServer:\n  certSANs: [" + extraSAN + "]\n"
		}
		cm := &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Namespace: "kube-system", Name: "kubeadm-config"},
			Data: map[string]string{"ClusterConfiguration": cc}}
		cms := admin.CoreV1().ConfigMaps("kube-system")
		if _, err := cms.Update(ctx, cm, metav1.UpdateOptions{}); err != nil {
			if _, err := cms.Create(ctx, cm, metav1.CreateOptions{}); err != nil {
				t.Fatalf("create the kubeadm-config ConfigMap: %v", err)
			}
		}
	}
	const fromConfigMap = "[config] using the ClusterConfiguration of ConfigMap kube-system/kubeadm-config (read with "
	setConfigMap("")

	out, errOut, code := certctl("check-expiration", "-o", "json")
	if code != 0 || !strings.HasPrefix(errOut, fromConfigMap+c.Kubeconfig("admin.conf")+")") {
		t.Fatalf("check-expiration: exit %d, stderr:\n%s\nstdout:\n%s", code, errOut, out)
	}
	if strings.Contains(out, "san-drift") || !json.Valid([]byte(out)) {
		t.Errorf("check-expiration -o json on a healthy node:\n%s", out)
	}

	_, errOut, code = certctl("renew", "apiserver")
	if code != 0 || !strings.HasPrefix(errOut, fromConfigMap) {
		t.Fatalf("renew apiserver: exit %d, stderr:\n%s", code, errOut)
	}
	crt := readCert(t, filepath.Join(c.PKIDir(), "apiserver.crt"))
	if v := crt.NotAfter.Sub(crt.NotBefore); v != 480*time.Hour+5*time.Minute {
		t.Errorf("renewed apiserver.crt is valid for %v, want the ConfigMap's 480h (+5m backdate)", v)
	}

	setConfigMap("api.example.com")
	out, errOut, code = certctl("check-expiration")
	if code != 3 || !strings.Contains(out, "missing api.example.com") {
		t.Errorf("a SAN the certificate lacks: exit %d, want 3 and the drift; stdout:\n%s\nstderr:\n%s", code, out, errOut)
	}

	// Without the API server: the certificates' own settings, said so.
	stopCtx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	if err := c.StopComponent(stopCtx, testcluster.APIServer); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	out, errOut, code = certctl("check-expiration")
	if code != 0 || !strings.HasPrefix(errOut, "[config] using the settings derived from the certificates in "+c.PKIDir()) {
		t.Errorf("API server stopped: exit %d, stderr:\n%s\nstdout:\n%s", code, errOut, out)
	}
	if d := time.Since(start); d > 10*time.Second {
		t.Errorf("check-expiration took %v with the API server stopped", d)
	}
}
