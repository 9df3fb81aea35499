package expiration

import (
	"os"
	"strings"
	"testing"

	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"

	"github.com/certctl/certctl/internal/pkitest"
)

// TestKubeletCAData: a kubelet.conf whose certificate-authority-data is
// not the cluster CA (another cluster's, a CA replaced by hand) makes the
// kubelet reject the API server's certificate, and the node goes NotReady;
// check-expiration reported it for the other kubeconfigs
// (ca-data-mismatch) but not for kubelet.conf, embedded or after the TLS
// bootstrap. renew does not write kubelet.conf: the fix is kubectl's.
func TestKubeletCAData(t *testing.T) {
	for _, tc := range []struct {
		name         string
		bootstrapped bool
		caFile       string // the CA data's file, "" for ca.crt's
		want         bool   // a ca-data-mismatch
	}{
		{name: "embedded, as made"},
		{name: "embedded, another CA", caFile: "pki/front-proxy-ca.crt", want: true},
		{name: "after the TLS bootstrap, another CA", bootstrapped: true, caFile: "pki/etcd/ca.crt", want: true},
		{name: "after the TLS bootstrap, as made", bootstrapped: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			n := pkitest.NewNode(t, nil)
			if tc.bootstrapped {
				n.BootstrappedKubelet(t, 0o600)
			}
			if tc.caFile != "" {
				other, err := os.ReadFile(n.Path(tc.caFile))
				if err != nil {
					t.Fatal(err)
				}
				pkitest.EditKubeconfig(t, n.Path("kubelet.conf"), func(cfg *clientcmdapi.Config) {
					for _, c := range cfg.Clusters {
						c.CertificateAuthorityData = other
					}
				})
			}
			row := kubeletRow(t, check(t, n, nil))
			if !tc.want {
				if len(row.Problems) > 0 {
					t.Errorf("problems %+v, want none", row.Problems)
				}
				return
			}
			want := "`kubectl --kubeconfig " + n.Path("kubelet.conf") + " config set-cluster kubernetes --certificate-authority " + n.Path("pki/ca.crt") + " --embed-certs`"
			if len(row.Problems) != 1 || row.Problems[0].Type != CADataMismatch || !strings.Contains(row.Problems[0].Message, "kubeconfig "+n.Path("kubelet.conf")+":") ||
				!strings.Contains(row.Problems[0].Message, want) {
				t.Errorf("problems %+v, want one %s naming kubelet.conf and %s", row.Problems, CADataMismatch, want)
			}
		})
	}
}
