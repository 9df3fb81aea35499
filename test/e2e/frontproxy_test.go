package e2e

import (
	"bytes"
	"crypto/tls"
	"crypto/x509/pkix"
	"encoding/json"
	"io"
	"net/http"
	"testing"
	"time"

	authnv1 "k8s.io/api/authentication/v1"

	"github.com/certctl/certctl/internal/testcluster"
)

// TestFrontProxy proves that certctl's front-proxy-ca and front-proxy-client work as the
// aggregation layer uses them (--requestheader-client-ca-file=front-proxy-ca.crt,
// --requestheader-allowed-names=front-proxy-client): a client presenting front-proxy-client.crt may
// assert a user in X-Remote-User/X-Remote-Group, and no other client certificate may.
func TestFrontProxy(t *testing.T) {
	c := testcluster.Start(t, testcluster.Options{})
	const user = "some-user"

	// whoami POSTs a SelfSubjectReview presenting cert and asserting user in system:masters through
	// the request headers; it returns the HTTP status and, on success, who the apiserver says we are.
	whoami := func(t *testing.T, cert *tls.Certificate) (int, authnv1.UserInfo) {
		t.Helper()
		cfg := clientTLS(t, c, "ca.crt", "")
		if cert != nil {
			cfg.GetClientCertificate = alwaysPresent(*cert)
		}
		tr := &http.Transport{TLSClientConfig: cfg}
		defer tr.CloseIdleConnections()
		body := []byte(`{"apiVersion":"authentication.k8s.io/v1","kind":"SelfSubjectReview"}`)
		req, err := http.NewRequestWithContext(testCtx(t, 30*time.Second), http.MethodPost,
			c.URL(testcluster.APIServer)+"/apis/authentication.k8s.io/v1/selfsubjectreviews", bytes.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("X-Remote-User", user)
		req.Header.Set("X-Remote-Group", "system:masters")
		req.Header.Set("X-Remote-Extra-Scopes", "e2e")
		resp, err := (&http.Client{Transport: tr}).Do(req)
		if err != nil {
			t.Fatalf("POST SelfSubjectReview: %v", err)
		}
		defer resp.Body.Close()
		data, err := io.ReadAll(resp.Body)
		if err != nil {
			t.Fatal(err)
		}
		var ssr authnv1.SelfSubjectReview
		if resp.StatusCode == http.StatusCreated {
			if err := json.Unmarshal(data, &ssr); err != nil {
				t.Fatalf("decode SelfSubjectReview %s: %v", data, err)
			}
		}
		t.Logf("HTTP %s, user %q groups %q", resp.Status, ssr.Status.UserInfo.Username, ssr.Status.UserInfo.Groups)
		return resp.StatusCode, ssr.Status.UserInfo
	}
	loadPair := func(t *testing.T, base string) *tls.Certificate {
		t.Helper()
		cfg := clientTLS(t, c, "ca.crt", base)
		return &cfg.Certificates[0]
	}

	t.Run("front-proxy-client may assert a user", func(t *testing.T) {
		status, u := whoami(t, loadPair(t, "front-proxy-client"))
		if status != http.StatusCreated || u.Username != user {
			t.Fatalf("front-proxy-client asserting %s: HTTP %d as %q, want 201 as %s", user, status, u.Username, user)
		}
		if len(u.Groups) == 0 || u.Groups[0] != "system:masters" {
			t.Errorf("groups = %q, want system:masters first", u.Groups)
		}
		if got := u.Extra["scopes"]; len(got) != 1 || got[0] != "e2e" {
			t.Errorf("extra scopes = %q, want [e2e] from X-Remote-Extra-Scopes", got)
		}
	})

	t.Run("a cluster client certificate may not", func(t *testing.T) {
		// admin.conf's certificate is valid, from ca.crt: the apiserver takes it as
		// kubernetes-admin and ignores the headers.
		cfg, err := c.RESTConfig("admin.conf")
		if err != nil {
			t.Fatal(err)
		}
		pair, err := tls.X509KeyPair(cfg.CertData, cfg.KeyData)
		if err != nil {
			t.Fatalf("load admin.conf's client certificate: %v", err)
		}
		status, u := whoami(t, &pair)
		if u.Username == user {
			t.Fatalf("a non-front-proxy certificate asserted user %s", user)
		}
		if status != http.StatusCreated || u.Username != "kubernetes-admin" {
			t.Errorf("admin.conf with request headers: HTTP %d as %q, want 201 as kubernetes-admin", status, u.Username)
		}
	})

	t.Run("front-proxy-ca certificate with another name may not", func(t *testing.T) {
		// Signed by certctl's front-proxy-ca but not named front-proxy-client: refused by
		// --requestheader-allowed-names, and unknown to --client-ca-file.
		cert := loadIssuer(t, c, "front-proxy-ca").clientCert(t, pkix.Name{CommonName: "not-front-proxy-client"})
		status, u := whoami(t, &cert)
		if u.Username == user || status != http.StatusUnauthorized {
			t.Errorf("front-proxy-ca certificate with CN not-front-proxy-client: HTTP %d as %q, want 401", status, u.Username)
		}
	})

	t.Run("no client certificate may not", func(t *testing.T) {
		status, u := whoami(t, nil)
		if u.Username == user {
			t.Fatalf("an anonymous client asserted user %s", user)
		}
		if status == http.StatusCreated && u.Username != "system:anonymous" {
			t.Errorf("anonymous request: HTTP %d as %q, want system:anonymous or a refusal", status, u.Username)
		}
	})
}
