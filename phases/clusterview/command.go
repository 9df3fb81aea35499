package clusterview

import (
	"context"
	"fmt"
	"io"
	"time"

	"k8s.io/client-go/kubernetes"

	"github.com/certctl/certctl/internal/kubeclient"
	"github.com/certctl/certctl/internal/output"
	"github.com/certctl/certctl/phases/config"
	"github.com/certctl/certctl/phases/expiration"
)

// Command is `certctl check-expiration` as asked: the node's files
// (expiration.Report), or with Cluster every control-plane node's served
// certificates (Report).
type Command struct {
	Output     string // -o as given
	Textfile   string
	WarnWithin time.Duration
	Cluster    bool
	// Given says whether a flag was given: --kubeconfig and
	// --etcd-endpoints are for Cluster only.
	Given func(flag string) bool
	// ConfigFile is --config; CertDir and KubeconfigDir are the folders
	// the flags name.
	ConfigFile, CertDir, KubeconfigDir string
	// FolderFlags are the folder flags given, for the commands the report
	// prints (expiration.Options.FolderFlags).
	FolderFlags   string
	EtcdEndpoints []string
	// ManifestDir is expiration.Options.ManifestDir.
	ManifestDir string
	// Kubeconfig is --kubeconfig, checked (kubeclient.CheckFlag) before
	// anything is read: Connect's error would only be reported.
	Kubeconfig string
	// Load reads and validates the node's settings (with ConfigFile);
	// Layered reads them without detecting or validating anything, and
	// says where they came from.
	Load    func() (*config.Cluster, error)
	Layered func() (config.Cluster, config.Source, error)
	// Connect makes the API client of Cluster.
	Connect     func() (kubernetes.Interface, error)
	Now         func() time.Time
	Out, ErrOut io.Writer
}

// nodeOnlyFlags are the flags of check-expiration that only this node's
// check reads; --cluster refuses them.
var nodeOnlyFlags = []string{"node-name", "apiserver-advertise-address", "manifest-dir"}

// Run checks the options, then reports.
func (c Command) Run(ctx context.Context) error {
	if _, err := output.Parse(c.Output, "prometheus"); err != nil {
		return err
	}
	if c.WarnWithin < 0 {
		return fmt.Errorf("--warn-within %v must not be negative", c.WarnWithin)
	}
	if c.Cluster {
		return c.runCluster(ctx)
	}
	for _, f := range []string{"kubeconfig", "context", "etcd-endpoints"} {
		if c.Given(f) {
			return fmt.Errorf("--%s is for --cluster only: add --cluster, or drop it", f)
		}
	}
	// The SANs are compared with a kubeadm configuration (--config, or the
	// cluster's kubeadm-config ConfigMap), the node's name and address
	// taken from its certificates. Settings derived from the certificates
	// or the host would report drift on every node made with other values.
	var cluster *config.Cluster
	source := config.SourceFile
	var err error
	if c.ConfigFile != "" {
		cluster, err = c.Load()
	} else {
		var layered config.Cluster
		if layered, source, err = c.Layered(); err == nil {
			cluster = &layered
		}
	}
	if err != nil {
		return err
	}
	opts := expiration.Options{CertDir: cluster.CertificatesDir, KubeconfigDir: c.KubeconfigDir, WarnWithin: c.WarnWithin, Textfile: c.Textfile, FolderFlags: c.FolderFlags, ManifestDir: c.ManifestDir}
	if source.Configured() && cluster.Validate() == nil {
		opts.Cluster, opts.ConfigFile = cluster, c.ConfigFile
	}
	opts.Now = c.Now()
	return expiration.Report(ctx, opts, c.Output, c.Out, c.ErrOut)
}

// fixKubeconfig is what to do when the client of --kubeconfig cannot be
// made: the nodes can be found without it.
const fixKubeconfig = "fix --kubeconfig, or drop it to check through etcd's member list"

// runCluster is check-expiration --cluster.
func (c Command) runCluster(ctx context.Context) error {
	if c.Output == "prometheus" || c.Textfile != "" {
		return fmt.Errorf("--cluster prints no Prometheus metrics: drop -o prometheus and --textfile, or run each node's check-expiration for its metrics")
	}
	// Every node is learned from the cluster: these would do nothing.
	for _, f := range nodeOnlyFlags {
		if c.Given(f) {
			return fmt.Errorf("--%s is for this node's check, not --cluster, which learns every node from the cluster: drop it", f)
		}
	}
	if err := kubeclient.CheckFlag(c.Kubeconfig); err != nil {
		return fmt.Errorf("%w: %s", err, fixKubeconfig)
	}
	certDir := c.CertDir
	if c.ConfigFile != "" {
		cluster, err := c.Load()
		if err != nil {
			return err
		}
		certDir = cluster.CertificatesDir
	}
	opts := Options{CertDir: certDir, EtcdEndpoints: c.EtcdEndpoints, Now: c.Now(), WarnWithin: c.WarnWithin}
	opts.ClientRequired = c.Given("kubeconfig") || c.Given("context")
	client, err := c.Connect()
	if err != nil {
		opts.ClientError = err
	} else {
		opts.Client = client
	}
	return Report(ctx, opts, c.Output, c.Out)
}
