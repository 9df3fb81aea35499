package cmd

import (
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"

	"github.com/certctl/certctl/phases/config"
	"github.com/certctl/certctl/phases/node"
	"github.com/certctl/certctl/phases/renewal"
	"github.com/certctl/certctl/phases/renewal/apirenew"
	"github.com/certctl/certctl/pki"
)

// useAPIFlags are renew's flags for renewing through the certificates API.
type useAPIFlags struct {
	useAPI      bool
	kubeconfig  string
	timeout     time.Duration
	newRequest  bool
	signerNames map[string]string
}

func (f *useAPIFlags) addTo(fs *pflag.FlagSet) {
	fs.BoolVar(&f.useAPI, "use-api", false, "renew through the cluster's certificates.k8s.io/v1 API: create a CSR per certificate and wait until it is approved and issued")
	fs.StringVar(&f.kubeconfig, "kubeconfig", "", "with --use-api: kubeconfig of the API server (default: KUBECONFIG-DIR/admin.conf, then $KUBECONFIG, then the pod's service account)")
	fs.DurationVar(&f.timeout, "timeout", apirenew.DefaultTimeout, "with --use-api: how long to wait for the CSRs to be approved and issued")
	fs.BoolVar(&f.newRequest, "new-request", false, "with --use-api: make a new key and CSR even when an earlier run left a pending one")
	fs.StringToStringVar(&f.signerNames, "signer-name", nil, "with --use-api: `NAME=SIGNER`, the signer name of certificate NAME's CSR, repeatable (default: listed above; also renewal.signerNames of a CertctlConfiguration document in --config)")
	fs.Lookup("signer-name").DefValue = "" // not "[]"
}

// check rejects, before any work, flags that mean nothing without
// --use-api and flags --use-api cannot honour.
func (f *useAPIFlags) check(cmd *cobra.Command, reuseKey bool) error {
	if !f.useAPI {
		for _, n := range []string{"kubeconfig", "timeout", "new-request", "signer-name"} {
			if cmd.Flags().Changed(n) {
				return fmt.Errorf("--%s applies to renewal through the API: add --use-api, or drop it", n)
			}
		}
		return nil
	}
	if reuseKey {
		// The CSR's name is made from its key, so that a stopped run finds
		// its CSR again; with the current key it would find last year's.
		return fmt.Errorf("--reuse-key cannot be used with --use-api: a renewal through the API always makes a new key")
	}
	if f.timeout <= 0 {
		return fmt.Errorf("invalid --timeout %v: must be positive", f.timeout)
	}
	return nil
}

// obtain requests, through the certificates API, a certificate for each
// selected target and waits until all are issued, printing the CSR names,
// approval commands and progress to out, before the caller takes
// certctl's lock: waiting for a person to approve must not keep
// check-expiration and the other commands waiting. It returns nil when
// --use-api is not given. The certificates are verified and installed by
// renewal.Renew, with the returned Issuer, which under the lock finds
// those another run installed meanwhile (see alreadyInstalledStatus).
func (f *useAPIFlags) obtain(cmd *cobra.Command, out io.Writer, cluster *config.Cluster, configFile string, selected []renewal.Target, o renewal.Options) (*apirenew.Issuer, error) {
	if !f.useAPI {
		return nil, nil
	}
	now := time.Now()
	client, restCfg, source, err := f.client(o.KubeconfigDir, now)
	if err != nil {
		return nil, err
	}
	node, err := nodeName(configFile)
	if err != nil {
		return nil, err
	}
	pendingDir, err := apirenew.PendingDir(cluster.CertificatesDir)
	if err != nil {
		return nil, err
	}
	signers := map[string]string{}
	for k, v := range cluster.SignerNames {
		signers[k] = v
	}
	for k, v := range f.signerNames {
		signers[k] = v
	}
	approveFlags := ""
	if configFile != "" {
		approveFlags = " --config " + configFile
	}
	issuer, err := apirenew.New(apirenew.Options{
		Client: client, Server: restCfg.Host, Credentials: source, User: clientCertUser(restCfg), NodeName: node,
		PendingDir: pendingDir, SignerNames: signers, Timeout: f.timeout, NewRequest: f.newRequest,
		ApproveFlags: approveFlags, AlreadyInstalled: alreadyInstalledStatus(cmd.Flags().Changed("if-expires-within")), Out: out,
	})
	if err != nil {
		return nil, err
	}
	// Read and check every file now, as Renew does: a bad file fails the
	// run before a CSR exists.
	o.Issuer = issuer
	reqs, err := renewal.Requests(selected, o)
	if err != nil {
		return nil, err
	}
	fmt.Fprintf(out, "[renew] Renewing through the certificates API of %s (%s)\n", restCfg.Host, source)
	if err := issuer.Obtain(cmd.Context(), reqs); err != nil {
		return nil, err
	}
	return issuer, nil
}

// alreadyInstalledStatus is the end of a run whose certificates another
// run of the same command installed while this one waited for the lock:
// as for nothing renewed (renewcron.go), exit status 2 with
// --if-expires-within, else 0; the Issuer prints which, and why.
func alreadyInstalledStatus(threshold bool) error {
	if threshold {
		return &ExitError{Code: ExitNothingToDo}
	}
	return &ExitError{Code: 0}
}

