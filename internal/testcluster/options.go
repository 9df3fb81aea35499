package testcluster

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"time"
)

// The components a Cluster can run, in start order. Each also names the component's binary in
// Options.BinDir and its log, DIR/logs/NAME.log.
const (
	Etcd              = "etcd"
	APIServer         = "kube-apiserver"
	ControllerManager = "kube-controller-manager"
	Scheduler         = "kube-scheduler"
)

// componentOrder is the start order; Options.Components is a prefix of it.
var componentOrder = []string{Etcd, APIServer, ControllerManager, Scheduler}

// KubeVersion is the Kubernetes release whose binaries the harness runs by default
// (hack/tools/go.mod pins it; `make kube-binaries` builds it).
const KubeVersion = "v1.37.1"

// Fixed values of the cluster. They match kubeadm's defaults except for the loopback addresses.
const (
	// NodeName is the control-plane node's name: etcd's member name and the node name certctl
	// puts in the etcd certificates' SANs and in kubelet.conf.
	NodeName = "cp-test"
	// Host is the address the components of a single-node cluster (New) listen on.
	Host = "127.0.0.1"
	// ServiceCIDR is passed to certctl (the apiserver certificate gets its first IP, 10.96.0.1) and
	// to kube-apiserver's --service-cluster-ip-range.
	ServiceCIDR = "10.96.0.0/12"
	// DNSDomain is the service DNS domain passed to certctl.
	DNSDomain = "cluster.local"
	// ServiceAccountIssuer is kube-apiserver's --service-account-issuer, as kubeadm sets it.
	ServiceAccountIssuer = "https://kubernetes.default.svc." + DNSDomain
)

// Options configure a Cluster. The zero value runs all three components on certctl's default PKI.
type Options struct {
	// Dir holds the PKI, the kubeconfigs, etcd's data and the logs (layout in the package doc).
	// Required by New; the testing wrapper Start defaults it to t.TempDir().
	Dir string

	// Components to run, a prefix of [Etcd, APIServer, ControllerManager, Scheduler] because each
	// needs the one before it. Empty means the first three on one node, all four with Nodes >= 2.
	Components []string

	// Nodes is the number of control-plane nodes NewHA (StartHA) runs; New ignores it and runs
	// one. Each node gets its own folder, name, loopback address, PKI and kubeconfigs (see HA).
	Nodes int

	// ExtraArgs are appended, per component name, after the harness's own flags. For
	// kube-apiserver and kube-controller-manager (pflag) and etcd (Go's flag package) a flag given
	// twice takes the last value, so ExtraArgs can also override a default.
	ExtraArgs map[string][]string

	// CertctlArgs are appended to both `certctl init-phase certs all` and
	// `certctl init-phase kubeconfig all`, e.g. {"--encryption-algorithm", "ECDSA-P256"}.
	CertctlArgs []string

	// WritePKI, when set, replaces the default PKI step (PKISpec.WriteDefault). It runs after the
	// ports are chosen and before any component starts; it may call spec.WriteDefault and then change
	// files, or call spec.Certctl with other arguments. It must leave the files kubeadm writes at
	// their kubeadm paths (spec.CertDir, spec.KubeconfigDir).
	WritePKI func(ctx context.Context, spec *PKISpec) error

	// BinDir holds the components' binaries. Empty means $KUBE_BIN_DIR, else
	// REPO/_output/bin/KubeVersion. A relative path is taken from the repository root.
	BinDir string

	// Certctl is the certctl binary. Empty means $CERTCTL_BIN, else certctl built once per process
	// from REPO/cmd/certctl into REPO/_output/testbin. A relative path is taken from the repository
	// root.
	Certctl string

	// Detached starts the components in their own sessions without Pdeathsig, so that they outlive
	// the program that started them; stop them later with StopState. Tests leave it false.
	Detached bool

	// ReadyTimeout bounds the wait for each component's health endpoint after it starts.
	// Zero means 90s (kube-apiserver needs ~3s alone, 25s has been seen on a busy 2-core machine).
	ReadyTimeout time.Duration

	// StopGrace is how long Stop waits after SIGTERM before it sends SIGKILL. Zero means 15s.
	StopGrace time.Duration

	// Logf receives progress lines ("kube-apiserver ready at ..., pid 123 (3.1s)"). Nil discards
	// them; the testing wrapper sets t.Logf.
	Logf func(format string, args ...any)
}

func (o Options) withDefaults() Options {
	if len(o.Components) == 0 {
		o.Components = componentOrder[:3]
		if o.Nodes >= 2 {
			o.Components = componentOrder
		}
	}
	o.ReadyTimeout = cmp.Or(o.ReadyTimeout, 90*time.Second)
	o.StopGrace = cmp.Or(o.StopGrace, 15*time.Second)
	if o.Logf == nil {
		o.Logf = func(string, ...any) {}
	}
	return o
}

func (o Options) validate() error {
	if o.Dir == "" {
		return fmt.Errorf("testcluster: Options.Dir is empty")
	}
	if len(o.Components) > len(componentOrder) {
		return fmt.Errorf("testcluster: %d components given, at most %d exist", len(o.Components), len(componentOrder))
	}
	for i, name := range o.Components {
		if name != componentOrder[i] {
			return fmt.Errorf("testcluster: components %q: want a prefix of %q (each needs the one before it)", o.Components, componentOrder)
		}
	}
	for name := range o.ExtraArgs {
		if !slices.Contains(componentOrder, name) {
			return fmt.Errorf("testcluster: ExtraArgs for unknown component %q", name)
		}
	}
	return nil
}
