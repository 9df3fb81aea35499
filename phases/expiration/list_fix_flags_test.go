package expiration

import (
	"os"
	"strings"
	"testing"

	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"

	"github.com/certctl/certctl/internal/pkitest"
	"github.com/certctl/certctl/phases/config"
)

// TestCertsListFixActsOnItsFolders: the commands certs list prints for a
// kubeconfig's problem (init-phase, renew) carry the folder flags it was
// given, as check-expiration's do: without them, run as printed, they
// acted on /etc/kubernetes, another tree than the one listed.
func TestCertsListFixActsOnItsFolders(t *testing.T) {
	for _, tc := range []struct {
		name  string
		setup func(t *testing.T, n, other *pkitest.Node)
		want  string // the command printed, without its folder flags
	}{
		{
			name: "embedded key of another kubeconfig",
			setup: func(t *testing.T, n, other *pkitest.Node) {
				pkitest.EditKubeconfig(t, n.Path("admin.conf"), func(cfg *clientcmdapi.Config) {
					for _, u := range cfg.AuthInfos {
						u.ClientKeyData = loadUser(t, n.Path("scheduler.conf")).ClientKeyData
					}
				})
			},
			want: "certctl init-phase kubeconfig admin",
		},
		{
			name: "CA data of another cluster",
			setup: func(t *testing.T, n, other *pkitest.Node) {
				pkitest.EditKubeconfig(t, n.Path("scheduler.conf"), func(cfg *clientcmdapi.Config) {
					for _, c := range cfg.Clusters {
						c.CertificateAuthorityData = readFile(t, other.Path("pki/ca.crt"))
					}
				})
			},
			want: "certctl renew scheduler.conf",
		},
		{
			name: "token user",
			setup: func(t *testing.T, n, other *pkitest.Node) {
				pkitest.EditKubeconfig(t, n.Path("controller-manager.conf"), func(cfg *clientcmdapi.Config) {
					for _, u := range cfg.AuthInfos {
						u.ClientCertificateData, u.ClientKeyData, u.Token = nil, nil, "abc"
					}
				})
			},
			want: "certctl init-phase kubeconfig controller-manager",
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			n, other := pkitest.NewNode(t, nil), pkitest.NewNode(t, nil)
			tc.setup(t, n, other)
			certs, kcs := inventory(t, n)
			list, err := listInventory(n.CertDir(), n.Dir, certs, kcs, nil, pkitest.Made)
			if err != nil {
				t.Fatal(err)
			}
			want := tc.want + config.FolderFlags(n.CertDir(), n.Dir) + "`"
			var msgs []string
			for _, e := range list.Items {
				for _, p := range e.Problems {
					msgs = append(msgs, p.Message)
				}
			}
			if !strings.Contains(strings.Join(msgs, "\n"), want) {
				t.Errorf("problems %q, want one with %q", msgs, want)
			}
		})
	}
}

func loadUser(t *testing.T, path string) *clientcmdapi.AuthInfo {
	t.Helper()
	var user *clientcmdapi.AuthInfo
	pkitest.EditKubeconfig(t, path, func(cfg *clientcmdapi.Config) {
		for _, u := range cfg.AuthInfos {
			user = u.DeepCopy()
		}
	})
	return user
}

func readFile(t *testing.T, path string) []byte {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return data
}
