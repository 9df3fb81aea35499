// Package kubeclient builds certctl's one API client, finding the
// kubeconfig the same way for every command (docs/renew.md, "Which
// kubeconfig"):
//
//  1. --kubeconfig;
//  2. KUBECONFIG-DIR/admin.conf, for the commands that work on a node's
//     kubeconfig folder (renew, restore, ca rotate, certs upload), when it
//     exists;
//  3. $KUBECONFIG, its files that exist (an error when none does);
//  4. ~/.kube/config, when $HOME is set and it exists;
//  5. the pod's service account.
//
// --context picks a context of the kubeconfig found that way, as kubectl's
// does; it never changes which file is found (context.go).
package kubeclient

import (
	"cmp"
	"context"
	"crypto/x509"
	"errors"
	"fmt"
	"io/fs"
	"net"
	"os"
	"path/filepath"
	"strings"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"

	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/kubernetes"
	corev1client "k8s.io/client-go/kubernetes/typed/core/v1"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"
	"k8s.io/client-go/util/homedir"

	"github.com/certctl/certctl/pki"
)

// Options say where to find the kubeconfig and how to talk to the API
// server.
type Options struct {
	// Kubeconfig is --kubeconfig; "": look further. A fault of the file
	// is told as CheckFlag tells it, a mistake on the command line.
	Kubeconfig string
	// File, when Kubeconfig is "", is a kubeconfig file found another way,
	// used as --kubeconfig is: KUBECONFIG-DIR/admin.conf for the
	// kubeadm-config ConfigMap, a JoinConfiguration's discovery
	// kubeconfig. Its faults name the file, not the flag, which was not
	// given.
	File          string
	KubeconfigDir string // the node's kubeconfig folder; "": a command without one
	// Context is --context: the context of the kubeconfig found to use;
	// "": its current-context.
	Context string
	// QPS and Burst limit the requests; 0 takes client-go's defaults.
	QPS       float32
	Burst     int
	UserAgent string // "certctl/VERSION"
	// Now, when set, is when the client certificate must be valid: an
	// expired one would only get a 401 from the API server.
	Now func() time.Time
	// AnswerTimeout bounds the wait for the answer to each request once
	// connected; 0 is DefaultAnswerTimeout.
	AnswerTimeout time.Duration
}

// Client is a clientset that speaks protobuf, as the control-plane
// components do, with its configuration and where that came from.
type Client struct {
	*kubernetes.Clientset
	Config *rest.Config
	// Source is "kubeconfig PATH", "$KUBECONFIG PATH" or "the pod's
	// service account", with " (context NAME)" after it for Options.Context.
	Source string
	// File is the one kubeconfig file the client was made from ("" for
	// $KUBECONFIG and the service account); Context is Options.Context.
	File, Context string
}

// ConfigMaps makes a client of namespace's ConfigMaps from o, for reading
// a node's settings (the kubeadm-config ConfigMap). Its error is New's
// cause alone, which names the file: New's hint about --kubeconfig is for
// the commands that have it.
func ConfigMaps(o Options, namespace string) (corev1client.ConfigMapInterface, error) {
	c, err := New(o)
	if err != nil {
		return nil, cmp.Or(errors.Unwrap(err), err)
	}
	return c.CoreV1().ConfigMaps(namespace), nil
}

// CheckFlag refuses a --kubeconfig (path; "" for none) that cannot be
// read: missing, not a regular file, or unreadable. Its error is a
// mistake on the command line, as an unknown --context is (FlagError):
// phases/config's resolver stops on it rather than say on a line of its
// own that the kubeadm-config ConfigMap was not read, and go on to the
// same error.
func CheckFlag(path string) error {
	if err := checkFlag(path); err != nil {
		return &flagFileError{err}
	}
	return nil
}

// flagFileError is CheckFlag's error.
type flagFileError struct{ error }

