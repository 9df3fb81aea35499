package cmd

import (
	"crypto/x509"
	"errors"
	"fmt"

	"github.com/spf13/pflag"
	apierrors "k8s.io/apimachinery/pkg/api/errors"

	"github.com/certctl/certctl/internal/kubeclient"
	"github.com/certctl/certctl/pki"
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
	fs.StringVar(&f.kubeconfig, "kubeconfig", "", "kubeconfig file of the API server (default: $KUBECONFIG, then ~/.kube/config, then the pod's service account; docs/renew.md)")
	f.qps, f.burst = qps, burst
	if withRate {
		fs.Float32Var(&f.qps, "kube-api-qps", qps, "requests per second to the API server, sustained")
		fs.IntVar(&f.burst, "kube-api-burst", burst, "requests to the API server in a burst")
	}
}

// client connects to the API server, finding the kubeconfig as every
// certctl command does (internal/kubeclient).
func (f *apiFlags) client() (*kubeclient.Client, error) {
	return kubeclient.New(kubeclient.Options{Kubeconfig: f.kubeconfig, QPS: f.qps, Burst: f.burst, UserAgent: userAgent()})
}

func userAgent() string { return "certctl/" + Version() }

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
		return fmt.Errorf("%w: the API server's certificate is not signed by the CA in the kubeconfig's certificate-authority-data: fix the kubeconfig, or pass --kubeconfig the cluster's %s", err, pki.AdminKubeconfig)
	}
	return err
}
