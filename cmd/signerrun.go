package cmd

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"sync/atomic"
	"time"

	"github.com/lithammer/dedent"
	"github.com/spf13/cobra"
	"k8s.io/apimachinery/pkg/util/uuid"

	"github.com/certctl/certctl/phases/config"
	"github.com/certctl/certctl/phases/signer"
	"github.com/certctl/certctl/pki"
)

type signerRunOptions struct {
	api           apiFlags
	policy        policyFlags
	caFiles       map[string]*[2]string // CA name -> cert, key flags
	workers       int
	caReload      time.Duration
	listenAddress string
	leaderElect   bool
	lease         signer.LeaderElection
	custom        []string // --signer NAME=CA_CERT,CA_KEY[,SIGNING_CONFIG]
}

func newSignerRunCommand() *cobra.Command {
	o := &signerRunOptions{caFiles: map[string]*[2]string{pki.CAName: {}, pki.FrontProxyCAName: {}, pki.EtcdCAName: {}}}
	c := &cobra.Command{
		Use:   "run",
		Short: "Sign approved CSRs of certctl's signer names until stopped",
		Long: dedent.Dedent(`
			Run a controller that signs every approved CertificateSigningRequest of
			certctl's signer names with the CA that name belongs to, as
			kube-controller-manager's signer does for the kubernetes.io names: an
			informer, a rate-limited work queue, --workers at once, conflicts retried.

			Each name issues only the control-plane certificates it is for, with
			kubeadm's profile: the subject, SANs and extended key usages of that
			certificate on the control-plane nodes, never CA:TRUE, never O=system:masters
			without --allow-system-masters. spec.expirationSeconds is honoured up to
			--certificate-validity and the CA's expiry. The request's self-signature
			(proof of possession) is checked. A request that does not fit gets a
			Failed condition with a reason and a message.

			The control-plane nodes are the cluster's Nodes with the control-plane
			role, each at its InternalIP, followed while running (an informer), so
			that a node added to the cluster needs no new flag; without --config the
			kube-system/kubeadm-config ConfigMap's ClusterConfiguration is applied
			over the cluster flags (controlPlaneEndpoint, certSANs, ...).
			--control-plane-node NAME=IP, repeated, replaces the Nodes. While the
			cluster lists none, only this node's certificates are issued
			(--node-name, --apiserver-advertise-address).

			The CAs come from --cert-dir (ca, front-proxy-ca, etcd/ca; a missing one
			is skipped with its names) or from the --*-ca-cert/--*-ca-key flags. They
			must be valid at start, and are read again when their files change
			(checked every --ca-reload-interval), as kube-controller-manager does with
			its --cluster-signing-*-file: a rotated CA signs from the next check on. A
			new pair is taken only whole and valid; while it is not (a certificate
			whose key is not replaced yet, a missing or broken file, an expired CA),
			the last good CA signs on and each check logs a warning. With
			--leader-elect, instances share a Lease and one signs at a time. /healthz
			and /metrics (CSRs signed, failed, queued; CA reloads) are served on
			--listen-address.

			Signer names:
		`) + signerNamesHelp(),
		Example: examples(`
			# On a control-plane node, with the node's CAs
			sudo certctl signer run --kubeconfig ` + filepath.Join(config.DefaultKubeconfigDir, pki.AdminKubeconfig) + ` --config kubeadm.yaml

			# A signer of your own for the documentation's example.com/serving (docs/signer.md)
			certctl signer run --kubeconfig signer.conf --cert-dir /var/empty \
			    --signer example.com/serving=ca.pem,ca-key.pem,server-signing-config.json

			# In a Deployment (see docs/signer.md), two replicas
			certctl signer run --leader-elect --cert-dir /pki --config /config/kubeadm.yaml \
			    --control-plane-node cp-1=192.0.2.10 --control-plane-node cp-2=192.0.2.11 \
			    --listen-address :10290
		`),
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			err := o.run(cmd)
			// A daemon is stopped by SIGTERM: that is its normal end, exit 0
			// (docs/exit-codes.md), even before the informer synced.
			if errors.Is(err, context.Canceled) && cmd.Context().Err() != nil {
				return nil
			}
			return err
		},
	}
	fs := c.Flags()
	o.api.addTo(fs, true, 100, 200)
	o.policy.addTo(fs, false)
	fs.StringVar(&o.caFiles[pki.CAName][0], "ca-cert", "", "cluster CA certificate, instead of --cert-dir")
	fs.StringVar(&o.caFiles[pki.CAName][1], "ca-key", "", "cluster CA key")
	fs.StringVar(&o.caFiles[pki.FrontProxyCAName][0], "front-proxy-ca-cert", "", "front-proxy CA certificate, instead of --cert-dir")
	fs.StringVar(&o.caFiles[pki.FrontProxyCAName][1], "front-proxy-ca-key", "", "front-proxy CA key")
	fs.StringVar(&o.caFiles[pki.EtcdCAName][0], "etcd-ca-cert", "", "etcd CA certificate, instead of --cert-dir")
	fs.StringVar(&o.caFiles[pki.EtcdCAName][1], "etcd-ca-key", "", "etcd CA key")
	fs.StringArrayVar(&o.custom, "signer", nil, "NAME=CA_CERT,CA_KEY[,SIGNING_CONFIG]: also sign the approved CSRs of this signer name of your own (e.g. example.com/serving) with this CA and cfssl-style signing configuration, under the same issuance policy; repeatable")
	fs.IntVar(&o.workers, "workers", 8, "CSRs signed at once")
	fs.DurationVar(&o.caReload, "ca-reload-interval", time.Minute, "how often the CA files are checked for a rotated CA; 0 reads them only at start")
	fs.StringVar(&o.listenAddress, "listen-address", "127.0.0.1:10290", "address of the /healthz and /metrics endpoints (plain HTTP)")
	fs.BoolVar(&o.leaderElect, "leader-elect", false, "take a Lease before signing, so that only one of several instances signs")
	fs.StringVar(&o.lease.Namespace, "leader-elect-namespace", "kube-system", "namespace of the Lease")
	fs.StringVar(&o.lease.Name, "leader-elect-name", "certctl-signer", "name of the Lease")
	fs.DurationVar(&o.lease.LeaseDuration, "leader-elect-lease-duration", 15*time.Second, "how long followers wait before taking over a lease not renewed")
	fs.DurationVar(&o.lease.RenewDeadline, "leader-elect-renew-deadline", 10*time.Second, "how long the leader tries to renew before it stops signing")
	fs.DurationVar(&o.lease.RetryPeriod, "leader-elect-retry-period", 2*time.Second, "time between tries to take or renew the lease")
	return c
}

