package expiration

import (
	"os"
	"strings"
	"testing"

	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"

	"github.com/certctl/certctl/internal/pkitest"
)

// TestKubeletUnusableSaysWhatToDo: a kubelet.conf whose user has no client
// certificate (a token), or whose certificate or key cannot be parsed, was
// reported without what to do. Embedded in kubelet.conf, a new kubelet.conf
// is made with init-phase; in the file the kubelet rotates, the kubelet's
// rotation is to fix.
func TestKubeletUnusableSaysWhatToDo(t *testing.T) {
	garbage := []byte("-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n")
	for _, tc := range []struct {
		name  string
		setup func(t *testing.T, n *pkitest.Node)
		want  string
	}{
		{
			name: "a token user",
			setup: func(t *testing.T, n *pkitest.Node) {
				pkitest.EditKubeconfig(t, n.Path("kubelet.conf"), func(cfg *clientcmdapi.Config) {
					for _, u := range cfg.AuthInfos {
						u.ClientCertificateData, u.ClientKeyData, u.Token = nil, nil, "abc"
					}
				})
			},
			want: "remove it and run `certctl init-phase kubeconfig kubelet`",
		},
		{
			name: "embedded certificate damaged",
			setup: func(t *testing.T, n *pkitest.Node) {
				pkitest.EditKubeconfig(t, n.Path("kubelet.conf"), func(cfg *clientcmdapi.Config) {
					for _, u := range cfg.AuthInfos {
						u.ClientCertificateData = garbage
					}
				})
			},
			want: "remove it and run `certctl init-phase kubeconfig kubelet`",
		},
		{
			name: "embedded key damaged",
			setup: func(t *testing.T, n *pkitest.Node) {
				pkitest.EditKubeconfig(t, n.Path("kubelet.conf"), func(cfg *clientcmdapi.Config) {
					for _, u := range cfg.AuthInfos {
						u.ClientKeyData = []byte("-----BEGIN EC PRIVATE KEY-----\nAAAA\n-----END EC PRIVATE KEY-----\n")
					}
				})
			},
			want: "remove it and run `certctl init-phase kubeconfig kubelet`",
		},
		{
			name: "the kubelet's rotated file damaged",
			setup: func(t *testing.T, n *pkitest.Node) {
				if err := os.WriteFile(n.BootstrappedKubelet(t, 0o600), garbage, 0o600); err != nil {
					t.Fatal(err)
				}
			},
			want: "restart the kubelet or re-join the node",
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			n := pkitest.NewNode(t, nil)
			tc.setup(t, n)
			row := kubeletRow(t, check(t, n, nil))
			if len(row.Problems) != 1 || row.Problems[0].Type != Unreadable || !strings.Contains(row.Problems[0].Message, tc.want) {
				t.Errorf("problems %+v, want one %s saying %q", row.Problems, Unreadable, tc.want)
			}
		})
	}
}
