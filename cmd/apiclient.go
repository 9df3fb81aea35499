package cmd

import (
	"time"

	"github.com/spf13/pflag"
	"k8s.io/client-go/kubernetes"

	"github.com/certctl/certctl/internal/buildinfo"
	"github.com/certctl/certctl/internal/kubeclient"
)

// apiFlags are the flags of commands that talk to the API server.
type apiFlags struct {
	kubeconfig string
	context    string
	qps        float32
	burst      int
}

// addTo adds --kubeconfig and --context; withRate also adds --kube-api-qps and
// --kube-api-burst with the given defaults, for long-running commands.
func (f *apiFlags) addTo(fs *pflag.FlagSet, withRate bool, qps float32, burst int) {
	fs.StringVar(&f.kubeconfig, "kubeconfig", "", kubeclient.KubeconfigHelp(false))
	fs.StringVar(&f.context, "context", "", kubeclient.ContextHelp)
	f.qps, f.burst = qps, burst
	if withRate {
		fs.Var((*kubeclient.QPS)(&f.qps), "kube-api-qps", "requests per second to the API server, sustained (greater than 0)")
		fs.Var((*kubeclient.Burst)(&f.burst), "kube-api-burst", "requests to the API server in a burst (1 or more)")
	}
}

// client connects to the API server, finding the kubeconfig as every
// certctl command does (internal/kubeclient), refusing an expired client
// certificate up front: the API server would only say "Unauthorized".
func (f *apiFlags) client() (*kubeclient.Client, error) { return f.clientOr("") }

// clientOr is client with file, a kubeconfig found another way, in place
// of --kubeconfig when that is not given (kubeclient.Options.File).
func (f *apiFlags) clientOr(file string) (*kubeclient.Client, error) {
	return kubeclient.New(kubeclient.Options{Kubeconfig: f.kubeconfig, File: file, Context: f.context, QPS: f.qps, Burst: f.burst, UserAgent: userAgent(), Now: time.Now})
}

// connect is client as a kubernetes.Interface, for the workflows.
func (f *apiFlags) connect() (kubernetes.Interface, error) { return f.client() }

// nodeClient connects to the API server as the commands of a
// control-plane node do: --kubeconfig, else kubeconfigDir's admin.conf
// when there, then as every command does (internal/kubeclient), refusing
// an expired client certificate up front.
func (f *apiFlags) nodeClient(kubeconfigDir string) (*kubeclient.Client, error) {
	return kubeclient.New(kubeclient.Options{Kubeconfig: f.kubeconfig, Context: f.context, KubeconfigDir: kubeconfigDir, UserAgent: userAgent(), Now: time.Now})
}

func userAgent() string { return "certctl/" + buildinfo.Version(version) }

// nodeConnect is nodeClient as a kubernetes.Interface, with the server it
// reached and where its kubeconfig came from, for messages.
func (f *apiFlags) nodeConnect(kubeconfigDir string) func() (kubernetes.Interface, string, error) {
	return func() (kubernetes.Interface, string, error) {
		k, err := f.nodeClient(kubeconfigDir)
		if err != nil {
			return nil, "", err
		}
		return k, k.Config.Host + " (" + k.Source + ")", nil
	}
}
