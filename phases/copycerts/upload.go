package copycerts

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"time"

	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/utils/ptr"

	"github.com/certctl/certctl/internal/kubeclient"
	"github.com/certctl/certctl/phases/config"
	"github.com/certctl/certctl/pki"
)

// Options say what Upload reads and Download writes, and how.
type Options struct {
	// CertDir is the certificate folder (certificatesDir).
	CertDir string
	// ExternalEtcd, when set, is etcd.external: Upload sends its client
	// files instead of the etcd CA, Download writes them where it says
	// when the Secret holds them.
	ExternalEtcd *config.ExternalEtcd
	// Key is the certificate key (ParseKey).
	Key []byte
	// ServerCA is the CA the client verifies the API server with (its
	// kubeconfig's): the cluster's CA is compared with it when
	// kube-system/kube-root-ca.crt cannot be read, as a bootstrap token
	// may not read it (checkClusterCA). The zero value compares nothing.
	ServerCA kubeclient.ServerCA
	// KubeconfigDir is the node's kubeconfig folder: Download refuses
	// kubeadm's kubeconfig files there (admin.conf, ...) whose embedded CA
	// is not the Secret's, as it refuses another cluster's leaves; ""
	// checks none.
	KubeconfigDir string
	// LockTimeout bounds Download's wait for another certctl on the folder.
	LockTimeout time.Duration
	// Now is the clock the token's expiry counts from (Upload) and of the
	// transaction's name (Download); time.Now when nil.
	Now func() time.Time
	// Rand is the randomness of the nonces and the token (Upload) and
	// names the transaction (Download).
	Rand io.Reader
	// Out receives progress lines, ErrOut what Download's recovery says.
	Out, ErrOut io.Writer
	// DryRun: Upload sends every object as a server-side dry run (the API
	// server checks, admits and authorizes it, and stores nothing), as
	// kubectl's --dry-run=server; Download reads, decrypts and checks
	// everything, compares with the folder, and prints what would be
	// written: it takes no lock and writes nothing.
	DryRun bool
}

// Upload encrypts the shared files of o.CertDir with o.Key into the
// kube-system/kubeadm-certs Secret, as `kubeadm init phase upload-certs
// --upload-certs` does: one data key per file, AES-GCM with the nonce in
// front, owned by a new bootstrap token that expires after TokenTTL (the
// Secret goes with it), and the Role and RoleBinding that let kubeadm's
// bootstrap tokens read it. Each object is created, or replaced when it
// exists, so running Upload again only renews the Secret and its expiry.
// It returns when the Secret expires.
//
// The certificates and the service-account key pair must be there; a CA's
// key may be absent (an external CA), then its entry is empty, as kubeadm
// leaves it, and kubeadm join writes nothing for it. What is read is
// checked (each key matches its certificate) before anything is sent.
func Upload(ctx context.Context, client kubernetes.Interface, o Options) (time.Time, error) {
	now := time.Now
	if o.Now != nil {
		now = o.Now
	}
	es := entries(o.CertDir, o.ExternalEtcd)
	files := map[string][]byte{}
	for _, e := range es {
		if e.path == "" { // an external etcd without TLS: kubeadm uploads it empty
			files[e.key] = nil
			continue
		}
		data, err := pki.ReadFile(e.path)
		switch {
		case errors.Is(err, fs.ErrNotExist) && e.optional:
			fmt.Fprintf(o.Out, "[upload-certs] %s is not there (external CA): its entry stays empty, and a joining node gets no copy\n", e.path)
			data = nil
		case errors.Is(err, fs.ErrNotExist):
			return time.Time{}, fmt.Errorf("read %s: %w: a joining node needs it; run the upload on a control-plane node, or pass --cert-dir (or --config) with the cluster's certificate folder", e.path, err)
		case err != nil:
			return time.Time{}, fmt.Errorf("read %s: %w", e.path, err)
		}
		files[e.key] = data
	}
	if err := check(es, files, o.CertDir, "restore the cluster's file (certctl restore), or pass --cert-dir (or --config) with the cluster's certificate folder; nothing was uploaded"); err != nil {
		return time.Time{}, err
	}
	warnCAs(o.ErrOut, es, files, func(e entry) string { return e.path }, now())
	path := func(e entry) string { return e.path }
	if err := checkClusterCA(ctx, client, o.ServerCA, o.Out, "[upload-certs]", es, files, path, "pass --cert-dir (or --config) with this cluster's certificate folder, or --kubeconfig of the cluster that folder is from; nothing was uploaded"); err != nil {
		return time.Time{}, err
	}
	data := map[string][]byte{}
	for _, e := range es {
		if len(files[e.key]) == 0 {
			data[e.key] = []byte{}
			continue
		}
		sealed, err := Encrypt(o.Rand, o.Key, files[e.key])
		if err != nil {
			return time.Time{}, fmt.Errorf("encrypt %s: %w", e.path, err)
		}
		data[e.key] = sealed
	}

	var dry []string
	if o.DryRun {
		dry = []string{metav1.DryRunAll}
		fmt.Fprintf(o.Out, "[dry-run] The API server checks what follows and stores nothing\n")
	}
	fmt.Fprintf(o.Out, "[upload-certs] Storing the certificates in Secret %q in the %q Namespace\n", SecretName, Namespace)
	expires := now().Add(TokenTTL)
	token, err := tokenSecret(o.Rand, expires)
	if err != nil {
		return time.Time{}, err
	}
	secrets := client.CoreV1().Secrets(Namespace)
	// kubeadm fails when the token exists (CreateNewTokens): a random ID
	// that is taken is a bug, never a token to reuse.
	owner, err := secrets.Create(ctx, token, metav1.CreateOptions{DryRun: dry})
	if err != nil {
		return time.Time{}, fmt.Errorf("create bootstrap token %s/%s that owns %s: %w", Namespace, token.Name, SecretName, kubeclient.Unanswered(err, "; nothing was changed"))
	}
	secret := &corev1.Secret{
		ObjectMeta: metav1.ObjectMeta{
			Name:      SecretName,
			Namespace: Namespace,
			// metav1.NewControllerRef, as kubeadm's getSecretOwnerRef.
			OwnerReferences: []metav1.OwnerReference{{
				APIVersion:         "v1",
				Kind:               "Secret",
				Name:               owner.Name,
				UID:                owner.UID,
				Controller:         ptr.To(true),
				BlockOwnerDeletion: ptr.To(true),
			}},
		},
		Data: data,
	}
	if err := createOrUpdate(ctx, secrets, secret, dry); err != nil {
		return time.Time{}, fmt.Errorf("store secret %s/%s: %w", Namespace, SecretName, err)
	}
	if err := createRBAC(ctx, client, dry); err != nil {
		return time.Time{}, err
	}
	return expires, nil
}

