package signer

import (
	"context"
	"crypto/x509"
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

// loadCAs reads the CAs named by o.CAFiles, or else those in the cert dir,
// and returns them by CA name and as a list for WatchCAs. A CA missing
// from the cert dir is skipped (an external etcd has no etcd CA there);
// one named by a flag must load.
func (o ServeOptions) loadCAs(so CASourceOptions) (map[string]CAProvider, []*CASource, error) {
	byFlag := false
	for name, f := range o.CAFiles {
		if (f[0] == "") != (f[1] == "") {
			return nil, nil, fmt.Errorf("CA %q needs both its certificate and its key flag", name)
		}
		byFlag = byFlag || f[0] != ""
	}
	if byFlag && o.CertDirSet {
		return nil, nil, fmt.Errorf("--cert-dir and the --*-ca-cert/--*-ca-key flags both name CAs: use one or the other")
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

// checkFlagCAs checks the CAs the --*-ca-cert/--*-ca-key flags named, by CA
// name: each of certctl's signer names signs with one CA (CAFor), so a
// flag's CA must be the one of its file in the certificate folder dir (and
// none of the folder's other CAs where that file is absent), and no CA may
// be given for two flags, which would sign both CAs' names.
func checkFlagCAs(dir string, cas map[string]CAProvider) error {
	var seen []string
	for _, e := range pki.Kubeadm().Select(false, pki.KindCA) {
		p := cas[e.Name]
		if p == nil {
			continue
		}
		if err := checkFlagCA(dir, e.Name, p.Current().Cert, seen, cas); err != nil {
			return err
		}
		seen = append(seen, e.Name)
	}
	return nil
}

// checkFlagCA checks cert, the CA of the flag of CA name, against the
// certificate folder dir and the current CAs of the flags others (see
// checkFlagCAs); a reload checks it against all the others.
func checkFlagCA(dir, name string, cert *x509.Certificate, others []string, cas map[string]CAProvider) error {
	flag := func(name string) string { return "--" + name + "-cert" }
	for _, other := range others {
		p := cas[other]
		if other == name || p == nil || !pki.SamePublicKey(p.Current().Cert.PublicKey, cert.PublicKey) {
			continue
		}
		what := fmt.Sprintf("both name the CA %q", cert.Subject.CommonName)
		if oc := p.Current().Cert; !sameCA(oc, cert) {
			what = fmt.Sprintf("name CAs of one key (%q and %q)", oc.Subject.CommonName, cert.Subject.CommonName)
		}
		return fmt.Errorf("%s and %s %s: each CA signs its own signer names; pass each flag the files of its CA, or leave a flag out to leave its names to other signers", flag(other), flag(name), what)
	}
	l, err := locateCA(dir, name, cert)
	switch {
	case err != nil:
		return fmt.Errorf("check the CA of %s: %w", flag(name), err)
	case l.wantFile != "" && !l.isWant:
		return fmt.Errorf("%s names the CA %q, which is not %s of the certificate folder (%s): pass the files of %s, or --cert-dir", flag(name), cert.Subject.CommonName, name, l.wantFile, name)
	case l.other != "":
		return fmt.Errorf("%s names the CA %q, which is %s of the certificate folder (%s), not %s: its signer names would be signed by the wrong CA; pass the files of %s", flag(name), cert.Subject.CommonName, l.other, l.otherFile, name, name)
	}
	h, err := otherCAWithKey(dir, name, cert)
	if err != nil {
		return fmt.Errorf("check the CA of %s: %w", flag(name), err)
	}
	if h.file != "" {
		return fmt.Errorf("%s names the CA %q, whose key is that of %s of the certificate folder (%s, CA %q): one key may not sign for two CAs; pass the files of %s", flag(name), cert.Subject.CommonName, h.name, h.file, h.cert.Subject.CommonName, name)
	}
	return nil
}

// checkDirCAs checks the CAs read from the certificate folder dir (no
// --*-ca-cert flag), by CA name, as checkFlagCAs checks the flags': each
// of certctl's signer names signs with one CA (CAFor), so no CA, nor its
// key, may serve two roles (checkDirCA). LoadCASource has checked that
// each file holds a CA whose key is its key.
func checkDirCAs(dir string, cas map[string]CAProvider) error {
	for _, e := range pki.Kubeadm().Select(false, pki.KindCA) {
		if p := cas[e.Name]; p != nil {
			if err := checkDirCA(dir, e.Name, p.Current().Cert); err != nil {
				return err
			}
		}
	}
	return nil
}

// checkDirCA refuses cert, the CA read from the files of CA name in the
// certificate folder dir, when another CA file of the folder holds a
// certificate with its key (otherCAWithKey): ca.crt and ca.key replaced by
// front-proxy-ca's pair would sign the cluster's names with the
// front-proxy CA. A reload checks it too, and refuses the changed pair.
func checkDirCA(dir, name string, cert *x509.Certificate) error {
	own := pki.Store{Dir: dir}.CertPath(pki.Kubeadm().BaseName(name))
	h, err := otherCAWithKey(dir, name, cert)
	if err != nil {
		return fmt.Errorf("check the CA of %s: %w", own, err)
	}
	if h.file == "" {
		return nil
	}
	what := fmt.Sprintf("the CA %q, which %s holds too", cert.Subject.CommonName, h.file)
	if !sameCA(h.cert, cert) {
		what = fmt.Sprintf("the CA %q, whose key is that of the CA %q of %s", cert.Subject.CommonName, h.cert.Subject.CommonName, h.file)
	}
	return fmt.Errorf("%s (%s) holds %s: one CA may not sign the signer names of both %s and %s; put back each CA's own pair (certificate and key), from a backup or another control-plane node", own, name, what, name, h.name)
}

// keyHolder is a certificate of a CA file with the key of another CA.
type keyHolder struct {
	name, file string // the CA name and file that hold cert
	cert       *x509.Certificate
}

// otherCAWithKey looks, in the CA files of the certificate folder dir but
// CA name's, for a certificate with cert's key (the same CA, or another
// certificate of its key), in any place of a bundle. A zero keyHolder when
// there is none, or dir is "".
func otherCAWithKey(dir, name string, cert *x509.Certificate) (keyHolder, error) {
	if dir == "" {
		return keyHolder{}, nil
	}
	store := pki.Store{Dir: dir}
	for _, e := range pki.Kubeadm().Select(false, pki.KindCA) {
		file := store.CertPath(e.BaseName)
		if e.Name == name {
			continue
		}
		ok, err := pki.Exists(file)
		if err != nil {
			return keyHolder{}, err
		}
		if !ok {
			continue
		}
		first, rest, err := pki.ReadCertFile(file)
		if err != nil {
			return keyHolder{}, fmt.Errorf("read CA certificate %s: %w", file, err)
		}
		for _, c := range append([]*x509.Certificate{first}, rest...) {
			if pki.SamePublicKey(c.PublicKey, cert.PublicKey) {
				return keyHolder{name: e.Name, file: file, cert: c}, nil
			}
		}
	}
	return keyHolder{}, nil
}

// checkCustomCA refuses a custom signer whose CA is one of the node's: one
// of cas (certctl's names' CAs) or a CA file of the certificate folder dir.
// The API server, etcd and the front proxy trust those CAs, and a custom
// name is signed without the control-plane profile that certctl's names
// apply: it would issue any client identity (system:kube-controller-manager,
// a node's) to whoever gets a CSR approved.
func checkCustomCA(cs CustomSigner, cas map[string]CAProvider, dir string) error {
	cert := cs.CA.Current().Cert
	node, file := "", ""
	for _, e := range pki.Kubeadm().Select(false, pki.KindCA) {
		if p := cas[e.Name]; p != nil && sameCA(p.Current().Cert, cert) {
			node = e.Name
			break
		}
	}
	if node == "" {
		l, err := locateCA(dir, "", cert)
		if err != nil {
			return fmt.Errorf("check the CA of custom signer %s: %w", cs.Name, err)
		}
		node, file = l.other, l.otherFile
	}
	if node == "" {
		return nil
	}
	where := ""
	if file != "" {
		where = " (" + file + ")"
	}
	return fmt.Errorf("custom signer %s signs with the CA %q, the node's %s%s, which the control plane trusts: its certificates would skip the control-plane profile of certctl's signer names; give it a CA of its own", cs.Name, cert.Subject.CommonName, node, where)
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
		return checkDirCA(o.Cluster.CertificatesDir, name, ca.Cert)
	}
	return providers, custom, sources, nil
}

// Serve signs approved CSRs of certctl's signer names (and o.Custom's)
// until ctx ends, serving /healthz and /metrics on o.ListenAddress.
func Serve(ctx context.Context, o ServeOptions) error {
	if o.LeaderElect {
		if err := o.Lease.Validate(); err != nil {
			return err
		}
	}
	if o.Workers < 0 {
		return fmt.Errorf("--workers %d is negative: give how many CSRs to sign at once (8), or 0 for the default", o.Workers)
	}
	log := slog.New(slog.NewTextHandler(o.ErrOut, nil))
	metrics := NewMetrics()
	// sources are every CA WatchCAs checks: kubeadm's, then the custom signers'.
	providers, custom, sources, err := o.loadSources(CASourceOptions{Now: o.Now, Log: log, Metrics: metrics})
	if err != nil {
		return err
	}
	// The address is taken before the API server is asked anything, too: a
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
	client, err := o.NewClient()
	if err != nil {
		return err
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
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
	srv := &http.Server{Handler: Handler(metrics, healthy), ReadHeaderTimeout: 10 * time.Second}
	go func() {
		defer utilruntime.HandleCrash()
		_ = srv.Serve(ln)
	}()
	defer func() {
		sctx, scancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer scancel()
		_ = srv.Shutdown(sctx)
	}()
	fmt.Fprintf(o.Out, "[signer] Signing for %v; /healthz and /metrics on http://%s\n", namesWithCA(providers), ln.Addr())

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