// installed forgets the pending keys of what res installed; a key left
// behind is recognised and removed by the next run.
func (f *useAPIFlags) installed(issuer *apirenew.Issuer, res *renewal.Result, errOut io.Writer) {
	if issuer == nil {
		return
	}
	var names []string
	for _, r := range res.Renewed {
		names = append(names, r.Name)
	}
	if err := issuer.Installed(names); err != nil {
		fmt.Fprintf(errOut, "[warning] %v: the next `certctl renew --use-api` removes it\n", err)
	}
}

// client connects as --kubeconfig, else KUBECONFIG-DIR/admin.conf, else
// $KUBECONFIG, else the pod's service account, after checking that the
// client certificate it would use is valid now: an expired one would only
// get a 401 from the API server.
func (f *useAPIFlags) client(kubeconfigDir string, now time.Time) (kubernetes.Interface, *rest.Config, string, error) {
	path := f.kubeconfig
	if path == "" {
		def := filepath.Join(kubeconfigDir, "admin.conf")
		if _, err := os.Stat(def); err == nil {
			path = def
		} else if !errors.Is(err, fs.ErrNotExist) {
			return nil, nil, "", node.WithPermissionHint(fmt.Errorf("check kubeconfig %s: %w", def, err))
		}
	}
	var cfg *rest.Config
	var source string
	var err error
	switch env := os.Getenv(clientcmd.RecommendedConfigPathEnvVar); {
	case path != "" || env != "":
		rules := &clientcmd.ClientConfigLoadingRules{ExplicitPath: path, Precedence: filepath.SplitList(env)}
		source = "kubeconfig " + path
		if path == "" {
			source = "$KUBECONFIG " + env
		}
		cfg, err = clientcmd.NewNonInteractiveDeferredLoadingClientConfig(rules, &clientcmd.ConfigOverrides{}).ClientConfig()
		if err != nil {
			return nil, nil, "", fmt.Errorf("load %s: %w", source, err)
		}
	default:
		source = "the pod's service account"
		if cfg, err = rest.InClusterConfig(); err != nil {
			return nil, nil, "", fmt.Errorf("find the API server: %w: no --kubeconfig, no %s and no $KUBECONFIG; pass --kubeconfig", err, filepath.Join(kubeconfigDir, "admin.conf"))
		}
	}
	if err := checkClientCert(cfg, source, now); err != nil {
		return nil, nil, "", err
	}
	cfg = rest.CopyConfig(cfg)
	cfg.UserAgent = "certctl/" + Version() + " " + rest.DefaultKubernetesUserAgent()
	cfg.ContentType = runtime.ContentTypeProtobuf
	cfg.AcceptContentTypes = runtime.ContentTypeProtobuf + "," + runtime.ContentTypeJSON
	cs, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		return nil, nil, "", fmt.Errorf("create API client from %s: %w", source, err)
	}
	return cs, cfg, source, nil
}

// checkClientCert refuses a client certificate that is not valid at now,
// saying what to do: the usual case is admin.conf expired with the rest.
func checkClientCert(cfg *rest.Config, source string, now time.Time) error {
	cert, err := clientCert(cfg, source)
	if err != nil || cert == nil {
		return err
	}
	if err := pki.ValidAt(cert, now); err != nil {
		return fmt.Errorf("the client certificate of %s (%q) cannot authenticate to the API server: %s. Renew admin.conf from the CA on disk first (sudo certctl renew admin.conf), or pass --kubeconfig with a valid one, such as /etc/kubernetes/super-admin.conf",
			source, cert.Subject.CommonName, strings.TrimPrefix(err.Error(), "pki: certificate "))
	}
	return nil
}

// clientCert returns the client certificate cfg (from source) authenticates
// with, nil for a token or another authenticator.
func clientCert(cfg *rest.Config, source string) (*x509.Certificate, error) {
	data := cfg.CertData
	if len(data) == 0 && cfg.CertFile != "" {
		var err error
		if data, err = os.ReadFile(cfg.CertFile); err != nil {
			return nil, fmt.Errorf("read the client certificate of %s: %w", source, err)
		}
	}
	if len(data) == 0 {
		return nil, nil
	}
	certs, err := pki.ParseCerts(data)
	if err != nil {
		return nil, fmt.Errorf("parse the client certificate of %s: %w", source, err)
	}
	return certs[0], nil
}

// clientCertUser is the user name of cfg's client certificate (its CN),
// "" when it has none: for messages, when the API server does not say.
func clientCertUser(cfg *rest.Config) string {
	if cert, err := clientCert(cfg, ""); err == nil && cert != nil {
		return cert.Subject.CommonName
	}
	return ""
}

// nodeName names the CSRs: nodeRegistration.name of the configuration
// file, else the host name, as kubeadm defaults it.
func nodeName(configFile string) (string, error) {
	if configFile != "" {
		f, err := config.LoadFile(configFile, config.Cluster{})
		if err != nil {
			return "", err
		}
		if f.Cluster.NodeName != "" {
			return f.Cluster.NodeName, nil
		}
	}
	h, err := os.Hostname()
	if err != nil {
		return "", fmt.Errorf("find the node name for the CSR names: %w; pass --config with nodeRegistration.name", err)
	}
	return strings.ToLower(strings.TrimSpace(h)), nil
}

// signerNamesHelpForRenew lists the default signer name of each
// certificate, for renew's help.
func signerNamesHelpForRenew() string {
	var b strings.Builder
	names := renewal.Names()[1:]
	sort.Strings(names)
	for _, n := range names {
		s, err := apirenew.DefaultSignerName(n)
		if err != nil {
			continue
		}
		fmt.Fprintf(&b, "  %-26s%s\n", n, s)
	}
	return b.String()
}