// createRBAC makes kubeadm's Role and RoleBinding: get on the Secret, for
// the group of kubeadm's bootstrap tokens.
func createRBAC(ctx context.Context, client kubernetes.Interface, dry []string) error {
	role := &rbacv1.Role{
		ObjectMeta: metav1.ObjectMeta{Name: RoleName, Namespace: Namespace},
		Rules: []rbacv1.PolicyRule{{
			Verbs:         []string{"get"},
			APIGroups:     []string{""},
			Resources:     []string{"secrets"},
			ResourceNames: []string{SecretName},
		}},
	}
	if err := createOrUpdate(ctx, client.RbacV1().Roles(Namespace), role, dry); err != nil {
		return fmt.Errorf("store role %s/%s: %w", Namespace, RoleName, err)
	}
	binding := &rbacv1.RoleBinding{
		ObjectMeta: metav1.ObjectMeta{Name: RoleName, Namespace: Namespace},
		RoleRef:    rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "Role", Name: RoleName},
		Subjects:   []rbacv1.Subject{{Kind: rbacv1.GroupKind, Name: BootstrapGroup}},
	}
	if err := createOrUpdate(ctx, client.RbacV1().RoleBindings(Namespace), binding, dry); err != nil {
		return fmt.Errorf("store roleBinding %s/%s: %w", Namespace, RoleName, err)
	}
	return nil
}

// object is a typed client of T, as client-go generates them.
type object[T any] interface {
	Create(context.Context, T, metav1.CreateOptions) (T, error)
	Update(context.Context, T, metav1.UpdateOptions) (T, error)
}

// createOrUpdate creates obj, or replaces it when it exists, as kubeadm's
// apiclient.CreateOrUpdate; dry is the requests' dryRun.
func createOrUpdate[T any](ctx context.Context, c object[T], obj T, dry []string) error {
	_, err := c.Create(ctx, obj, metav1.CreateOptions{DryRun: dry})
	if apierrors.IsAlreadyExists(err) {
		_, err = c.Update(ctx, obj, metav1.UpdateOptions{DryRun: dry})
	}
	return err
}
