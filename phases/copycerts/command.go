package copycerts

import (
	"context"
	"errors"
	"fmt"
	"io"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/client-go/kubernetes"

	"github.com/certctl/certctl/internal/kubeclient"
	"github.com/certctl/certctl/phases/config"
)

// Command is `certctl certs upload` or `certs download` as asked. Each
// step is taken only when the one before succeeded: the key of
// --certificate-key is checked first, then --kubeconfig, then the node's
// settings are read (with the key of --config when the flag is empty),
// then the API client is made.
type Command struct {
	Options               // of Upload and Download; prepare sets CertDir, ExternalEtcd and Key
	CertificateKey string // --certificate-key, in hex (FromStdin: read from In); else --config's; upload makes one when both are empty
	// Kubeconfig is --kubeconfig ("": not given), refused before the
	// settings when it cannot be read (kubeclient.CheckFlag).
	Kubeconfig string
	In         io.Reader
	// Settings reads the node's settings: the folders and etcd.external.
	Settings func() (config.Cluster, error)
	// ConfigKey, called after Settings, is the certificate key of the
	// configuration file it read (config.File.CertificateKey); nil or ""
	// for none.
	ConfigKey func() string
	// Connect makes the API client; its Source says where its kubeconfig
	// came from.
	Connect func() (*kubeclient.Client, error)
}

// prepared is what prepare returns: the options of Upload and Download,
// the client, where its kubeconfig came from, and the key in hex, with
// whether prepare made it.
type prepared struct {
	Options
	client kubernetes.Interface
	source string
	key    string
	made   bool
}

// prepare checks the key, reads the settings and connects. Without
// --certificate-key it takes the configuration file's key, as kubeadm
// takes the InitConfiguration's certificateKey (upload-certs) and the
// JoinConfiguration's controlPlane.certificateKey (join): a key that
// kubeadm join reads from the same file then decrypts what certctl
// uploaded. With neither, makeKey makes one (upload); else the key is
// missing (download).
func (c *Command) prepare(ctx context.Context, makeKey bool) (prepared, error) {
	var key []byte
	var err error
	if c.CertificateKey, err = KeyArg(ctx, c.CertificateKey, c.In, c.ErrOut); err != nil {
		return prepared{}, err
	}
	if c.CertificateKey != "" {
		k, err := ParseKey(c.CertificateKey)
		if err != nil {
			return prepared{}, fmt.Errorf("--certificate-key: %w", err)
		}
		key = k
	}
	if err := kubeclient.CheckFlag(c.Kubeconfig); err != nil {
		return prepared{}, err
	}
	cluster, err := c.Settings()
	if err != nil {
		return prepared{}, err
	}
	p := prepared{key: c.CertificateKey}
	var fromConfig string
	if key == nil && c.ConfigKey != nil {
		fromConfig = c.ConfigKey()
	}
	switch {
	case key != nil:
	case fromConfig != "":
		k, err := ParseKey(fromConfig)
		if err != nil {
			return prepared{}, fmt.Errorf("certificateKey of --config: %w", err)
		}
		key, p.key = k, fromConfig
	case makeKey:
		p.key, err = NewKey(c.Rand)
		if err != nil {
			return prepared{}, err
		}
		key, _ = ParseKey(p.key) // NewKey's: valid
		p.made = true
	default:
		return prepared{}, errors.New("--certificate-key: the certificate key is empty: pass --certificate-key with the key the upload printed, or give it as controlPlane.certificateKey in the JoinConfiguration of --config, as kubeadm join reads it")
	}
	kc, err := c.Connect()
	if err != nil {
		return prepared{}, err
	}
	p.Options, p.client, p.source = c.Options, kc, kc.Source
	if p.ServerCA, err = kc.ServerCA(); err != nil {
		return prepared{}, err
	}
	// kubeadm sends etcd.external's client files instead of the etcd CA.
	p.CertDir, p.Key, p.ExternalEtcd = cluster.CertificatesDir, key, cluster.External()
	return p, nil
}

// Upload stores the cluster's shared files, encrypted, in the
// kubeadm-certs Secret (Upload), and says when it expires and, when it
// made the key, the key.
func (c Command) Upload(ctx context.Context) error {
	p, err := c.prepare(ctx, true)
	if err != nil {
		return err
	}
	expires, err := Upload(ctx, p.client, p.Options)
	if apierrors.IsForbidden(err) {
		return fmt.Errorf("%w: the kubeconfig's user (%s) may not create Secrets, Roles and RoleBindings in kube-system: pass --kubeconfig /etc/kubernetes/admin.conf of a control-plane node", err, p.source)
	}
	if apierrors.IsUnauthorized(err) {
		return fmt.Errorf("%w: the API server refused the credentials of %s (an expired or revoked certificate or token): pass --kubeconfig /etc/kubernetes/admin.conf of a control-plane node; nothing was changed", err, p.source)
	}
	if err != nil || c.DryRun {
		return err
	}
	fmt.Fprintf(c.Out, "[upload-certs] The Secret and its token expire at %s\n", expires.UTC().Format(time.RFC3339))
	if p.made {
		// The only copy of the key: a write that fails (a full disk) must
		// not exit 0, as for PrintNewKey.
		if _, err := fmt.Fprintf(c.Out, "[upload-certs] Using certificate key:\n%s\n", p.key); err != nil {
			return fmt.Errorf("write the certificate key: %w: secret %s/%s is stored, encrypted with a key that was not printed; make a key with `certctl certs certificate-key` and upload again with --certificate-key", err, Namespace, SecretName)
		}
	}
	return nil
}

// Download writes the files of the kubeadm-certs Secret into the node's
// certificate folder (Download).
func (c Command) Download(ctx context.Context) error {
	p, err := c.prepare(ctx, false)
	if err != nil {
		return err
	}
	o, source := p.Options, p.source
	err = Download(ctx, p.client, o)
	if apierrors.IsForbidden(err) {
		return fmt.Errorf("%w: the kubeconfig's user (%s) may not read it: use a kubeconfig with a bootstrap token of the cluster (kubeadm's Role %s grants get to group %s; docs/ha.md) or an administrator's", err, source, RoleName, BootstrapGroup)
	}
	if unanswered := (*noSecretAnswer)(nil); errors.As(err, &unanswered) {
		return fmt.Errorf("%w: if %s has an exec credential plugin (users[].user.exec), run it by hand: it must print a credential without waiting; else check that the API server it names answers; nothing was changed", err, source)
	}
	if apierrors.IsUnauthorized(err) {
		return fmt.Errorf("%w: the API server refused the credentials of %s: a bootstrap token is refused once it expired (24 hours) or was deleted; make a new one on a control-plane node (`kubeadm token create`), put it in that kubeconfig and download again; nothing was changed", err, source)
	}
	return err
}