func (e *flagFileError) Unwrap() error   { return e.error }
func (e *flagFileError) FlagError() bool { return true }

func checkFlag(path string) error {
	if path == "" {
		return nil
	}
	if err := checkRegular(path); err != nil {
		return err
	}
	f, err := os.Open(path)
	if err == nil {
		return f.Close()
	}
	if pe := (*fs.PathError)(nil); errors.As(err, &pe) {
		err = pe.Err // the path is named once
	}
	do := "pass --kubeconfig a kubeconfig file of the cluster (on a control-plane node, " + nodeAdmin + ")"
	if errors.Is(err, fs.ErrPermission) {
		do = "run certctl as root to read it, or " + do
	}
	return fmt.Errorf("read --kubeconfig %s: %w: %s", path, err, do)
}

// nodeKubeconfigDir is kubeadm's kubeconfig folder on a control-plane node,
// named in hints (phases/config.DefaultKubeconfigDir).
const nodeKubeconfigDir = "/etc/kubernetes"

var nodeAdmin = filepath.Join(nodeKubeconfigDir, pki.AdminKubeconfig)

// New finds the kubeconfig as the package comment says and connects.
func New(o Options) (*Client, error) {
	if err := CheckFlag(o.Kubeconfig); err != nil {
		return nil, err // one wording for the flag, before and here
	}
	path, source := cmp.Or(o.Kubeconfig, o.File), ""
	if path == "" && o.KubeconfigDir != "" {
		def := filepath.Join(o.KubeconfigDir, pki.AdminKubeconfig)
		if _, err := os.Stat(def); err == nil {
			path = def
		} else if !errors.Is(err, fs.ErrNotExist) {
			return nil, fmt.Errorf("check kubeconfig %s: %w: run certctl as root, or pass --kubeconfig", def, err)
		}
	}
	env, envFiles, envErr := kubeconfigEnv()
	if envErr != nil && path == "" {
		return nil, envErr
	}
	home := homeKubeconfig()
	// client-go reads the kubeconfig with os.ReadFile, which blocks on a
	// FIFO until something writes to it: refuse what is not a regular file.
	for _, p := range append([]string{path, home}, envFiles...) {
		if err := checkRegular(p); err != nil {
			return nil, err
		}
	}
	rules := &clientcmd.ClientConfigLoadingRules{ExplicitPath: path, Precedence: envFiles}
	file := path
	switch {
	case path != "":
		source = "kubeconfig " + path
	case env != "":
		source = "$KUBECONFIG " + strings.Join(envFiles, string(filepath.ListSeparator))
	case home != "":
		rules.Precedence, source, file = []string{home}, "kubeconfig "+home, home
	}
	var cfg *rest.Config
	var err error
	if source != "" {
		loader := clientcmd.NewNonInteractiveDeferredLoadingClientConfig(rules, &clientcmd.ConfigOverrides{CurrentContext: o.Context})
		if err := checkContext(loader, source, o.Context); err != nil {
			return nil, err
		}
		if o.Context != "" {
			source += " (context " + o.Context + ")"
		}
		if cfg, err = loader.ClientConfig(); err != nil {
			return nil, fmt.Errorf("load %s: %w: pass --kubeconfig a readable kubeconfig of the cluster (on a control-plane node, %s)", source, err, nodeAdmin)
		}
	} else if o.Context != "" {
		return nil, fmt.Errorf("find the context %q: no --kubeconfig, $KUBECONFIG or ~/.kube/config to find it in: pass --kubeconfig the kubeconfig that has it", o.Context)
	} else {
		source = "the pod's service account"
		if cfg, err = rest.InClusterConfig(); err != nil {
			none := "no --kubeconfig"
			if o.KubeconfigDir != "" {
				none += ", no " + filepath.Join(o.KubeconfigDir, pki.AdminKubeconfig)
			}
			return nil, fmt.Errorf("find the API server: %w: %s and no $KUBECONFIG or ~/.kube/config; pass --kubeconfig (on a control-plane node, %s)", err, none, nodeAdmin)
		}
	}
	if o.Now != nil {
		if err := checkClientCert(cfg, source, o.Now()); err != nil {
			return nil, err
		}
	}
	cfg = rest.CopyConfig(cfg)
	cfg.QPS, cfg.Burst = o.QPS, o.Burst
	cfg.UserAgent = o.UserAgent + " " + rest.DefaultKubernetesUserAgent()
	cfg.ContentType = runtime.ContentTypeProtobuf
	cfg.AcceptContentTypes = runtime.ContentTypeProtobuf + "," + runtime.ContentTypeJSON
	cfg.Wrap(answerWithin(cmp.Or(o.AnswerTimeout, DefaultAnswerTimeout), source, cfg))
	cs, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		return nil, fmt.Errorf("create API client from %s: %w", source, err)
	}
	return &Client{Clientset: cs, Config: cfg, Source: source, File: file, Context: o.Context}, nil
}

