package pkitest

import (
	"testing"

	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"

	"github.com/certctl/certctl/pki/kubeconfig"
)

// MergeOtherCluster adds to the kubeconfig at path the current cluster and
// user of the kubeconfig at from (another cluster's), as "staging", with a
// context "staging" that it makes current: what merging another
// cluster's kubeconfig into it (kubectl config view --flatten) and then
// `kubectl config use-context staging` leave.
func MergeOtherCluster(t testing.TB, path, from string) {
	t.Helper()
	other, err := kubeconfig.Load(from)
	if err != nil {
		t.Fatal(err)
	}
	_, cluster, _, user, err := kubeconfig.Current(other)
	if err != nil {
		t.Fatal(err)
	}
	EditKubeconfig(t, path, func(cfg *clientcmdapi.Config) {
		cfg.Clusters["staging"] = cluster.DeepCopy()
		cfg.AuthInfos["staging"] = user.DeepCopy()
		cfg.Contexts["staging"] = &clientcmdapi.Context{Cluster: "staging", AuthInfo: "staging"}
		cfg.CurrentContext = "staging"
	})
}
