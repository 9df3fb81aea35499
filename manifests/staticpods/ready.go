package staticpods

import (
	"context"
	"crypto/tls"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strings"

	"github.com/certctl/certctl/manifests"
	"github.com/certctl/certctl/pki"
)

// readyz asks kube-apiserver at addr for /readyz and returns "" when it is
// ready, else why not. It asks anonymously, as kube-apiserver lets anyone
// read /readyz (system:public-info-viewer); one that refuses anonymous
// requests (401: --anonymous-auth=false, as CIS benchmarks ask; 403: that
// binding removed) is asked again presenting client (apiServerClient), when
// not nil. A refusal then too cannot tell and counts as ready: the restart
// was verified by the served certificate already. The answer is trusted
// without verifying the certificate: the caller verified what addr serves.
func readyz(ctx context.Context, addr string, client *tls.Certificate) string {
	code, why := askReadyz(ctx, addr, nil)
	if (code == http.StatusUnauthorized || code == http.StatusForbidden) && client != nil {
		code, why = askReadyz(ctx, addr, client)
	}
	switch code {
	case http.StatusOK, http.StatusUnauthorized, http.StatusForbidden:
		return ""
	}
	return why
}

// askReadyz GETs /readyz of addr, presenting client when not nil, and
// returns the status code (0 when no answer came) and, when it is not 200,
// why kube-apiserver is not ready.
func askReadyz(ctx context.Context, addr string, client *tls.Certificate) (int, string) {
	ctx, cancel := context.WithTimeout(ctx, handshakeTimeout)
	defer cancel()
	cfg := &tls.Config{MinVersion: tls.VersionTLS12, InsecureSkipVerify: true} //nolint:gosec // see readyz
	if client != nil {
		cfg.Certificates = []tls.Certificate{*client}
	}
	tr := &http.Transport{TLSClientConfig: cfg}
	defer tr.CloseIdleConnections()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, "https://"+addr+"/readyz", nil)
	if err != nil {
		return 0, err.Error()
	}
	resp, err := (&http.Client{Transport: tr}).Do(req)
	if err != nil {
		return 0, fmt.Sprintf("/readyz: %v", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode == http.StatusOK {
		return resp.StatusCode, ""
	}
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
	// The first failed check ("[-]etcd failed: reason withheld"), else the
	// answer's first line.
	lines := strings.Split(strings.TrimSpace(string(body)), "\n")
	why := lines[0]
	if i := slices.IndexFunc(lines, func(l string) bool { return strings.HasPrefix(l, "[-]") }); i >= 0 {
		why = lines[i]
	}
	return resp.StatusCode, fmt.Sprintf("/readyz: %s %s", resp.Status, why)
}

// apiServerClient returns the client certificate of the kube-apiserver
// manifest in dir, which readyz presents to a kube-apiserver that refuses
// anonymous requests: its --kubelet-client-certificate and -key (kubeadm's
// client certificate of kube-apiserver, signed by the CA it trusts for
// clients); nil when there is none or it cannot be read.
func apiServerClient(dir string) *tls.Certificate {
	s, err := Load(dir)
	if err != nil {
		return nil
	}
	for _, m := range s.Manifests {
		if m.Component != pki.KubeAPIServer {
			continue
		}
		certFlag, keyFlag := m.Flag("kubelet-client-certificate"), m.Flag("kubelet-client-key")
		certFile, ok := manifests.HostPath(m.pod, m.container, certFlag)
		keyFile, ok2 := manifests.HostPath(m.pod, m.container, keyFlag)
		if certFlag == "" || keyFlag == "" || !ok || !ok2 {
			return nil
		}
		c, err := pki.ReadTLSPair(certFile, keyFile)
		if err != nil {
			return nil
		}
		return &c
	}
	return nil
}
