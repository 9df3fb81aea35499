package e2e

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"net/http"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	authnv1 "k8s.io/api/authentication/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"

	"github.com/certctl/certctl/internal/testcluster"
	"github.com/certctl/certctl/pki"
)

// TestRotateOtherCAs rotates, each on a fresh one-node control plane run by
// the harness Kubelet, the etcd CA, the front-proxy CA and the
// service-account key pair through trust, reissue and finish with
// --restart-control-plane, and checks after each stage what depends on it:
// admin.conf lists namespaces (kube-apiserver reads etcd with its client
// certificate and etcd's CA: etcd-ca); front-proxy-client may assert a user
// through the request headers (front-proxy-ca); a token issued before the
// rotation authenticates until finish and is refused after it, and a token
// issued at each stage authenticates (sa). For front-proxy-ca, a node
// removed from the cluster at reissue (cp-gone, added to the cluster record)
// keeps the old CA in extension-apiserver-authentication after this node's
// finish, and forgetting it, the last node not finished, removes it.
func TestRotateOtherCAs(t *testing.T) {
	for _, name := range []string{"etcd-ca", "front-proxy-ca", "sa"} {
		t.Run(name, func(t *testing.T) {
			c := testcluster.Start(t, testcluster.Options{})
			ctx := testCtx(t, 10*time.Minute)
			if _, err := c.StartKubelet(ctx); err != nil {
				t.Fatal(err)
			}
			cs := adminClient(t, c)
			var oldToken string
			if name == "sa" {
				if _, err := cs.CoreV1().ServiceAccounts("default").Create(ctx, &corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Name: "rotate"}}, metav1.CreateOptions{}); err != nil {
					t.Fatal(err)
				}
				oldToken = saToken(t, ctx, c)
			}
			oldFrontProxy := readCert(t, filepath.Join(c.PKIDir(), "front-proxy-ca.crt"))
			for _, stage := range []string{"trust", "reissue", "finish"} {
				if name == "front-proxy-ca" && stage == "finish" {
					// A node removed from the cluster at reissue: this node's
					// finish is not the last, and keeps the old CA published.
					addGoneNode(t, ctx, adminClient(t, c), "certctl-ca-rotation-front-proxy-ca", "cp-gone")
				}
				out, err := runCertctl(t, ctx, "ca", "rotate", name, "--cert-dir", c.PKIDir(), "--kubeconfig-dir", c.KubeconfigDir(),
					"--manifest-dir", c.ManifestDir(), "--restart-control-plane", "--restart-timeout", "3m", "--max-token-lifetime", "1s")
				if err != nil {
					t.Fatalf("ca rotate %s (%s): %v\n%s", name, stage, err, out)
				}
				// certctl's restart waits for the new kube-apiserver to serve, not
				// for its RBAC caches: until they are, it answers "forbidden".
				if err := eventually(ctx, 30*time.Second, func() error {
					_, err := adminClient(t, c).CoreV1().Namespaces().List(ctx, metav1.ListOptions{})
					return err
				}); err != nil {
					t.Fatalf("after %s: admin.conf cannot list namespaces: %v", stage, err)
				}
				switch name {
				case "front-proxy-ca":
					cfg := clientTLS(t, c, "ca.crt", "front-proxy-client")
					if code := selfReview(t, ctx, c, &cfg.Certificates[0], "", "some-user"); code != http.StatusCreated {
						t.Errorf("after %s: front-proxy-client asserting a user: HTTP %d, want 201", stage, code)
					}
					if stage == "finish" {
						forgetGoneNode(t, ctx, c, adminClient(t, c), oldFrontProxy)
					}
				case "sa":
					if code := selfReview(t, ctx, c, nil, saToken(t, ctx, c), ""); code != http.StatusCreated {
						t.Errorf("after %s: a new token: HTTP %d, want 201", stage, code)
					}
					want := http.StatusCreated
					if stage == "finish" {
						want = http.StatusUnauthorized
					}
					if code := selfReview(t, ctx, c, nil, oldToken, ""); code != want {
						t.Errorf("after %s: the token of the old key: HTTP %d, want %d", stage, code, want)
					}
				}
			}
		})
	}
}

