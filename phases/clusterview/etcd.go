package clusterview

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
)

// Member is one etcd member as etcd's member list gives it.
type Member struct {
	Name       string   `json:"name"`
	PeerURLs   []string `json:"peerURLs"`
	ClientURLs []string `json:"clientURLs"`
}

// memberList asks the first of endpoints (etcd client URLs) that answers
// for etcd's member list, through etcd's JSON gateway (POST
// /v3/cluster/member/list), which needs no etcd client library. It
// returns the members and the endpoint that answered. The servers are
// verified against ca, presenting cert (nil: none).
func memberList(ctx context.Context, ca *x509.Certificate, cert *tls.Certificate, endpoints []string) ([]Member, string, error) {
	pool := x509.NewCertPool()
	pool.AddCert(ca)
	cfg := &tls.Config{MinVersion: tls.VersionTLS12, RootCAs: pool}
	if cert != nil {
		cfg.Certificates = []tls.Certificate{*cert}
	}
	client := &http.Client{Timeout: timeout, Transport: &http.Transport{TLSClientConfig: cfg}}
	defer client.CloseIdleConnections()
	var errs []error
	seen := map[string]bool{}
	for _, ep := range endpoints {
		ep = strings.TrimSuffix(ep, "/")
		if seen[ep] {
			continue
		}
		seen[ep] = true
		members, err := askMembers(ctx, client, ep)
		if err == nil {
			return members, ep, nil
		}
		errs = append(errs, err)
	}
	if len(errs) == 0 {
		return nil, "", errors.New("no etcd client URL to ask")
	}
	return nil, "", joined(errs)
}

// joined is errors.Join on one line: each endpoint's failure, separated
// by "; ", so that the error and the warning it makes stay one line.
type joined []error

func (j joined) Error() string {
	msgs := make([]string, len(j))
	for i, err := range j {
		msgs[i] = err.Error()
	}
	return strings.Join(msgs, "; ")
}

func (j joined) Unwrap() []error { return j }

func askMembers(ctx context.Context, client *http.Client, endpoint string) ([]Member, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, endpoint+"/v3/cluster/member/list", strings.NewReader("{}"))
	if err != nil {
		return nil, fmt.Errorf("etcd member list from %s: %w", endpoint, err)
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := client.Do(req)
	if err != nil {
		return nil, fmt.Errorf("etcd member list from %s: %w", endpoint, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return nil, fmt.Errorf("etcd member list from %s: %w", endpoint, err)
	}
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("etcd member list from %s: %s: %s", endpoint, resp.Status, strings.TrimSpace(string(body)))
	}
	var list struct {
		Members []Member `json:"members"`
	}
	if err := json.Unmarshal(body, &list); err != nil {
		return nil, fmt.Errorf("etcd member list from %s: %w", endpoint, err)
	}
	if len(list.Members) == 0 {
		return nil, fmt.Errorf("etcd member list from %s: no members", endpoint)
	}
	return list.Members, nil
}