// loadCAs reads the CAs named by the per-CA flags, or else those in the
// cert dir. A CA missing from the cert dir is skipped (an external etcd has
// no etcd CA there); one named by a flag must load.
func (o *signerRunOptions) loadCAs(cmd *cobra.Command, certDir string, so signer.CASourceOptions) (map[string]*signer.CASource, error) {
	byFlag := false
	for name, f := range o.caFiles {
		if (f[0] == "") != (f[1] == "") {
			return nil, fmt.Errorf("CA %q needs both its certificate and its key flag", name)
		}
		byFlag = byFlag || f[0] != ""
	}
	if byFlag && cmd.Flags().Changed("cert-dir") {
		return nil, fmt.Errorf("--cert-dir and the --*-ca-cert/--*-ca-key flags both name CAs: use one or the other")
	}
	cas := map[string]*signer.CASource{}
	s := pki.Store{Dir: certDir}
	for _, ca := range pki.Kubeadm().Select(false, pki.KindCA) {
		name := ca.Name
		certFile, keyFile := o.caFiles[name][0], o.caFiles[name][1]
		if !byFlag {
			certFile, keyFile = s.CertPath(ca.BaseName), s.KeyPath(ca.BaseName)
			if ok, _ := pki.Exists(certFile); !ok {
				fmt.Fprintf(cmd.ErrOrStderr(), "[warning] %s not found: the signer names of CA %q are left to other signers\n", certFile, name)
				continue
			}
		} else if certFile == "" {
			continue
		}
		src, err := signer.LoadCASource(name, certFile, keyFile, so)
		if err != nil {
			return nil, fmt.Errorf("load CA %q: %w", name, err)
		}
		cas[name] = src
	}
	if len(cas) == 0 && len(o.custom) == 0 {
		return nil, fmt.Errorf("no CA to sign with: pass --cert-dir, the --*-ca-cert/--*-ca-key flags or --signer")
	}
	return cas, nil
}

