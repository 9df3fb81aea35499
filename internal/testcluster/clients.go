package testcluster

import (
	"context"
	"fmt"
	"net/http"
	"path/filepath"
	"time"

	authorizationv1 "k8s.io/api/authorization/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"
)

// ClusterAdminsGroup is the organization of admin.conf's certificate; kubeadm binds it to the
// cluster-admin ClusterRole at init, so admin.conf loses its rights when the binding is removed,
// unlike super-admin.conf (system:masters).
const ClusterAdminsGroup = "kubeadm:cluster-admins"

// RESTConfig loads the kubeconfig file name ("admin.conf", "super-admin.conf", ...) as it is on
// disk now. It does not change the server: certctl must have pointed it at this apiserver.
func (c *Cluster) RESTConfig(name string) (*rest.Config, error) {
	cfg, err := clientcmd.BuildConfigFromFlags("", c.Kubeconfig(name))
	if err != nil {
		return nil, fmt.Errorf("load kubeconfig %s: %w", name, err)
	}
	if want := c.URL(APIServer); cfg.Host != want {
		return nil, fmt.Errorf("load kubeconfig %s: server is %q, want %q (the --control-plane-endpoint certctl was given)", name, cfg.Host, want)
	}
	cfg.UserAgent = "certctl-testcluster"
	cfg.Timeout = 30 * time.Second
	return cfg, nil
}

// Clientset returns a clientset that authenticates with the kubeconfig file name.
func (c *Cluster) Clientset(name string) (*kubernetes.Clientset, error) {
	cfg, err := c.RESTConfig(name)
	if err != nil {
		return nil, err
	}
	cs, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		return nil, fmt.Errorf("create clientset for %s: %w", name, err)
	}
	return cs, nil
}

// AdminClient returns a clientset for admin.conf (group kubeadm:cluster-admins, bound to
// cluster-admin by Start).
func (c *Cluster) AdminClient() (*kubernetes.Clientset, error) { return c.Clientset("admin.conf") }

// SuperAdminClient returns a clientset for super-admin.conf (group system:masters).
func (c *Cluster) SuperAdminClient() (*kubernetes.Clientset, error) {
	return c.Clientset("super-admin.conf")
}

// HTTPClient returns an HTTP client that trusts the kubeconfig's CA and presents its client
// certificate, for requests the clientset has no method for. Requests go to c.URL(APIServer).
func (c *Cluster) HTTPClient(name string) (*http.Client, error) {
	cfg, err := c.RESTConfig(name)
	if err != nil {
		return nil, err
	}
	client, err := rest.HTTPClientFor(cfg)
	if err != nil {
		return nil, fmt.Errorf("create HTTP client for %s: %w", name, err)
	}
	return client, nil
}

// bootstrapRBAC creates, with super-admin.conf, the ClusterRoleBinding kubeadm:cluster-admins
// that `kubeadm init` creates (cmd/kubeadm/app/phases/kubeconfig, EnsureAdminClusterRoleBinding).
// An existing binding is kept.
func (c *Cluster) bootstrapRBAC(ctx context.Context) error {
	cs, err := c.SuperAdminClient()
	if err != nil {
		return err
	}
	crb := &rbacv1.ClusterRoleBinding{
		ObjectMeta: metav1.ObjectMeta{Name: "kubeadm:cluster-admins"},
		RoleRef:    rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "ClusterRole", Name: "cluster-admin"},
		Subjects:   []rbacv1.Subject{{Kind: rbacv1.GroupKind, Name: ClusterAdminsGroup}},
	}
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	_, err = cs.RbacV1().ClusterRoleBindings().Create(ctx, crb, metav1.CreateOptions{})
	if err != nil && !apierrors.IsAlreadyExists(err) {
		return fmt.Errorf("create ClusterRoleBinding kubeadm:cluster-admins: %w", err)
	}
	return c.waitAdminAuthorized(ctx)
}

// waitAdminAuthorized waits until c's kube-apiserver authorizes admin.conf as cluster-admin:
// its RBAC authorizer learns of a new binding through a watch, so a test that used admin.conf
// at once could be refused ("kubernetes-admin cannot create resource nodes"), on another node
// of an HA cluster later still.
func (c *Cluster) waitAdminAuthorized(ctx context.Context) error {
	cs, err := c.AdminClient()
	if err != nil {
		return err
	}
	review := &authorizationv1.SelfSubjectAccessReview{Spec: authorizationv1.SelfSubjectAccessReviewSpec{
		ResourceAttributes: &authorizationv1.ResourceAttributes{Verb: "*", Group: "*", Resource: "*"}}}
	last := "no answer"
	for deadline := time.Now().Add(30 * time.Second); time.Now().Before(deadline); time.Sleep(100 * time.Millisecond) {
		r, err := cs.AuthorizationV1().SelfSubjectAccessReviews().Create(ctx, review, metav1.CreateOptions{})
		switch {
		case err != nil:
			last = err.Error()
		case r.Status.Allowed:
			return nil
		default:
			last = "not allowed yet: " + r.Status.Reason
		}
		if ctx.Err() != nil {
			break
		}
	}
	return fmt.Errorf("admin.conf of %s is not authorized as cluster-admin after the ClusterRoleBinding kubeadm:cluster-admins: %s", c.URL(APIServer), last)
}

// EtcdHTTPClient returns an HTTP client for etcd's client URL (c.URL(Etcd)) that trusts
// etcd/ca.crt and presents etcd/healthcheck-client.crt, for /health and etcd's JSON gateway
// (POST /v3/cluster/member/list).
func (c *Cluster) EtcdHTTPClient() (*http.Client, error) {
	client, _, err := c.healthClient(Etcd)
	return client, err
}

// Kubectl returns the path of kubectl, which hack/build-kube-binaries.sh builds beside the
// cluster's binaries, for tests that run documented kubectl commands against the cluster.
func (c *Cluster) Kubectl() (string, error) {
	dir, err := BinDir(c.opts.BinDir, "kubectl")
	if err != nil {
		return "", err
	}
	return filepath.Join(dir, "kubectl"), nil
}
