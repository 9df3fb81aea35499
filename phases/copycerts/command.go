package copycerts

import (
	"context"
	"fmt"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/client-go/kubernetes"

	"github.com/certctl/certctl/internal/kubeclient"
	"github.com/certctl/certctl/phases/config"
)

// Command is `certctl certs upload` or `certs download` as asked. Each
// step is taken only when the one before succeeded: the key is checked
// first, then the node's settings are read, then the API client is made.
type Command struct {
	Options               // of Upload and Download; prepare sets CertDir, ExternalEtcd and Key
	CertificateKey string // --certificate-key, in hex; upload makes one when empty
	// Settings reads the node's settings: the folders and etcd.external.
	Settings func() (config.Cluster, error)
	// Connect makes the API client; its Source says where its kubeconfig
	// came from.
	Connect func() (*kubeclient.Client, error)
}

// prepare checks the key, reads the settings and connects; it returns the
// options of Upload and Download, the client and where its kubeconfig
// came from.
func (c *Command) prepare() (Options, kubernetes.Interface, string, error) {
	key, err := ParseKey(c.CertificateKey)
	if err != nil {
		return Options{}, nil, "", fmt.Errorf("--certificate-key: %w", err)
	}
	cluster, err := c.Settings()
	if err != nil {
		return Options{}, nil, "", err
	}
	kc, err := c.Connect()
	if err != nil {
		return Options{}, nil, "", err
	}
	o := c.Options
	// kubeadm sends etcd.external's client files instead of the etcd CA.
	o.CertDir, o.Key, o.ExternalEtcd = cluster.CertificatesDir, key, cluster.External()
	return o, kc, kc.Source, nil
}

// Upload stores the cluster's shared files, encrypted, in the
// kubeadm-certs Secret (Upload), and says when it expires and, when it
// made the key, the key.
func (c Command) Upload(ctx context.Context) error {
	made := c.CertificateKey == ""
	if made {
		k, err := NewKey(c.Rand)
		if err != nil {
			return err
		}
		c.CertificateKey = k
	}
	o, client, source, err := c.prepare()
	if err != nil {
		return err
	}
	expires, err := Upload(ctx, client, o)
	if apierrors.IsForbidden(err) {
		return fmt.Errorf("%w: the kubeconfig's user (%s) may not create Secrets, Roles and RoleBindings in kube-system: pass --kubeconfig /etc/kubernetes/admin.conf of a control-plane node", err, source)
	}
	if apierrors.IsUnauthorized(err) {
		return fmt.Errorf("%w: the API server refused the credentials of %s (an expired or revoked certificate or token): pass --kubeconfig /etc/kubernetes/admin.conf of a control-plane node; nothing was changed", err, source)
	}
	if err != nil || c.DryRun {
		return err
	}
	fmt.Fprintf(c.Out, "[upload-certs] The Secret and its token expire at %s\n", expires.UTC().Format(time.RFC3339))
	if made {
		fmt.Fprintf(c.Out, "[upload-certs] Using certificate key:\n%s\n", c.CertificateKey)
	}
	return nil
}

// Download writes the files of the kubeadm-certs Secret into the node's
// certificate folder (Download).
func (c Command) Download(ctx context.Context) error {
	o, client, source, err := c.prepare()
	if err != nil {
		return err
	}
	err = Download(ctx, client, o)
	if apierrors.IsForbidden(err) {
		return fmt.Errorf("%w: the kubeconfig's user (%s) may not read it: use a kubeconfig with a bootstrap token of the cluster (kubeadm's Role %s grants get to group %s; docs/ha.md) or an administrator's", err, source, RoleName, BootstrapGroup)
	}
	if apierrors.IsUnauthorized(err) {
		return fmt.Errorf("%w: the API server refused the credentials of %s: a bootstrap token is refused once it expired (24 hours) or was deleted; make a new one on a control-plane node (`kubeadm token create`), put it in that kubeconfig and download again; nothing was changed", err, source)
	}
	return err
}
