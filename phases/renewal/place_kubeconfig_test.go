package renewal

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"

	"github.com/certctl/certctl/internal/pkitest"
	"github.com/certctl/certctl/pki"
)

// TestPlaceRefusesAnotherUsersCredentials: `certs import` into a
// kubeconfig whose current context the user switched to a user that
// authenticates otherwise (a token, an exec plugin) is refused with the
// kubectl use-context that switches back: the certificate would go to that
// user, next to its token, and kubeadm's user would keep the old one.
func TestPlaceRefusesAnotherUsersCredentials(t *testing.T) {
	tests := []struct {
		name string
		user clientcmdapi.AuthInfo
	}{
		{"token", clientcmdapi.AuthInfo{Token: "t"}},
		{"token file", clientcmdapi.AuthInfo{TokenFile: "/run/token"}},
		{"exec plugin", clientcmdapi.AuthInfo{Exec: &clientcmdapi.ExecConfig{Command: "aws", APIVersion: "client.authentication.k8s.io/v1"}}},
		{"basic auth", clientcmdapi.AuthInfo{Username: "u", Password: "p"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			n := newNode(t, nil)
			p := n.path("admin.conf")
			pkitest.SwitchContext(t, p, &tt.user)
			certPEM := read(t, n.path("pki/apiserver-kubelet-client.crt"))
			keyPEM := read(t, n.path("pki/apiserver-kubelet-client.key"))
			_, err := n.targets(t, "admin.conf")[0].Place(n.certDir(), n.Dir, certPEM, keyPEM, pki.EncodeCert(n.cert(t, "ca")), "")
			if err == nil || !strings.Contains(err.Error(), p) || !strings.Contains(err.Error(), "config use-context kubernetes-admin@kubernetes") {
				t.Errorf("Place into %s whose current user has a %s: %v, want a refusal with kubectl config use-context", p, tt.name, err)
			}
		})
	}
}

// TestPlaceRefusesAnotherClustersContext: `certs import` into admin.conf
// whose current context was switched, after its CSR was written, to
// another cluster's context merged into the file installed the new
// certificate into that cluster's user, with this cluster's CA data over
// that cluster's, and left kubeadm's user with the old certificate. It is
// refused, with the use-context that switches back; a file whose current
// user is this CA's is installed as before.
func TestPlaceRefusesAnotherClustersContext(t *testing.T) {
	for _, tc := range []struct {
		name     string
		switched bool
	}{
		{name: "current context of another cluster", switched: true},
		{name: "other cluster's context merged, not current"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			n, other := newNode(t, nil), newNode(t, nil)
			p := n.path("admin.conf")
			pkitest.MergeOtherCluster(t, p, other.path("admin.conf"))
			if !tc.switched {
				pkitest.EditKubeconfig(t, p, func(cfg *clientcmdapi.Config) { cfg.CurrentContext = "kubernetes-admin@kubernetes" })
			}
			certPEM := read(t, n.path("pki/apiserver-kubelet-client.crt"))
			keyPEM := read(t, n.path("pki/apiserver-kubelet-client.key"))
			_, err := n.targets(t, "admin.conf")[0].Place(n.certDir(), n.Dir, certPEM, keyPEM, pki.EncodeCert(n.cert(t, "ca")), "")
			switch {
			case tc.switched && (err == nil || !strings.Contains(err.Error(), `current context "staging"`) || !strings.Contains(err.Error(), "config use-context kubernetes-admin@kubernetes")):
				t.Errorf("Place into %s whose current context is another cluster's: %v, want a refusal with kubectl config use-context", p, err)
			case !tc.switched && err != nil:
				t.Errorf("Place into %s: %v", p, err)
			}
		})
	}
}

// TestPlaceFirstInstallationWithoutServer: a first installation takes
// every field but the credentials from the kubeconfig of the CSR folder
// (base); one whose cluster has no server was refused naming the target,
// not base, which lacks it, and without saying what to do. The refusal
// names base and the kubectl command that sets the server.
func TestPlaceFirstInstallationWithoutServer(t *testing.T) {
	n := newNode(t, nil)
	p := n.path("admin.conf")
	base := filepath.Join(t.TempDir(), "admin.conf")
	data, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(base, data, 0o600); err != nil {
		t.Fatal(err)
	}
	pkitest.EditKubeconfig(t, base, func(cfg *clientcmdapi.Config) {
		for _, c := range cfg.Clusters {
			c.Server = ""
		}
	})
	if err := os.Remove(p); err != nil {
		t.Fatal(err)
	}
	certPEM := read(t, n.path("pki/apiserver-kubelet-client.crt"))
	keyPEM := read(t, n.path("pki/apiserver-kubelet-client.key"))
	_, err = n.targets(t, "admin.conf")[0].Place(n.certDir(), n.Dir, certPEM, keyPEM, pki.EncodeCert(n.cert(t, "ca")), base)
	want := "kubeconfig " + base + `: its cluster "kubernetes" has no server: set the API server's address with ` + "`kubectl --kubeconfig " + base + " config set-cluster kubernetes --server https://ADDRESS:PORT`"
	if err == nil || !strings.Contains(err.Error(), want) {
		t.Errorf("Place from %s, whose cluster has no server: %v, want a refusal containing %q", base, err, want)
	}
	if _, err := os.Lstat(p); err == nil {
		t.Errorf("%s was written", p)
	}
}
