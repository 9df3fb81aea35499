package cmd

import (
	"crypto/x509"
	"errors"
	"fmt"

	"github.com/spf13/pflag"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"
)

// apiFlags are the flags of commands that talk to the API server.
type apiFlags struct {
	kubeconfig string
	qps        float32
	burst      int
}

// addTo adds --kubeconfig; withRate also adds --kube-api-qps and
// --kube-api-burst with the given defaults, for long-running commands.
func (f *apiFlags) addTo(fs *pflag.FlagSet, withRate bool, qps float32, burst int) {
	fs.StringVar(&f.kubeconfig, "kubeconfig", "", "kubeconfig file of the API server (default: $KUBECONFIG, then ~/.kube/config, then the pod's service account)")
	f.qps, f.burst = qps, burst
	if withRate {
		fs.Float32Var(&f.qps, "kube-api-qps", qps, "requests per second to the API server, sustained")
		fs.IntVar(&f.burst, "kube-api-burst", burst, "requests to the API server in a burst")
	}
}

// client returns a clientset that speaks protobuf, as the control-plane
// components do. The kubeconfig is found like kubectl finds it; with none,
// the pod's service account is used.
func (f *apiFlags) client() (*kubernetes.Clientset, error) {
	rules := clientcmd.NewDefaultClientConfigLoadingRules()
	rules.ExplicitPath = f.kubeconfig
	cfg, err := clientcmd.NewNonInteractiveDeferredLoadingClientConfig(rules, &clientcmd.ConfigOverrides{}).ClientConfig()
	if err != nil {
		if f.kubeconfig != "" {
			return nil, fmt.Errorf("load kubeconfig %s: %w: pass --kubeconfig a readable kubeconfig of the cluster (on a control-plane node, /etc/kubernetes/admin.conf)", f.kubeconfig, err)
		}
		return nil, fmt.Errorf("find the API server: %w; pass --kubeconfig (on a control-plane node, /etc/kubernetes/admin.conf)", err)
	}
	cfg = rest.CopyConfig(cfg)
	cfg.QPS, cfg.Burst = f.qps, f.burst
	cfg.UserAgent = "certctl/" + Version() + " " + rest.DefaultKubernetesUserAgent()
	cfg.ContentType = runtime.ContentTypeProtobuf
	cfg.AcceptContentTypes = runtime.ContentTypeProtobuf + "," + runtime.ContentTypeJSON
	cs, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		return nil, fmt.Errorf("create API client: %w", err)
	}
	return cs, nil
}

// withAPIHint adds to an error from the API server what to do about it,
// for the commands that act on one CSR (approve, deny, sign): role is
// the RBAC role docs/signer.md gives them.
func withAPIHint(err error, role string) error {
	var unknownCA x509.UnknownAuthorityError
	switch {
	case err == nil:
		return nil
	case apierrors.IsForbidden(err):
		return fmt.Errorf("%w: the kubeconfig's user lacks the rights of the %s role: grant them as docs/signer.md shows, or pass --kubeconfig of a user who has them", err, role)
	case errors.As(err, &unknownCA):
		return fmt.Errorf("%w: the API server's certificate is not signed by the CA in the kubeconfig's certificate-authority-data: fix the kubeconfig, or pass --kubeconfig the cluster's admin.conf", err)
	}
	return err
}
