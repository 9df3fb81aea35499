package e2e

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"

	"github.com/certctl/certctl/internal/testcluster"
)

// aggregatedGroup is the API group of the test's aggregated API server.
const aggregatedGroup = "rotate.certctl.test"

// aggregatedAPI is an extension API server as k8s.io/apiserver builds one (metrics-server, for
// example), reduced to its authentication of kube-apiserver: the client certificate that
// kube-apiserver presents when it proxies a request (--proxy-client-cert-file) must verify
// against the request-header CA that kube-apiserver publishes in ConfigMap
// kube-system/extension-apiserver-authentication (requestheader-client-ca-file, read every
// second as its informer would see it change), and name one of its requestheader-allowed-names;
// then X-Remote-User is the user. It answers GET /apis/GROUP/v1 (the availability check) and
// GET /apis/GROUP/v1/whoami with that user. It remembers the client certificate of each whoami
// request that has a query parameter nonce.
type aggregatedAPI struct {
	srv   *httptest.Server
	nodes []*testcluster.Cluster

	mu      sync.Mutex
	pool    *x509.CertPool
	allowed []string
	seen    map[string]*x509.Certificate // nonce -> the client certificate of its request
	nonces  int
}

// startAggregatedAPI starts the server on 127.0.0.1 and registers it as APIService
// v1.rotate.certctl.test, through a Service of type ExternalName (kube-apiserver resolves it to
// https://127.0.0.1:PORT without kube-proxy), and waits until the APIService is Available.
func startAggregatedAPI(t *testing.T, ctx context.Context, nodes []*testcluster.Cluster) *aggregatedAPI {
	t.Helper()
	a := &aggregatedAPI{nodes: nodes, seen: map[string]*x509.Certificate{}}
	if err := eventually(ctx, time.Minute, func() error { return a.readTrust(ctx) }); err != nil {
		t.Fatalf("aggregated API: %v", err)
	}
	a.srv = httptest.NewUnstartedServer(http.HandlerFunc(a.serve))
	a.srv.TLS = &tls.Config{ClientAuth: tls.RequestClientCert, MinVersion: tls.VersionTLS12}
	a.srv.StartTLS()
	t.Cleanup(a.srv.Close)
	rctx, cancel := context.WithCancel(ctx)
	var wg sync.WaitGroup
	wg.Go(func() {
		for {
			select {
			case <-rctx.Done():
				return
			case <-time.After(time.Second):
			}
			if err := a.readTrust(rctx); err != nil && rctx.Err() == nil {
				t.Logf("aggregated API: %v; keeping the trust read before", err)
			}
		}
	})
	t.Cleanup(func() { cancel(); wg.Wait() })

	_, port, err := net.SplitHostPort(a.srv.Listener.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	cs := adminClient(t, nodes[0])
	svc := &corev1.Service{ObjectMeta: metav1.ObjectMeta{Name: "rotate-aggregated", Namespace: "default"},
		Spec: corev1.ServiceSpec{Type: corev1.ServiceTypeExternalName, ExternalName: "127.0.0.1"}}
	if _, err := cs.CoreV1().Services("default").Create(ctx, svc, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	// insecureSkipTLSVerify: the rotation is of the CA that authenticates kube-apiserver to the
	// extension server, not of the extension server's own serving certificate.
	apiService := fmt.Sprintf(`{"apiVersion":"apiregistration.k8s.io/v1","kind":"APIService","metadata":{"name":"v1.%s"},
"spec":{"group":%q,"version":"v1","service":{"namespace":"default","name":"rotate-aggregated","port":%s},
"insecureSkipTLSVerify":true,"groupPriorityMinimum":1000,"versionPriority":15}}`, aggregatedGroup, aggregatedGroup, port)
	if err := cs.Discovery().RESTClient().Post().AbsPath("/apis/apiregistration.k8s.io/v1/apiservices").
		SetHeader("Content-Type", "application/json").Body([]byte(apiService)).Do(ctx).Error(); err != nil {
		t.Fatalf("create APIService v1.%s: %v", aggregatedGroup, err)
	}
	err = eventually(ctx, 2*time.Minute, func() error { return apiServiceAvailable(ctx, cs) })
	if err != nil {
		t.Fatalf("APIService v1.%s: %v", aggregatedGroup, err)
	}
	return a
}

func apiServiceAvailable(ctx context.Context, cs kubernetes.Interface) error {
	data, err := cs.Discovery().RESTClient().Get().AbsPath("/apis/apiregistration.k8s.io/v1/apiservices/v1." + aggregatedGroup).DoRaw(ctx)
	if err != nil {
		return err
	}
	var s struct {
		Status struct {
			Conditions []struct{ Type, Status, Message string }
		}
	}
	if err := json.Unmarshal(data, &s); err != nil {
		return err
	}
	for _, c := range s.Status.Conditions {
		if c.Type == "Available" && c.Status == "True" {
			return nil
		}
		if c.Type == "Available" {
			return fmt.Errorf("not available: %s", c.Message)
		}
	}
	return fmt.Errorf("no Available condition yet")
}

// readTrust reads ConfigMap kube-system/extension-apiserver-authentication through the first
// node whose admin.conf answers.
func (a *aggregatedAPI) readTrust(ctx context.Context) error {
	var errs []string
	for _, c := range a.nodes {
		cs, err := c.AdminClient()
		if err != nil {
			return err
		}
		cctx, cancel := context.WithTimeout(ctx, 5*time.Second)
		cm, err := cs.CoreV1().ConfigMaps("kube-system").Get(cctx, "extension-apiserver-authentication", metav1.GetOptions{})
		cancel()
		if err != nil {
			errs = append(errs, fmt.Sprintf("%s: %v", c.NodeName(), err))
			continue
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM([]byte(cm.Data["requestheader-client-ca-file"])) {
			return fmt.Errorf("ConfigMap kube-system/extension-apiserver-authentication has no requestheader-client-ca-file")
		}
		var allowed []string
		if err := json.Unmarshal([]byte(cm.Data["requestheader-allowed-names"]), &allowed); err != nil {
			return fmt.Errorf("ConfigMap kube-system/extension-apiserver-authentication: requestheader-allowed-names: %w", err)
		}
		a.mu.Lock()
		a.pool, a.allowed = pool, allowed
		a.mu.Unlock()
		return nil
	}
	return fmt.Errorf("read ConfigMap kube-system/extension-apiserver-authentication: %s", strings.Join(errs, "; "))
}

func (a *aggregatedAPI) serve(w http.ResponseWriter, r *http.Request) {
	if len(r.TLS.PeerCertificates) == 0 {
		http.Error(w, "no client certificate", http.StatusUnauthorized)
		return
	}
	cert := r.TLS.PeerCertificates[0]
	a.mu.Lock()
	pool, allowed := a.pool, a.allowed
	if n := r.URL.Query().Get("nonce"); n != "" {
		a.seen[n] = cert
	}
	a.mu.Unlock()
	inter := x509.NewCertPool()
	for _, c := range r.TLS.PeerCertificates[1:] {
		inter.AddCert(c)
	}
	if _, err := cert.Verify(x509.VerifyOptions{Roots: pool, Intermediates: inter, KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}}); err != nil {
		http.Error(w, "request-header client certificate: "+err.Error(), http.StatusUnauthorized)
		return
	}
	if len(allowed) > 0 && !slices.Contains(allowed, cert.Subject.CommonName) {
		http.Error(w, fmt.Sprintf("request-header client certificate %q is not one of %q", cert.Subject.CommonName, allowed), http.StatusUnauthorized)
		return
	}
	user := r.Header.Get("X-Remote-User")
	if user == "" {
		http.Error(w, "no X-Remote-User", http.StatusUnauthorized)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	switch r.URL.Path {
	case "/apis/" + aggregatedGroup + "/v1":
		fmt.Fprintf(w, `{"kind":"APIResourceList","apiVersion":"v1","groupVersion":"%s/v1","resources":[]}`, aggregatedGroup)
	case "/apis/" + aggregatedGroup + "/v1/whoami":
		_ = json.NewEncoder(w).Encode(map[string]string{"user": user})
	default:
		http.NotFound(w, r)
	}
}

// presentedBy returns the client certificate node c's kube-apiserver presents when it proxies to
// the aggregated API.
func (a *aggregatedAPI) presentedBy(ctx context.Context, c *testcluster.Cluster) (*x509.Certificate, error) {
	a.mu.Lock()
	a.nonces++
	nonce := fmt.Sprint(a.nonces)
	a.mu.Unlock()
	if err := a.whoami(ctx, c, "?nonce="+nonce); err != nil {
		return nil, err
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.seen[nonce], nil
}

// request is kubectl with the node's admin.conf (read now) asking the aggregated API who it is,
// through node c's kube-apiserver: kube-apiserver authenticates the admin, then proxies with its
// front-proxy client certificate and the user in X-Remote-User.
func (a *aggregatedAPI) request(ctx context.Context, c *testcluster.Cluster) error {
	return a.whoami(ctx, c, "")
}

func (a *aggregatedAPI) whoami(ctx context.Context, c *testcluster.Cluster, query string) error {
	cfg, err := adminTLS(c)
	if err != nil {
		return err
	}
	var body []byte
	url := c.URL(testcluster.APIServer) + "/apis/" + aggregatedGroup + "/v1/whoami" + query
	if err := probeGet(ctx, cfg, url, &body); err != nil {
		return err
	}
	var got struct{ User string }
	if err := json.Unmarshal(body, &got); err != nil {
		return fmt.Errorf("GET %s: %w", url, err)
	}
	if got.User != "kubernetes-admin" {
		return fmt.Errorf("GET %s: the aggregated API saw user %q, want kubernetes-admin (admin.conf)", url, got.User)
	}
	return nil
}