// kubeconfigEnv returns $KUBECONFIG and the files it names that may be
// read: an empty entry names no file, and a missing one is skipped, as
// client-go and kubectl skip it. A $KUBECONFIG of empty entries only is
// as if unset (env ""); one whose every file is missing is an error, not
// client-go's "no configuration has been provided, try setting
// KUBERNETES_MASTER".
func kubeconfigEnv() (env string, files []string, err error) {
	env = os.Getenv(clientcmd.RecommendedConfigPathEnvVar)
	for _, p := range filepath.SplitList(env) {
		if p == "" {
			continue
		}
		if _, err := os.Stat(p); errors.Is(err, fs.ErrNotExist) {
			continue
		}
		files = append(files, p)
	}
	if len(files) > 0 {
		return env, files, nil
	}
	if strings.Trim(env, string(filepath.ListSeparator)) == "" {
		return "", nil, nil
	}
	return env, nil, fmt.Errorf("$KUBECONFIG %s names no file that exists: set KUBECONFIG to a kubeconfig of the cluster, or pass --kubeconfig (on a control-plane node, %s)", env, nodeAdmin)
}

// homeKubeconfig returns ~/.kube/config when it exists, else "". Without
// $HOME (cron, a systemd service) there is none: client-go's homedir would
// make it ".kube/config" of the current folder, maybe /tmp, where anyone
// may put a kubeconfig whose exec plugin client-go runs.
func homeKubeconfig() string {
	dir := homedir.HomeDir()
	if !filepath.IsAbs(dir) {
		return ""
	}
	home := filepath.Join(dir, clientcmd.RecommendedHomeDir, clientcmd.RecommendedFileName)
	if _, err := os.Stat(home); err != nil {
		return ""
	}
	return home
}

// notRegularError is a kubeconfig that is not a regular file; it is
// pki.ErrNotRegular.
type notRegularError struct{ path, kind string }

func (e *notRegularError) Error() string {
	return fmt.Sprintf("kubeconfig %s is not a regular file but a %s: pass --kubeconfig a kubeconfig file of the cluster (on a control-plane node, %s), or replace it with one", e.path, e.kind, nodeAdmin)
}

func (e *notRegularError) Is(target error) bool { return target == pki.ErrNotRegular }

// checkRegular refuses a kubeconfig path (through a symbolic link, the
// file it points to) that is there but not a regular file; "" or a missing
// file is left to the loading.
func checkRegular(path string) error {
	if path == "" {
		return nil
	}
	fi, err := os.Stat(path)
	if err != nil || fi.Mode().IsRegular() {
		return nil
	}
	return &notRegularError{path, pki.FileKind(fi.Mode())}
}

