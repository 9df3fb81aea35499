package testcluster

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// args returns the command line of component name, followed by Options.ExtraArgs[name].
// The flags are kubeadm's static-pod manifests' (cmd/kubeadm/app/phases/controlplane/manifests.go,
// phases/etcd/local.go) with loopback addresses, free ports and this cluster's folders.
func (c *Cluster) args(name string) []string {
	pki := c.PKIDir()
	p := func(f string) string { return filepath.Join(pki, f) }
	var a []string
	switch name {
	case Etcd:
		// On SIGTERM etcd waits up to its request timeout (5s + 2 election timeouts = 7s) for the
		// apiserver's open gRPC streams: Restart(Etcd) takes ~8s while kube-apiserver runs.
		client := c.URL(Etcd)
		peer := c.URL(etcdPeer)
		initial := c.etcdCluster
		if initial == "" {
			initial = c.nodeName + "=" + peer
		}
		a = []string{
			"--name=" + c.nodeName,
			"--data-dir=" + filepath.Join(c.opts.Dir, "var", "lib", "etcd"),
			"--listen-client-urls=" + client,
			"--advertise-client-urls=" + client,
			"--listen-peer-urls=" + peer,
			"--initial-advertise-peer-urls=" + peer,
			"--initial-cluster=" + initial,
			"--cert-file=" + p("etcd/server.crt"),
			"--key-file=" + p("etcd/server.key"),
			"--client-cert-auth=true",
			"--trusted-ca-file=" + p("etcd/ca.crt"),
			"--peer-cert-file=" + p("etcd/peer.crt"),
			"--peer-key-file=" + p("etcd/peer.key"),
			"--peer-client-cert-auth=true",
			"--peer-trusted-ca-file=" + p("etcd/ca.crt"),
			"--snapshot-count=10000",
		}
	case APIServer:
		etcdServers := c.etcdServers
		if etcdServers == "" {
			etcdServers = c.URL(Etcd)
		}
		a = []string{
			"--advertise-address=" + c.host,
			"--bind-address=" + c.host,
			"--secure-port=" + fmt.Sprint(c.port[APIServer]),
			// On a loopback advertise address the default "lease" reconciler makes the apiserver
			// exit ("cannot use public IP ... with endpoint reconciler"); nothing here needs the
			// kubernetes Service's endpoints.
			"--endpoint-reconciler-type=none",
			// With the default 0 the apiserver does not end open watches on SIGTERM, and its HTTP
			// server then waits for kube-controller-manager's watch connections until it is killed
			// (15s+ per Restart). With a grace period it ends them and exits in ~1-3s.
			"--shutdown-watch-termination-grace-period=2s",
			"--cert-dir=" + c.runDir(APIServer),
			"--allow-privileged=true",
			"--authorization-mode=Node,RBAC",
			"--client-ca-file=" + p("ca.crt"),
			"--enable-admission-plugins=NodeRestriction",
			"--enable-bootstrap-token-auth=true",
			"--etcd-servers=" + etcdServers,
			"--etcd-cafile=" + p("etcd/ca.crt"),
			"--etcd-certfile=" + p("apiserver-etcd-client.crt"),
			"--etcd-keyfile=" + p("apiserver-etcd-client.key"),
			"--kubelet-client-certificate=" + p("apiserver-kubelet-client.crt"),
			"--kubelet-client-key=" + p("apiserver-kubelet-client.key"),
			"--kubelet-preferred-address-types=InternalIP,ExternalIP,Hostname",
			"--proxy-client-cert-file=" + p("front-proxy-client.crt"),
			"--proxy-client-key-file=" + p("front-proxy-client.key"),
			"--requestheader-allowed-names=front-proxy-client",
			"--requestheader-client-ca-file=" + p("front-proxy-ca.crt"),
			"--requestheader-extra-headers-prefix=X-Remote-Extra-",
			"--requestheader-group-headers=X-Remote-Group",
			"--requestheader-username-headers=X-Remote-User",
			"--service-account-issuer=" + ServiceAccountIssuer,
			"--service-account-key-file=" + p("sa.pub"),
			"--service-account-signing-key-file=" + p("sa.key"),
			"--service-cluster-ip-range=" + ServiceCIDR,
			"--tls-cert-file=" + p("apiserver.crt"),
			"--tls-private-key-file=" + p("apiserver.key"),
		}
	case ControllerManager:
		kubeconfig := c.Kubeconfig("controller-manager.conf")
		a = []string{
			"--kubeconfig=" + kubeconfig,
			// Delegated authentication and authorization of KCM's own endpoints, as kubeadm sets
			// them; they need the apiserver's --requestheader-* flags above, or KCM's log floods.
			"--authentication-kubeconfig=" + kubeconfig,
			"--authorization-kubeconfig=" + kubeconfig,
			"--bind-address=" + c.host,
			"--secure-port=" + fmt.Sprint(c.port[ControllerManager]),
			"--cert-dir=" + c.runDir(ControllerManager),
			"--client-ca-file=" + p("ca.crt"),
			"--requestheader-client-ca-file=" + p("front-proxy-ca.crt"),
			"--root-ca-file=" + p("ca.crt"),
			"--service-account-private-key-file=" + p("sa.key"),
			"--cluster-signing-cert-file=" + p("ca.crt"),
			"--cluster-signing-key-file=" + p("ca.key"),
			// Only the CSR controllers, which the tests of the certificates API need, and the
			// publisher of the root CA to pods (ConfigMap kube-root-ca.crt in every namespace),
			// which the traffic prober's service-account client trusts; the other controllers
			// would need nodes and a scheduler.
			"--controllers=csrsigning,csrapproving,csrcleaner,root-ca-cert-publisher",
			// One KCM per node with NewHA, as kubeadm runs them; the lease
			// kube-system/kube-controller-manager elects the one that works.
			"--leader-elect=" + fmt.Sprint(c.etcdCluster != ""),
			// With its own credentials KCM may not update certificatesigningrequests/status, and
			// approved CSRs are never signed.
			"--use-service-account-credentials=true",
		}
	case Scheduler:
		kubeconfig := c.Kubeconfig("scheduler.conf")
		a = []string{
			"--kubeconfig=" + kubeconfig,
			"--authentication-kubeconfig=" + kubeconfig,
			"--authorization-kubeconfig=" + kubeconfig,
			"--bind-address=" + c.host,
			"--secure-port=" + fmt.Sprint(c.port[Scheduler]),
			"--cert-dir=" + c.runDir(Scheduler),
			// The lease kube-system/kube-scheduler elects one scheduler among the nodes.
			"--leader-elect=true",
		}
	}
	return append(a, c.opts.ExtraArgs[name]...)
}

