package testcluster

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"net/http"
	"strings"
	"sync"
	"syscall"
	"time"

	authenticationv1 "k8s.io/api/authentication/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"
)

// FrontProxyUser and FrontProxyGroup are the identity the front-proxy client asserts in
// X-Remote-User and X-Remote-Group.
const (
	FrontProxyUser  = "certctl-traffic-front-proxy"
	FrontProxyGroup = "certctl-traffic"
)

// send makes one request on a new connection (no keep-alive: each request does a full TLS
// handshake, as each kubectl run does) and returns the outcome; want is the success status.
func send(ctx context.Context, tlsCfg *tls.Config, method, url string, body []byte, header http.Header, want int) (outcome, string, []byte) {
	req, err := http.NewRequestWithContext(ctx, method, url, bytes.NewReader(body))
	if err != nil {
		return failed, err.Error(), nil
	}
	maps.Copy(req.Header, header)
	tr := &http.Transport{TLSClientConfig: tlsCfg, DisableKeepAlives: true, Proxy: nil}
	defer tr.CloseIdleConnections()
	resp, err := (&http.Client{Transport: tr}).Do(req)
	if errors.Is(err, syscall.ECONNREFUSED) {
		return unavailable, err.Error(), nil // nothing listens
	}
	if err != nil {
		return failed, err.Error(), nil
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	if err != nil {
		return failed, fmt.Sprintf("%s %s: read answer: %v", method, url, err), nil
	}
	if resp.StatusCode != want {
		return failed, fmt.Sprintf("%s %s: %s: %s", method, url, resp.Status, strings.TrimSpace(string(data[:min(len(data), 300)]))), nil
	}
	return ok, "", data
}

// adminRequest is kubectl with admin.conf, read now: GET the namespace kube-system.
func adminRequest(ctx context.Context, c *Cluster) (outcome, string) {
	cfg, err := clientcmd.BuildConfigFromFlags("", c.Kubeconfig("admin.conf"))
	if err != nil {
		return failed, fmt.Sprintf("load admin.conf: %v", err)
	}
	tlsCfg, err := rest.TLSConfigFor(cfg)
	if err != nil {
		return failed, fmt.Sprintf("TLS settings of admin.conf: %v", err)
	}
	o, text, _ := send(ctx, tlsCfg, http.MethodGet, c.URL(APIServer)+"/api/v1/namespaces/kube-system", nil, nil, http.StatusOK)
	return o, text
}

// frontProxyRequest is kube-aggregator's request to an API server: front-proxy-client.crt,
// the user in headers, trusting ca.crt.
func frontProxyRequest(ctx context.Context, c *Cluster) (outcome, string) {
	tlsCfg, err := c.tlsConfig("ca.crt", "front-proxy-client")
	if err != nil {
		return failed, err.Error()
	}
	h := http.Header{"X-Remote-User": {FrontProxyUser}, "X-Remote-Group": {FrontProxyGroup}}
	return selfSubjectReview(ctx, tlsCfg, c, h, FrontProxyUser)
}

// etcdRequest is kube-apiserver's client of etcd: GET /health with apiserver-etcd-client.crt.
func etcdRequest(ctx context.Context, c *Cluster) (outcome, string) {
	tlsCfg, err := c.tlsConfig("etcd/ca.crt", "apiserver-etcd-client")
	if err != nil {
		return failed, err.Error()
	}
	url := c.URL(Etcd) + "/health"
	o, text, body := send(ctx, tlsCfg, http.MethodGet, url, nil, nil, http.StatusOK)
	if o == ok && !bytes.Contains(body, []byte(`"health":"true"`)) {
		return failed, fmt.Sprintf("GET %s: %s", url, strings.TrimSpace(string(body)))
	}
	return o, text
}

// selfSubjectReview asks the API server who the request authenticates as, and checks it is
// wantUser: a 201 alone would not tell a request header identity from another one.
func selfSubjectReview(ctx context.Context, tlsCfg *tls.Config, c *Cluster, h http.Header, wantUser string) (outcome, string) {
	h.Set("Content-Type", "application/json")
	url := c.URL(APIServer) + "/apis/authentication.k8s.io/v1/selfsubjectreviews"
	body := []byte(`{"apiVersion":"authentication.k8s.io/v1","kind":"SelfSubjectReview"}`)
	o, text, data := send(ctx, tlsCfg, http.MethodPost, url, body, h, http.StatusCreated)
	if o != ok {
		return o, text
	}
	var r authenticationv1.SelfSubjectReview
	if err := json.Unmarshal(data, &r); err != nil {
		return failed, fmt.Sprintf("POST %s: decode answer: %v", url, err)
	}
	if got := r.Status.UserInfo.Username; got != wantUser {
		return failed, fmt.Sprintf("POST %s: authenticated as %q, want %q", url, got, wantUser)
	}
	return ok, ""
}

// saCredentials are what a pod's projected service-account volume holds: a bound token and
// the published root CA, both refreshed in the background.
type saCredentials struct {
	nodes []*Cluster
	opts  TrafficOptions
	user  string

	mu    sync.Mutex
	token string
	pool  *x509.CertPool
}

func (s *saCredentials) request(ctx context.Context, c *Cluster) (outcome, string) {
	s.mu.Lock()
	token, pool := s.token, s.pool
	s.mu.Unlock()
	tlsCfg := &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}
	return selfSubjectReview(ctx, tlsCfg, c, http.Header{"Authorization": {"Bearer " + token}}, s.user)
}