// checkClientCert refuses a client certificate that is not valid at now,
// saying what to do: the usual case is admin.conf expired with the rest.
func checkClientCert(cfg *rest.Config, source string, now time.Time) error {
	cert, err := clientCert(cfg, source)
	if err != nil || cert == nil {
		return err
	}
	if err := pki.ValidAt(cert, now); err != nil {
		return fmt.Errorf("the client certificate of %s (%q) cannot authenticate to the API server: %s. Renew %[4]s from the CA on disk first (sudo certctl renew %[4]s), or pass --kubeconfig with a valid one, such as %[5]s",
			source, cert.Subject.CommonName, strings.TrimPrefix(err.Error(), "pki: certificate "), pki.AdminKubeconfig, filepath.Join(nodeKubeconfigDir, pki.SuperAdminKubeconfig))
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

// User is the user name of the client certificate (its CN), "" when it has
// none: for messages, when the API server does not say.
func (c *Client) User() string {
	if cert, err := clientCert(c.Config, ""); err == nil && cert != nil {
		return cert.Subject.CommonName
	}
	return ""
}

// Unanswered adds what to do to err when the API server gave no answer
// (connection refused, no route, a TLS handshake or a timeout): the error
// names the request and its URL, not that the server of the kubeconfig is
// down or wrong, so it names the kubeconfig the client came from (a
// Client's transport errors carry it; "--kubeconfig" for another client's);
// then follows ("; nothing was changed", or ""). An error it advised
// already is returned as it is. An answer
// of the API server (a status) and an interruption are returned as they
// are.
func Unanswered(err error, then string) error {
	var status apierrors.APIStatus
	var ne net.Error
	var advised *advisedError
	if err == nil || errors.As(err, &advised) || errors.As(err, &status) || errors.Is(err, context.Canceled) || !errors.As(err, &ne) {
		return err
	}
	kubeconfig := "--kubeconfig"
	if te := (*transportError)(nil); errors.As(err, &te) && te.source != "" {
		kubeconfig = te.source
	}
	if hint := TLSHint(err, kubeconfig); hint != "" {
		return &advisedError{fmt.Errorf("%w: %s%s", err, hint, then)}
	}
	return &advisedError{fmt.Errorf("%w: is the API server up and reachable? Check the server of %s%s", err, kubeconfig, then)}
}

// advisedError is an error Unanswered added what to do to: it is not
// advised twice, by a caller's caller.
type advisedError struct{ error }

func (e *advisedError) Unwrap() error { return e.error }

// ServerCA is what the client verifies the API server's certificate with:
// the CA certificates of the kubeconfig (certificate-authority-data, or
// the file certificate-authority names; the service account's ca.crt in
// a pod). For a bootstrap kubeconfig of kubeadm's token discovery, that
// is the CA that --discovery-token-ca-cert-hash pinned.
type ServerCA struct {
	PEM []byte // nil when the kubeconfig gives none
	// From names where PEM came from ("certificate-authority-data of
	// kubeconfig PATH"), or, without PEM, says why there is none.
	From string
}

// ServerCA returns the CA the client verifies the API server with; none
// for a Client without Config (a test's).
func (c *Client) ServerCA() (ServerCA, error) {
	if c.Config == nil {
		return ServerCA{}, nil
	}
	tls := c.Config.TLSClientConfig
	switch {
	case tls.Insecure:
		return ServerCA{From: fmt.Sprintf("%s skips the verification of the API server's certificate (insecure-skip-tls-verify)", c.Source)}, nil
	case len(tls.CAData) > 0:
		return ServerCA{PEM: tls.CAData, From: "the certificate-authority-data of " + c.Source}, nil
	case tls.CAFile != "":
		data, err := pki.ReadFile(tls.CAFile)
		if err != nil {
			return ServerCA{}, fmt.Errorf("read the certificate-authority of %s: %w", c.Source, err)
		}
		return ServerCA{PEM: data, From: fmt.Sprintf("the certificate-authority %s of %s", tls.CAFile, c.Source)}, nil
	}
	return ServerCA{From: fmt.Sprintf("%s names no CA (the system's roots verify the API server)", c.Source)}, nil
}
