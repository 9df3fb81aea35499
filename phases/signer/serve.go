package signer

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"net"
	"net/http"
	"os"
	"slices"
	"sync/atomic"
	"syscall"
	"time"

	utilruntime "k8s.io/apimachinery/pkg/util/runtime"
	"k8s.io/apimachinery/pkg/util/uuid"
	"k8s.io/client-go/kubernetes"

	"github.com/certctl/certctl/phases/config"
	"github.com/certctl/certctl/pki"
)

// ServeOptions configure Serve, `certctl signer run`.
type ServeOptions struct {
	Cluster *config.Cluster // the settings; CertificatesDir holds the CAs
	Rules   NodeRules
	Fixed   *Policy // Rules.Fixed(Cluster)
	// Settings, when set, reads Cluster and Fixed. Without --config they
	// come from the kubeadm-config ConfigMap, whose read can take
	// config.ClusterTimeout while the API server does not answer: it is
	// called once /healthz and /readyz are served, so that a liveness
	// probe is answered during it.
	Settings func() (*config.Cluster, *Policy, error)
	// CAFiles are the CA files given by flags, by CA name: certificate and
	// key. When none is given, the CAs are those in Cluster.CertificatesDir
	// (CertDirSet: --cert-dir was given, which conflicts with CAFiles).
	CAFiles    map[string][2]string
	CertDirSet bool
	Custom     []string // NAME=CA_CERT,CA_KEY[,SIGNING_CONFIG]
	// NewClient connects to the API server; called once the CA files and
	// the custom signers are read, so that a bad file fails at once.
	NewClient     func() (kubernetes.Interface, error)
	Workers       int
	CAReload      time.Duration // 0: read the CAs only at start
	ListenAddress string
	LeaderElect   bool
	Lease         LeaderElection // Identity is made here
	Now           func() time.Time
	Rand          io.Reader
	Out, ErrOut   io.Writer
}

// Check refuses the options that cannot work, before anything is read:
// a caller checks them before the node's settings, whose ConfigMap read
// can wait for an API server. The CA files are by CA name, each given by
// the flags --NAME-cert and --NAME-key.
func (o ServeOptions) Check() error {
	if err := o.Rules.Check(); err != nil {
		return err
	}
	if o.LeaderElect {
		if err := o.Lease.Validate(); err != nil {
			return err
		}
	}
	switch {
	case o.Workers < 0:
		return fmt.Errorf("--workers %d is negative: give how many CSRs to sign at once (8), or 0 for the default", o.Workers)
	case o.CAReload < 0:
		return fmt.Errorf("--ca-reload-interval %s is negative: give how often to check the CA files (1m), or 0 to read them only at start", o.CAReload)
	}
	byFlag := false
	for _, name := range slices.Sorted(maps.Keys(o.CAFiles)) {
		f := o.CAFiles[name]
		if (f[0] == "") != (f[1] == "") {
			return fmt.Errorf("--%s-cert and --%s-key name one CA, %s: give both", name, name, name)
		}
		byFlag = byFlag || f[0] != ""
	}
	if byFlag && o.CertDirSet {
		return fmt.Errorf("--cert-dir and the --*-ca-cert/--*-ca-key flags both name CAs: use one or the other")
	}
	return nil
}