func (o *signerRunOptions) run(cmd *cobra.Command) error {
	out := cmd.OutOrStdout()
	if o.caReload < 0 {
		return fmt.Errorf("--ca-reload-interval %s is negative: give how often to check the CA files (1m), or 0 to read them only at start", o.caReload)
	}
	// Without --config the cluster's settings come from its kubeadm-config
	// ConfigMap, read with the signer's own client.
	o.policy.cluster.connect = func(string) (config.ConfigMapGetter, string, error) {
		c, err := o.api.client()
		if err != nil {
			return nil, "", err
		}
		return c.CoreV1().ConfigMaps(config.ConfigMapNamespace), c.Source, nil
	}
	policy, cluster, err := o.policy.build(cmd)
	if err != nil {
		return err
	}
	log := slog.New(slog.NewTextHandler(cmd.ErrOrStderr(), nil))
	metrics := signer.NewMetrics()
	cas, err := o.loadCAs(cmd, cluster.CertificatesDir, signer.CASourceOptions{Now: time.Now, Log: log, Metrics: metrics})
	if err != nil {
		return err
	}
	// The custom signers' files are read before the API is asked anything:
	// a bad --signer fails at once.
	var custom []signer.CustomSigner
	var customSources []*signer.CASource
	for _, spec := range o.custom {
		cs, src, err := signer.ParseCustomSigner(spec, signer.CASourceOptions{Now: time.Now, Log: log, Metrics: metrics})
		if err != nil {
			return err
		}
		custom, customSources = append(custom, cs), append(customSources, src)
	}
	client, err := o.api.client()
	if err != nil {
		return err
	}
	providers := map[string]signer.CAProvider{}
	sources := make([]*signer.CASource, 0, len(cas))
	for name, src := range cas {
		providers[name] = src
		sources = append(sources, src)
	}
	sources = append(sources, customSources...)
	ctx, cancel := context.WithCancel(cmd.Context())
	defer cancel()
	nodePolicy, err := o.policy.watchNodes(ctx, cmd, client, policy, cluster, log, 30*time.Second)
	if err != nil {
		return err
	}
	ctrl, err := signer.NewController(signer.ControllerOptions{
		Client: client, CAs: providers, Custom: custom, Policy: nodePolicy, MaxDuration: cluster.CertificateValidity,
		Workers: o.workers, Now: time.Now, Rand: rand.Reader, Log: log, Metrics: metrics,
	})
	if err != nil {
		return err
	}
	if o.caReload > 0 {
		// Followers check too: a new leader signs with the current CAs at once,
		// and every replica's /metrics shows a CA pair that cannot be used.
		t := time.NewTicker(o.caReload)
		defer t.Stop()
		go signer.WatchCAs(ctx, t.C, sources...)
	}

	var leaderCheck atomic.Pointer[func() error]
	healthy := func() error {
		if !ctrl.HasSynced() {
			return errors.New("the CSR informer has not synced yet")
		}
		if c := leaderCheck.Load(); c != nil {
			return (*c)()
		}
		return nil
	}
	ln, err := net.Listen("tcp", o.listenAddress)
	if err != nil {
		return fmt.Errorf("listen on --listen-address %s: %w", o.listenAddress, err)
	}
	srv := &http.Server{Handler: signer.Handler(metrics, healthy), ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = srv.Serve(ln) }()
	defer func() {
		sctx, scancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer scancel()
		_ = srv.Shutdown(sctx)
	}()
	var names []string
	for _, n := range signer.Names() {
		if cas[signer.CAFor(n)] != nil {
			names = append(names, n)
		}
	}
	fmt.Fprintf(out, "[signer] Signing for %v; /healthz and /metrics on http://%s\n", names, ln.Addr())

	if !o.leaderElect {
		metrics.SetLeader(true)
		return ctrl.Run(ctx)
	}
	ctrl.Start(ctx)
	host, _ := os.Hostname()
	o.lease.Identity = host + "_" + string(uuid.NewUUID())
	return signer.RunLeading(ctx, client, o.lease, metrics, log,
		func(ctx context.Context) {
			if err := ctrl.Run(ctx); err != nil {
				log.Error("signer stopped", "err", err)
			}
		},
		func(check func() error) { leaderCheck.Store(&check) })
}
