package e2e

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"

	"github.com/certctl/certctl/internal/testcluster"
)

// The probers of this file complete testcluster.StartTraffic's kinds for the rotations of the
// etcd CA and of the front-proxy CA on three nodes (carotate_ha_others_test.go): an etcd client
// that fails over between members as kube-apiserver's does, and a request to an aggregated API,
// which kube-apiserver proxies with its front-proxy client certificate.

// probeInterval is the pace of every prober here, as testcluster.StartTraffic's default.
const probeInterval = 50 * time.Millisecond

// probeCounts counts one prober's requests that went out from, or through, one node.
type probeCounts struct {
	OK, Failed, NotReady int
	Errors               []string // the first failures, with their time
}

// prober makes request(ctx, c) every probeInterval for every node c, one stream per node, until
// stop. With gated, a request is sent only while c's kube-apiserver's latest GET /readyz,
// made every probeInterval, answered 200 (the load balancer of testcluster's ReadyOnly).
type prober struct {
	name   string
	nodes  []*testcluster.Cluster
	cancel context.CancelFunc
	wg     sync.WaitGroup

	mu     sync.Mutex
	counts map[string]*probeCounts
	ready  map[string]bool
}

func startProber(ctx context.Context, name string, nodes []*testcluster.Cluster, gated bool, request func(context.Context, *testcluster.Cluster) error) *prober {
	ctx, cancel := context.WithCancel(ctx)
	p := &prober{name: name, nodes: nodes, cancel: cancel, counts: map[string]*probeCounts{}, ready: map[string]bool{}}
	for _, c := range nodes {
		p.counts[c.NodeName()] = &probeCounts{}
		if gated {
			p.checkReady(ctx, c)
			p.wg.Go(func() { p.every(ctx, func() { p.checkReady(ctx, c) }) })
		}
		p.wg.Go(func() {
			p.every(ctx, func() {
				p.mu.Lock()
				skip := gated && !p.ready[c.NodeName()]
				p.mu.Unlock()
				if skip {
					p.record(ctx, c, nil, true)
					return
				}
				rctx, cancel := context.WithTimeout(ctx, 5*time.Second)
				err := request(rctx, c)
				cancel()
				p.record(ctx, c, err, false)
			})
		})
	}
	return p
}

func (p *prober) every(ctx context.Context, f func()) {
	tick := time.NewTicker(probeInterval)
	defer tick.Stop()
	for {
		f()
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
	}
}

func (p *prober) checkReady(ctx context.Context, c *testcluster.Cluster) {
	rctx, cancel := context.WithTimeout(ctx, time.Second)
	defer cancel()
	//nolint:gosec // a load balancer's health check, as kubeadm's HAProxy example makes it
	err := probeGet(rctx, &tls.Config{InsecureSkipVerify: true}, c.URL(testcluster.APIServer)+"/readyz", nil)
	if ctx.Err() != nil {
		return
	}
	p.mu.Lock()
	p.ready[c.NodeName()] = err == nil
	p.mu.Unlock()
}

func (p *prober) record(ctx context.Context, c *testcluster.Cluster, err error, notReady bool) {
	if ctx.Err() != nil {
		return // cut short by stop
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	n := p.counts[c.NodeName()]
	switch {
	case notReady:
		n.NotReady++
	case err == nil:
		n.OK++
	default:
		n.Failed++
		if len(n.Errors) < 5 {
			n.Errors = append(n.Errors, time.Now().Format("15:04:05.000 ")+err.Error())
		}
	}
}

// stop ends the streams and returns the counts per node.
func (p *prober) stop() map[string]probeCounts {
	p.cancel()
	p.wg.Wait()
	out := map[string]probeCounts{}
	for k, v := range p.counts {
		out[k] = *v
	}
	return out
}

func (p *prober) summary(counts map[string]probeCounts) string {
	var b strings.Builder
	for _, c := range p.nodes {
		n := counts[c.NodeName()]
		fmt.Fprintf(&b, "  %s from/through %s: ok %d, failed %d, not ready %d\n", p.name, c.NodeName(), n.OK, n.Failed, n.NotReady)
		for _, e := range n.Errors {
			fmt.Fprintf(&b, "      %s\n", e)
		}
	}
	return b.String()
}

// probeGet makes one GET on a new connection and returns an error unless the answer is 200; body,
// if not nil, receives the answer.
func probeGet(ctx context.Context, cfg *tls.Config, url string, body *[]byte) error {
	return probeDo(ctx, cfg, http.MethodGet, url, nil, body)
}

func probeDo(ctx context.Context, cfg *tls.Config, method, url string, in []byte, body *[]byte) error {
	req, err := http.NewRequestWithContext(ctx, method, url, bytes.NewReader(in))
	if err != nil {
		return err
	}
	if in != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	tr := &http.Transport{TLSClientConfig: cfg, DisableKeepAlives: true, Proxy: nil}
	defer tr.CloseIdleConnections()
	resp, err := (&http.Client{Transport: tr}).Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	if err != nil {
		return fmt.Errorf("%s %s: read answer: %w", method, url, err)
	}
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("%s %s: %s: %s", method, url, resp.Status, strings.TrimSpace(string(data[:min(len(data), 300)])))
	}
	if body != nil {
		*body = data
	}
	return nil
}

