package staticpods

import (
	"context"
	"crypto/tls"
	"fmt"
	"io"
	"net/http"
	"slices"
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
	// The first failed check ("[-]etcd failed: reason withheld"), else the
	// answer's first line.
	lines := strings.Split(strings.TrimSpace(string(body)), "\n")
	why := lines[0]
	if i := slices.IndexFunc(lines, func(l string) bool { return strings.HasPrefix(l, "[-]") }); i >= 0 {
		why = lines[i]
	}
	return fmt.Sprintf("/readyz: %s %s", resp.Status, why)
}