// eventually calls f until it succeeds or d has passed, and returns its
// last error.
func eventually(ctx context.Context, d time.Duration, f func() error) error {
	deadline := time.Now().Add(d)
	for {
		err := f()
		if err == nil || time.Now().After(deadline) || ctx.Err() != nil {
			return err
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// saToken returns a 1-hour token of default/rotate.
func saToken(t *testing.T, ctx context.Context, c *testcluster.Cluster) string {
	t.Helper()
	exp := int64(3600)
	tr, err := adminClient(t, c).CoreV1().ServiceAccounts("default").CreateToken(ctx, "rotate",
		&authnv1.TokenRequest{Spec: authnv1.TokenRequestSpec{ExpirationSeconds: &exp}}, metav1.CreateOptions{})
	if err != nil {
		t.Fatalf("request a token: %v", err)
	}
	return tr.Status.Token
}

// selfReview POSTs a SelfSubjectReview with a client certificate (asserting
// user through the request headers) or a bearer token, trusting ca.crt,
// and returns the HTTP status.
func selfReview(t *testing.T, ctx context.Context, c *testcluster.Cluster, cert *tls.Certificate, token, user string) int {
	t.Helper()
	cfg := clientTLS(t, c, "ca.crt", "")
	if cert != nil {
		cfg.GetClientCertificate = alwaysPresent(*cert)
	}
	tr := &http.Transport{TLSClientConfig: cfg}
	defer tr.CloseIdleConnections()
	body := []byte(`{"apiVersion":"authentication.k8s.io/v1","kind":"SelfSubjectReview"}`)
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.URL(testcluster.APIServer)+"/apis/authentication.k8s.io/v1/selfsubjectreviews", bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	if user != "" {
		req.Header.Set("X-Remote-User", user)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := (&http.Client{Transport: tr}).Do(req)
	if err != nil {
		t.Fatalf("POST SelfSubjectReview: %v", err)
	}
	resp.Body.Close()
	return resp.StatusCode
}

// addGoneNode adds to the cluster record cm node, at reissue with its
// components restarted and no endpoint: a control-plane node removed from
// the cluster before its finish.
func addGoneNode(t *testing.T, ctx context.Context, cs kubernetes.Interface, cm, node string) {
	t.Helper()
	got, err := cs.CoreV1().ConfigMaps("kube-system").Get(ctx, cm, metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	var rec map[string]any
	if err := json.Unmarshal([]byte(got.Data["rotation.json"]), &rec); err != nil {
		t.Fatal(err)
	}
	rec["nodes"].(map[string]any)[node] = map[string]any{"stage": "reissue", "restarted": true, "updated": time.Now().UTC().Format(time.RFC3339)}
	data, err := json.Marshal(rec)
	if err != nil {
		t.Fatal(err)
	}
	got.Data["rotation.json"] = string(data)
	if _, err := cs.CoreV1().ConfigMaps("kube-system").Update(ctx, got, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
}

// forgetGoneNode checks that the finish of front-proxy-ca on the one real
// node, with cp-gone still at reissue, left the old CA in
// extension-apiserver-authentication, and that forgetting cp-gone, the last
// node not finished, removes it, as the last node's finish does.
func forgetGoneNode(t *testing.T, ctx context.Context, c *testcluster.Cluster, cs kubernetes.Interface, old *x509.Certificate) {
	t.Helper()
	holdsOld := func() bool {
		cm, err := cs.CoreV1().ConfigMaps("kube-system").Get(ctx, "extension-apiserver-authentication", metav1.GetOptions{})
		if err != nil {
			t.Fatal(err)
		}
		certs, err := pki.ParseCerts([]byte(cm.Data["requestheader-client-ca-file"]))
		if err != nil {
			t.Fatal(err)
		}
		return slices.ContainsFunc(certs, old.Equal)
	}
	if !holdsOld() {
		t.Fatal("finish with node cp-gone at reissue removed the old front-proxy CA from extension-apiserver-authentication")
	}
	out, err := runCertctl(t, ctx, "ca", "rotate", "front-proxy-ca", "--forget-node", "cp-gone", "--cert-dir", c.PKIDir(), "--kubeconfig-dir", c.KubeconfigDir(), "--manifest-dir", c.ManifestDir())
	if err != nil {
		t.Fatalf("ca rotate front-proxy-ca --forget-node cp-gone: %v\n%s", err, out)
	}
	if holdsOld() || !strings.Contains(out, "removed it from ConfigMap kube-system/extension-apiserver-authentication") {
		t.Errorf("--forget-node cp-gone, the last node not finished, left the old front-proxy CA in extension-apiserver-authentication:\n%s", out)
	}
}
