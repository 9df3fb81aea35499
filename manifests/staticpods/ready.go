package staticpods

import (
	"context"
	"crypto/tls"
	"fmt"
	"io"
	"net/http"
	"strings"
)

// readyz asks kube-apiserver at addr for /readyz, anonymously, and returns
// "" when it is ready, else why not. The answer is trusted without
// verifying the certificate: the caller verified what addr serves. A 401
// or 403 (anonymous requests refused) cannot tell and counts as ready:
// the restart was verified by the served certificate already.
func readyz(ctx context.Context, addr string) string {
	ctx, cancel := context.WithTimeout(ctx, handshakeTimeout)
	defer cancel()
	tr := &http.Transport{TLSClientConfig: &tls.Config{MinVersion: tls.VersionTLS12, InsecureSkipVerify: true}} //nolint:gosec // see above
	defer tr.CloseIdleConnections()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, "https://"+addr+"/readyz", nil)
	if err != nil {
		return err.Error()
	}
	resp, err := (&http.Client{Transport: tr}).Do(req)
	if err != nil {
		return fmt.Sprintf("/readyz: %v", err)
	}
	defer resp.Body.Close()
	switch resp.StatusCode {
	case http.StatusOK, http.StatusUnauthorized, http.StatusForbidden:
		return ""
	}
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
	return fmt.Sprintf("/readyz: %s %s", resp.Status, failedCheck(string(body)))
}

// failedCheck is the first failed check of a /readyz answer ("[-]etcd
// failed: reason withheld"), else its first line.
func failedCheck(body string) string {
	lines := strings.Split(strings.TrimSpace(body), "\n")
	for _, l := range lines {
		if strings.HasPrefix(l, "[-]") {
			return l
		}
	}
	return lines[0]
}