// setupServiceAccount creates the namespace and service account, gets the first token and
// waits for kube-controller-manager to publish kube-root-ca.crt in the namespace.
func setupServiceAccount(ctx context.Context, nodes []*Cluster, opts TrafficOptions) (*saCredentials, error) {
	s := &saCredentials{nodes: nodes, opts: opts, user: "system:serviceaccount:" + opts.Namespace + ":" + opts.ServiceAccount}
	ctx, cancel := context.WithTimeout(ctx, opts.SetupTimeout)
	defer cancel()
	err := s.anyNode(ctx, func(ctx context.Context, cs kubernetes.Interface) error {
		ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: opts.Namespace}}
		if _, err := cs.CoreV1().Namespaces().Create(ctx, ns, metav1.CreateOptions{}); err != nil && !apierrors.IsAlreadyExists(err) {
			return fmt.Errorf("create Namespace %s: %w", opts.Namespace, err)
		}
		sa := &corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Name: opts.ServiceAccount, Namespace: opts.Namespace}}
		if _, err := cs.CoreV1().ServiceAccounts(opts.Namespace).Create(ctx, sa, metav1.CreateOptions{}); err != nil && !apierrors.IsAlreadyExists(err) {
			return fmt.Errorf("create ServiceAccount %s/%s: %w", opts.Namespace, opts.ServiceAccount, err)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("set up the service-account client: %w", err)
	}
	if err := s.refreshToken(ctx); err != nil {
		return nil, fmt.Errorf("set up the service-account client: %w", err)
	}
	for {
		err := s.refreshRootCA(ctx)
		if err == nil {
			return s, nil
		}
		select {
		case <-ctx.Done():
			return nil, fmt.Errorf("set up the service-account client: %w (kube-controller-manager's root-ca-cert-publisher writes it; is it running?)", err)
		case <-time.After(200 * time.Millisecond):
		}
	}
}

// refreshLoop runs refresh, of the service-account credential what (the token or the root CA),
// every interval until ctx ends; a failed refresh keeps the old value, is logged and retried a
// second later. Of a run of failed refreshes, only the first and the refresh that ends it are
// logged, not every retry.
func (s *saCredentials) refreshLoop(ctx context.Context, what string, interval time.Duration, refresh func(context.Context) error) {
	next, failing := time.Now().Add(interval), false
	for {
		select {
		case <-ctx.Done():
			return
		case <-time.After(time.Until(next)):
		}
		now := time.Now()
		rctx, cancel := context.WithTimeout(ctx, 10*time.Second)
		err := refresh(rctx)
		cancel()
		next = now.Add(interval)
		switch {
		case ctx.Err() != nil:
		case err != nil:
			next = now.Add(time.Second)
			if !failing {
				s.opts.Logf("testcluster: traffic: refresh the service-account %s: %v; keeping the old one, retrying every second", what, err)
			}
			failing = true
		case failing:
			s.opts.Logf("testcluster: traffic: refreshed the service-account %s again", what)
			failing = false
		}
	}
}

func (s *saCredentials) refreshToken(ctx context.Context) error {
	secs := int64(s.opts.TokenExpiration / time.Second)
	return s.anyNode(ctx, func(ctx context.Context, cs kubernetes.Interface) error {
		tr := &authenticationv1.TokenRequest{Spec: authenticationv1.TokenRequestSpec{ExpirationSeconds: &secs}}
		got, err := cs.CoreV1().ServiceAccounts(s.opts.Namespace).CreateToken(ctx, s.opts.ServiceAccount, tr, metav1.CreateOptions{})
		if err != nil {
			return fmt.Errorf("request a token for ServiceAccount %s/%s: %w", s.opts.Namespace, s.opts.ServiceAccount, err)
		}
		s.mu.Lock()
		s.token = got.Status.Token
		s.mu.Unlock()
		return nil
	})
}

func (s *saCredentials) refreshRootCA(ctx context.Context) error {
	return s.anyNode(ctx, func(ctx context.Context, cs kubernetes.Interface) error {
		cm, err := cs.CoreV1().ConfigMaps(s.opts.Namespace).Get(ctx, "kube-root-ca.crt", metav1.GetOptions{})
		if err != nil {
			return fmt.Errorf("read ConfigMap %s/kube-root-ca.crt: %w", s.opts.Namespace, err)
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM([]byte(cm.Data["ca.crt"])) {
			return fmt.Errorf("read ConfigMap %s/kube-root-ca.crt: no PEM certificate under ca.crt", s.opts.Namespace)
		}
		s.mu.Lock()
		s.pool = pool
		s.mu.Unlock()
		return nil
	})
}

// anyNode runs f with the admin.conf clientset of each node in turn until one succeeds, as a
// kubelet's client fails over to another API server; it returns all errors when none did.
func (s *saCredentials) anyNode(ctx context.Context, f func(context.Context, kubernetes.Interface) error) error {
	var errs []error
	for _, c := range s.nodes {
		cs, err := c.AdminClient()
		if err == nil {
			cctx, cancel := context.WithTimeout(ctx, 5*time.Second)
			err = f(cctx, cs)
			cancel()
		}
		if err == nil {
			return nil
		}
		errs = append(errs, fmt.Errorf("%s: %w", c.nodeName, err))
	}
	return errors.Join(errs...)
}
