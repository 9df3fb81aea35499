package staticpods

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/certctl/certctl/pki"
)

// EtcdMember is one etcd member as etcd's member list gives it.
type EtcdMember struct {
	// ID is the member's ID in decimal, as etcd's JSON gateway gives it.
	ID         string   `json:"ID,omitempty"`
	Name       string   `json:"name"`
	PeerURLs   []string `json:"peerURLs"`
	ClientURLs []string `json:"clientURLs"`
	// IsLearner: a learner does not vote, and counts for no quorum.
	IsLearner bool `json:"isLearner,omitempty"`
}

// EtcdMemberList is etcd's member list and who gave it.
type EtcdMemberList struct {
	Members []EtcdMember
	// From is the endpoint that answered.
	From string
	// MemberID is the ID of the member that answered (the response
	// header's member_id), "" when it gave none.
	MemberID string
}

// etcdHTTPClient is an HTTP client that verifies etcd's servers against
// roots and presents cert (nil: none), each request bounded by timeout.
func etcdHTTPClient(roots *x509.CertPool, cert *tls.Certificate, timeout time.Duration) *http.Client {
	cfg := &tls.Config{MinVersion: tls.VersionTLS12, RootCAs: roots}
	if cert != nil {
		cfg.Certificates = []tls.Certificate{*cert}
	}
	return &http.Client{Timeout: timeout, Transport: &http.Transport{TLSClientConfig: cfg}}
}

// ListEtcdMembers asks endpoints (etcd client URLs) for etcd's member
// list, through etcd's JSON gateway (POST /v3/cluster/member/list), which
// needs no etcd client library. It returns the first list given, whichever
// endpoint gave it. The servers are verified against cas (during a
// CA rotation, etcd/ca.crt's two: clients trust both), presenting cert
// (nil: none).
//
// Every endpoint is asked at once, so that nodes that hang cost one
// timeout in all, not one each: a fleet's cron must not wait minutes.
func ListEtcdMembers(ctx context.Context, cas []*x509.Certificate, cert *tls.Certificate, endpoints []string, timeout time.Duration) (*EtcdMemberList, error) {
	pool := x509.NewCertPool()
	for _, ca := range cas {
		pool.AddCert(ca)
	}
	client := etcdHTTPClient(pool, cert, timeout)
	defer client.CloseIdleConnections()
	return listEtcdMembers(ctx, client, endpoints, timeout)
}

// listEtcdMembers is ListEtcdMembers with client.
func listEtcdMembers(ctx context.Context, client *http.Client, endpoints []string, timeout time.Duration) (*EtcdMemberList, error) {
	var unique []string
	for _, ep := range endpoints {
		if ep = strings.TrimSuffix(ep, "/"); !slices.Contains(unique, ep) {
			unique = append(unique, ep)
		}
	}
	if len(unique) == 0 {
		return nil, errors.New("no etcd client URL to ask")
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel() // the others, once one answered
	type answer struct {
		i    int
		list *EtcdMemberList
		err  error
	}
	answers := make(chan answer, len(unique)) // buffered: the late ones end without a reader
	for i, ep := range unique {
		go func() {
			list, err := askMembers(ctx, client, ep, timeout)
			answers <- answer{i, list, err}
		}()
	}
	// The first list to come, not the first URL's: a URL that hangs
	// must not hold up a member that answered (every member gives the
	// same list).
	errs := make([]error, len(unique))
	for range unique {
		a := <-answers
		if a.err == nil {
			return a.list, nil
		}
		errs[a.i] = a.err
	}
	return nil, joined(errs) // in the order of the URLs
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

func askMembers(ctx context.Context, client *http.Client, endpoint string, timeout time.Duration) (*EtcdMemberList, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, endpoint+"/v3/cluster/member/list", strings.NewReader("{}"))
	if err != nil {
		return nil, fmt.Errorf("etcd member list from %s: %w", endpoint, err)
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := client.Do(req)
	if err != nil {
		if IsTimeout(err) {
			return nil, fmt.Errorf("etcd member list from %s: no answer within %v: %w", endpoint, timeout, context.DeadlineExceeded)
		}
		return nil, fmt.Errorf("etcd member list from %s: %w", endpoint, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return nil, fmt.Errorf("etcd member list from %s: %w", endpoint, err)
	}
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("etcd member list from %s: %s: %s", endpoint, pki.OneLine(resp.Status), bodyExcerpt(body))
	}
	var list struct {
		Header struct {
			MemberID string `json:"member_id"`
		} `json:"header"`
		Members []EtcdMember `json:"members"`
	}
	if err := json.Unmarshal(body, &list); err != nil {
		return nil, fmt.Errorf("etcd member list from %s: %w", endpoint, err)
	}
	if len(list.Members) == 0 {
		return nil, fmt.Errorf("etcd member list from %s: no members", endpoint)
	}
	return &EtcdMemberList{Members: list.Members, From: endpoint, MemberID: list.Header.MemberID}, nil
}

// maxBodyExcerpt bounds what an error quotes of an answer's body: etcd's
// gateway explains a refusal in one short JSON object; whatever else
// answered (a proxy's HTML page, up to the 1 MB read) must not flood a
// warning meant to be one line.
const maxBodyExcerpt = 200

// bodyExcerpt is body's start on one line: its lines joined by spaces,
// cut to maxBodyExcerpt bytes (at a character's start, "..." marking
// the cut), and quoted when it holds anything not printable.
func bodyExcerpt(body []byte) string {
	s := strings.Join(strings.Fields(string(body)), " ")
	if len(s) > maxBodyExcerpt {
		cut := maxBodyExcerpt
		for cut > 0 && !utf8.RuneStart(s[cut]) {
			cut--
		}
		s = s[:cut] + "..."
	}
	return pki.OneLine(s)
}

// IsTimeout says whether err is a timeout: the context's deadline, or
// the http.Client's or a dialer's own.
func IsTimeout(err error) bool {
	var ne net.Error
	return errors.Is(err, context.DeadlineExceeded) || errors.As(err, &ne) && ne.Timeout()
}