// loadCAs reads the CAs named by o.CAFiles, or else those in the cert dir,
// and returns them by CA name and as a list for WatchCAs. A CA missing
// from the cert dir is skipped (an external etcd has no etcd CA there);
// one named by a flag must load.
func (o ServeOptions) loadCAs(so CASourceOptions) (map[string]CAProvider, []*CASource, error) {
	byFlag := false
	for _, f := range o.CAFiles {
		byFlag = byFlag || f[0] != ""
	}
	cas := map[string]CAProvider{}
	var sources []*CASource
	s := pki.Store{Dir: o.Cluster.CertificatesDir}
	for _, ca := range pki.Kubeadm().Select(false, pki.KindCA) {
		name := ca.Name
		certFile, keyFile := o.CAFiles[name][0], o.CAFiles[name][1]
		if !byFlag {
			certFile, keyFile = s.CertPath(ca.BaseName), s.KeyPath(ca.BaseName)
			if ok, _ := pki.Exists(certFile); !ok {
				fmt.Fprintf(o.ErrOut, "[warning] %s not found: the signer names of CA %q are left to other signers\n", certFile, name)
				continue
			}
		} else if certFile == "" {
			continue
		}
		src, err := LoadCASource(name, certFile, keyFile, so)
		if err != nil {
			return nil, nil, fmt.Errorf("load CA %q: %w", name, err)
		}
		cas[name] = src
		sources = append(sources, src)
	}
	check := checkFlagCAs
	if !byFlag {
		check = checkDirCAs
	}
	if err := check(o.Cluster.CertificatesDir, cas); err != nil {
		return nil, nil, err
	}
	if len(cas) == 0 && len(o.Custom) == 0 {
		return nil, nil, fmt.Errorf("no CA to sign with: pass --cert-dir, the --*-ca-cert/--*-ca-key flags or --signer")
	}
	return cas, sources, nil
}

// loadSources reads the CAs (loadCAs) and the custom signers, with their
// checks at start, and returns them and every CASource for WatchCAs. A
// reload is checked as the start was: a --*-ca-cert file that comes to
// hold another CA of the node (checkFlagCA), or a --signer's that comes to
// hold one of the node's CAs (checkCustomCA), is refused (CASourceOptions.Accept).
func (o ServeOptions) loadSources(so CASourceOptions) (map[string]CAProvider, []CustomSigner, []*CASource, error) {
	var accept func(name string, ca *CA) error // set once every source is read
	so.Accept = func(name string, ca *CA) error { return accept(name, ca) }
	providers, sources, err := o.loadCAs(so)
	if err != nil {
		return nil, nil, nil, err
	}
	// The custom signers' files are read before the API is asked anything:
	// a bad --signer fails at once.
	var custom []CustomSigner
	for _, spec := range o.Custom {
		cs, src, err := ParseCustomSigner(spec, so)
		if err != nil {
			return nil, nil, nil, err
		}
		if slices.ContainsFunc(custom, func(c CustomSigner) bool { return c.Name == cs.Name }) {
			return nil, nil, nil, fmt.Errorf("signer: custom signer %q given twice", cs.Name)
		}
		if err := checkCustomCA(cs, providers, o.Cluster.CertificatesDir); err != nil {
			return nil, nil, nil, err
		}
		custom, sources = append(custom, cs), append(sources, src)
	}
	byFlag := false
	for _, f := range o.CAFiles {
		byFlag = byFlag || f[0] != ""
	}
	kubeadm := slices.Collect(maps.Keys(providers))
	accept = func(name string, ca *CA) error {
		if _, ok := providers[name]; !ok {
			return checkCustomCA(CustomSigner{Name: name, CA: ca}, providers, o.Cluster.CertificatesDir)
		}
		if byFlag {
			return checkFlagCA(o.Cluster.CertificatesDir, name, ca.Cert, kubeadm, providers)
		}
		return checkDirCA(o.Cluster.CertificatesDir, name, ca.Cert, providers)
	}
	return providers, custom, sources, nil
}

// customNames are the names of custom.
func customNames(custom []CustomSigner) []string {
	names := make([]string, len(custom))
	for i, cs := range custom {
		names[i] = cs.Name
	}
	return names
}