// waitReady polls the health endpoint of component name until it answers ok, the process exits,
// or ctx ends.
func (c *Cluster) waitReady(ctx context.Context, name string, p *process) error {
	client, url, err := c.healthClient(name)
	if err != nil {
		return err
	}
	defer client.CloseIdleConnections()
	for {
		if done, werr := p.exited(); done {
			p.stopping.Store(true) // reported here; Stop need not report it again
			return fmt.Errorf("wait for %s: exited during start-up (%v); see %s", name, werr, p.Log)
		}
		ok, msg := probe(ctx, client, url, name)
		if ok {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("wait for %s at %s: %w (last answer: %s); see %s", name, url, ctx.Err(), msg, p.Log)
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// probe makes one health request: ok on 200 and, from etcd, "health":"true" in the answer.
func probe(ctx context.Context, client *http.Client, url, name string) (bool, string) {
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return false, err.Error()
	}
	resp, err := client.Do(req)
	if err != nil {
		return false, err.Error()
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
	msg := fmt.Sprintf("%s: %s", resp.Status, strings.TrimSpace(string(body)))
	return resp.StatusCode == http.StatusOK && (name != Etcd || strings.Contains(string(body), `"health":"true"`)), msg
}

// healthClient returns a client and URL for component name's health endpoint:
//   - etcd: GET /health with certctl's etcd/healthcheck-client certificate, verified by etcd/ca.crt;
//   - kube-apiserver: GET /readyz with super-admin.conf's credentials (system:masters is
//     authorized before RBAC's bootstrap roles exist);
//   - kube-controller-manager and kube-scheduler: GET /healthz, which
//     --authorization-always-allow-paths lets through. Their serving certificate is one they make
//     for themselves in --cert-dir and no CA vouches for, so that probe skips verification.
func (c *Cluster) healthClient(name string) (*http.Client, string, error) {
	switch name {
	case Etcd:
		tlsCfg, err := c.tlsConfig("etcd/ca.crt", "etcd/healthcheck-client")
		if err != nil {
			return nil, "", err
		}
		return &http.Client{Transport: &http.Transport{TLSClientConfig: tlsCfg}}, c.URL(Etcd) + "/health", nil
	case APIServer:
		client, err := c.HTTPClient("super-admin.conf")
		if err != nil {
			return nil, "", err
		}
		return client, c.URL(APIServer) + "/readyz", nil
	default:
		tr := &http.Transport{TLSClientConfig: &tls.Config{InsecureSkipVerify: true}} //nolint:gosec // see above
		return &http.Client{Transport: tr}, c.URL(name) + "/healthz", nil
	}
}

// tlsConfig returns a client TLS config that trusts the PKI's file ca and presents its pair
// base.crt/base.key, e.g. ("etcd/ca.crt", "apiserver-etcd-client").
func (c *Cluster) tlsConfig(ca, base string) (*tls.Config, error) {
	caFile := filepath.Join(c.PKIDir(), ca)
	caPEM, err := os.ReadFile(caFile)
	if err != nil {
		return nil, fmt.Errorf("read CA: %w", err)
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(caPEM) {
		return nil, fmt.Errorf("read CA %s: no PEM certificate", caFile)
	}
	certFile := filepath.Join(c.PKIDir(), base+".crt")
	pair, err := tls.LoadX509KeyPair(certFile, filepath.Join(c.PKIDir(), base+".key"))
	for i := 0; i < 5 && err != nil && strings.Contains(err.Error(), "private key does not match public key"); i++ {
		// Read between the renames of a certctl commit, which replaces
		// the certificate, then its key: read both again, as a
		// component's reloader does on its next tick.
		time.Sleep(20 * time.Millisecond)
		pair, err = tls.LoadX509KeyPair(certFile, filepath.Join(c.PKIDir(), base+".key"))
	}
	if err != nil {
		return nil, fmt.Errorf("load client certificate %s: %w", certFile, err)
	}
	return &tls.Config{RootCAs: pool, Certificates: []tls.Certificate{pair}, MinVersion: tls.VersionTLS12}, nil
}