// etcdFailover is kube-apiserver's etcd client on each node: apiserver-etcd-client.crt/key and
// etcd/ca.crt of that node, read before each request (where kube-apiserver reads them when it
// starts, and certctl restarts it after each stage), and --etcd-servers as the harness writes
// it, the node's own member first then the others. A request is a linearizable read of
// kube-system's Namespace through etcd's JSON gateway; a member that does not answer it (refused,
// reset, timeout, not 200) is left for the next, as etcd's client balancer does, within the
// request's 5 s. The request fails only if no member answered. Every attempt's error is counted
// per member, and an error of TLS trust (x509, a TLS alert about a certificate) separately: a
// restarting member explains a refused connection, never a certificate that is not trusted.
type etcdFailover struct {
	nodes []*testcluster.Cluster

	mu     sync.Mutex
	misses map[string]int      // member (node name) -> attempts that failed
	trust  map[string][]string // member -> TLS trust errors
}

func newEtcdFailover(nodes []*testcluster.Cluster) *etcdFailover {
	return &etcdFailover{nodes: nodes, misses: map[string]int{}, trust: map[string][]string{}}
}

// kubeSystemKey is where kube-apiserver stores Namespace kube-system in etcd.
var kubeSystemKey = base64.StdEncoding.EncodeToString([]byte("/registry/namespaces/kube-system"))

func (e *etcdFailover) request(ctx context.Context, c *testcluster.Cluster) error {
	pki := c.PKIDir()
	cfg, err := tlsFiles(filepath.Join(pki, "etcd", "ca.crt"), filepath.Join(pki, "apiserver-etcd-client.crt"), filepath.Join(pki, "apiserver-etcd-client.key"))
	if err != nil {
		return err
	}
	members := []*testcluster.Cluster{c}
	for _, o := range e.nodes {
		if o != c {
			members = append(members, o)
		}
	}
	var errs []error
	for i, m := range members {
		actx, cancel := ctx, context.CancelFunc(func() {})
		if deadline, ok := ctx.Deadline(); ok && i < len(members)-1 {
			// Leave the other members time to answer.
			actx, cancel = context.WithTimeout(ctx, time.Until(deadline)/time.Duration(len(members)-i))
		}
		var body []byte
		err := probeDo(actx, cfg, http.MethodPost, m.URL(testcluster.Etcd)+"/v3/kv/range", []byte(`{"key":"`+kubeSystemKey+`"}`), &body)
		cancel()
		if err == nil && !bytes.Contains(body, []byte(`"count":"1"`)) {
			err = fmt.Errorf("range of Namespace kube-system on %s: %s", m.NodeName(), body)
		}
		if err == nil {
			return nil
		}
		e.miss(m.NodeName(), err)
		errs = append(errs, fmt.Errorf("%s: %w", m.NodeName(), err))
	}
	return errors.Join(errs...)
}

func (e *etcdFailover) miss(member string, err error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.misses[member]++
	if trustError(err) {
		e.trust[member] = append(e.trust[member], time.Now().Format("15:04:05.000 ")+err.Error())
	}
}

// trustError says whether err is a TLS handshake refused for a certificate (by us or by the
// peer), or a trust file that could not be read: not a connection that a restart cut.
func trustError(err error) bool {
	var unknown x509.UnknownAuthorityError
	var invalid x509.CertificateInvalidError
	var hostname x509.HostnameError
	return errors.As(err, &unknown) || errors.As(err, &invalid) || errors.As(err, &hostname) || trustText(err.Error())
}

// trustText is trustError for an error's text.
func trustText(s string) bool {
	return strings.Contains(s, "x509:") || strings.Contains(s, "certificate")
}

// tlsFiles reads a client's trust and key pair now.
func tlsFiles(caFile, certFile, keyFile string) (*tls.Config, error) {
	pool := x509.NewCertPool()
	data, err := os.ReadFile(caFile)
	if err != nil {
		return nil, err
	}
	if !pool.AppendCertsFromPEM(data) {
		return nil, fmt.Errorf("read %s: no PEM certificate", caFile)
	}
	pair, err := tls.LoadX509KeyPair(certFile, keyFile)
	if err != nil {
		return nil, fmt.Errorf("load %s: %w", certFile, err)
	}
	return &tls.Config{RootCAs: pool, Certificates: []tls.Certificate{pair}, MinVersion: tls.VersionTLS12}, nil
}

// adminTLS is kubectl's TLS settings from the node's admin.conf, read now.
func adminTLS(c *testcluster.Cluster) (*tls.Config, error) {
	cfg, err := clientcmd.BuildConfigFromFlags("", c.Kubeconfig("admin.conf"))
	if err != nil {
		return nil, fmt.Errorf("load admin.conf: %w", err)
	}
	return rest.TLSConfigFor(cfg)
}