// Serve signs approved CSRs of certctl's signer names (and o.Custom's)
// until ctx ends, serving /healthz, /readyz and /metrics on o.ListenAddress.
func Serve(ctx context.Context, o ServeOptions) error {
	if err := o.Check(); err != nil {
		return err
	}
	log := slog.New(slog.NewTextHandler(o.ErrOut, nil))
	metrics := NewMetrics()
	// The address is taken before the API server is asked anything: a
	// port in use (another signer run on the node) fails at once.
	ln, err := net.Listen("tcp", o.ListenAddress)
	if err != nil {
		hint := ""
		if errors.Is(err, syscall.EADDRINUSE) {
			hint = ": another program, perhaps another certctl signer run, listens there; stop it or pass another --listen-address (127.0.0.1:0: any free port)"
		}
		return fmt.Errorf("listen on --listen-address %s: %w%s", o.ListenAddress, err, hint)
	}
	defer ln.Close() // once srv serves it, srv.Shutdown closes it first
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	// /healthz (liveness) fails only for what a restart mends: a leader
	// that stopped renewing its Lease and did not exit (client-go's
	// HealthzAdaptor, as kube-controller-manager's /healthz). An API server
	// that is down is not mended by a restart: a liveness probe that
	// failed then would restart every replica in a loop. /readyz says
	// whether this replica can sign, or take over: its informer listed the
	// CSRs and the API server answers (APIReach). A follower that can take
	// over is ready, as kube-scheduler's followers are; which one leads is
	// certctl_signer_leader. Both are served from here on, before the
	// settings are read (without --config, the ConfigMap: up to
	// config.ClusterTimeout) and the wait for the control-plane nodes (up
	// to 30s while the API server does not answer), so that a liveness
	// probe is answered from the start.
	var leaderCheck atomic.Pointer[func() error]
	healthy := func() error {
		if c := leaderCheck.Load(); c != nil {
			return (*c)()
		}
		return nil
	}
	var synced atomic.Pointer[func() bool] // the controller's, once made
	var reach atomic.Pointer[APIReach]     // made with the client, before synced
	ready := func() error {
		if s := synced.Load(); s == nil || !(*s)() {
			return errors.New("the CSR informer has not synced yet")
		}
		if err := reach.Load().Check(); err != nil {
			return err
		}
		return healthy()
	}
	srv := &http.Server{Handler: Handler(metrics, healthy, ready), ReadHeaderTimeout: 10 * time.Second}
	go func() {
		defer utilruntime.HandleCrash()
		_ = srv.Serve(ln)
	}()
	defer func() {
		sctx, scancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer scancel()
		_ = srv.Shutdown(sctx)
	}()
	if o.Settings != nil {
		if o.Cluster, o.Fixed, err = o.Settings(); err != nil {
			return err
		}
	}
	// sources are every CA WatchCAs checks: kubeadm's, then the custom signers'.
	providers, custom, sources, err := o.loadSources(CASourceOptions{Now: o.Now, Log: log, Metrics: metrics})
	if err != nil {
		return err
	}
	metrics.addSignerNames(customNames(custom)...)
	client, err := o.NewClient()
	if err != nil {
		return err
	}
	r := &APIReach{Client: client}
	reach.Store(r)
	go r.Run(ctx)
	nodePolicy, err := o.Rules.Watch(ctx, client, o.Fixed, o.Cluster, log, o.Out, o.ErrOut, 30*time.Second)
	if err != nil {
		return err
	}
	ctrl, err := NewController(ControllerOptions{
		Client: client, CAs: providers, Custom: custom, Policy: nodePolicy, MaxDuration: o.Cluster.CertificateValidity,
		Workers: o.Workers, Now: o.Now, Rand: o.Rand, Log: log, Metrics: metrics,
	})
	if err != nil {
		return err
	}
	hasSynced := ctrl.HasSynced
	synced.Store(&hasSynced)
	if o.CAReload > 0 {
		// Followers check too: a new leader signs with the current CAs at once,
		// and every replica's /metrics shows a CA pair that cannot be used.
		t := time.NewTicker(o.CAReload)
		defer t.Stop()
		go func() {
			defer utilruntime.HandleCrash()
			WatchCAs(ctx, t.C, sources...)
		}()
	}

	fmt.Fprintf(o.Out, "[signer] Signing for %v; /healthz, /readyz and /metrics on http://%s\n", append(namesWithCA(providers), customNames(custom)...), ln.Addr())

	if !o.LeaderElect {
		metrics.SetLeader(true)
		return ctrl.Run(ctx)
	}
	ctrl.Start(ctx)
	host, _ := os.Hostname()
	lease := o.Lease
	lease.Identity = host + "_" + string(uuid.NewUUID())
	return RunLeading(ctx, client, lease, metrics, log,
		func(ctx context.Context) {
			if err := ctrl.Run(ctx); err != nil {
				log.Error("signer stopped", "err", err)
			}
		},
		func(check func() error) { leaderCheck.Store(&check) })
}
