package clusterview

import (
	"cmp"
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	utilruntime "k8s.io/apimachinery/pkg/util/runtime"
	"k8s.io/client-go/kubernetes"

	"github.com/certctl/certctl/manifests/staticpods"
	"github.com/certctl/certctl/phases/config"
	"github.com/certctl/certctl/phases/expiration"
	"github.com/certctl/certctl/pki"
	"github.com/certctl/certctl/pki/policy"
)

// DefaultEtcdEndpoint is asked for etcd's member list besides the client
// URLs learned from the cluster: the local member of a stacked etcd.
const DefaultEtcdEndpoint = "https://127.0.0.1:2379"

// DefaultTimeout bounds each handshake and request when Options.Timeout
// is zero.
const DefaultTimeout = 5 * time.Second

// maxHandshakes bounds the handshakes made at once: the three endpoints
// of up to 21 nodes and the controlPlaneEndpoint in one timeout.
const maxHandshakes = 64

// Options configure Check.
type Options struct {
	// Client reads the Nodes, pods, kubeadm-config and kubeadm-certs; nil
	// when the API server cannot be reached: the nodes then come from
	// etcd's member list only, and ClientError says why.
	Client      kubernetes.Interface
	ClientError error
	// ClientRequired: the client's kubeconfig was named (--kubeconfig or
	// --context), so a ClientError is the file's fault, an error, not an
	// API server down.
	ClientRequired bool
	// CertDir holds the local CAs the served certificates are checked
	// against (ca.crt, etcd/ca.crt) and the etcd client certificate the
	// member list is read with (etcd/healthcheck-client, else
	// apiserver-etcd-client).
	CertDir string
	// EtcdEndpoints are etcd client URLs asked for the member list besides
	// those learned from the cluster, all at once, the first list given
	// taken; [DefaultEtcdEndpoint] when empty.
	EtcdEndpoints []string
	// Now is the instant of the check.
	Now time.Time
	// WarnWithin marks certificates expiring before Now+WarnWithin.
	WarnWithin time.Duration
	// Timeout bounds each TLS handshake and etcd request; the API server's
	// reads together get three times it. DefaultTimeout when zero.
	Timeout time.Duration
	// LocalIPs are this host's own addresses: an endpoint of a node at one
	// of them is this node's, whose served certificate must be the one in
	// CertDir. The addresses of the host's interfaces when nil.
	LocalIPs []net.IP
}

// timeout is Timeout, DefaultTimeout when zero.
func (o Options) timeout() time.Duration {
	if o.Timeout <= 0 {
		return DefaultTimeout
	}
	return o.Timeout
}

// Check learns the control-plane nodes and checks what each endpoint
// serves. It only reads. An endpoint that cannot be reached is a problem
// of its row, a source that cannot be read a warning: monitoring wants
// every row it can get.
func Check(ctx context.Context, o Options) (*Info, error) {
	if len(o.EtcdEndpoints) == 0 {
		o.EtcdEndpoints = []string{DefaultEtcdEndpoint}
	}
	st := pki.Store{Dir: o.CertDir}
	// Each CA file's certificates: during a CA rotation it holds two
	// (docs/ca-rotation.md), and clients trust both.
	cas := map[string][]*x509.Certificate{}
	var caErrs []string
	inv := pki.Kubeadm()
	for _, name := range []string{pki.CAName, pki.EtcdCAName} {
		certs, err := pki.ReadCerts(st.CertPath(inv.BaseName(name)))
		if err != nil {
			caErrs = append(caErrs, err.Error())
			continue
		}
		cas[name] = certs
	}
	if len(cas) == 0 {
		return nil, fmt.Errorf("no local CA to check the served certificates against (%s): point --cert-dir at the certificate folder of a control-plane node", strings.Join(caErrs, "; "))
	}
	if o.Client == nil && o.ClientRequired {
		return nil, fmt.Errorf("%w: %s", o.ClientError, fixKubeconfig)
	}
	c := &cluster{nodes: map[string]*node{}, sources: []string{}, warnings: []string{}} // the report lists none as []
	if o.Client != nil {
		// An API server that does not answer must not hang the report.
		actx, cancel := context.WithTimeout(ctx, 3*o.timeout())
		c.fromAPI(actx, o.Client)
		if errors.Is(actx.Err(), context.DeadlineExceeded) {
			c.warn("the API server gave no answer within %v: what it keeps was read in part or not at all; check that it runs and that this host can reach it", 3*o.timeout())
		}
		cancel()
	} else {
		// As with an API server down: the members are the nodes, each a
		// control-plane node with its kube-apiserver (stacked etcd), and
		// a member is not "no control-plane Node" for Nodes never listed.
		c.warn("the API server was not asked (%v): the nodes come from etcd's member list only, each kube-apiserver at kubeadm's port %d", o.ClientError, defaultAPIServerPort)
		c.nodesUnlisted = true
		c.kubeadmCertsUnread = true // not read: unknown, not "none"
	}
	etcdClient := etcdClientCert(st)
	external := c.config != nil && c.config.ExternalEtcd
	etcdKnown := false
	if external {
		c.warn("the kubeadm-config ConfigMap names an external etcd: its endpoints are not checked")
	} else if ca := cas[pki.EtcdCAName]; ca == nil {
		c.warn("no local etcd CA: %s; etcd's member list is not read", strings.Join(caErrs, "; "))
	} else {
		// During a rotation the etcd members may serve either CA's
		// certificates, which clients trust both: one ask trusting both.
		members, from, err := memberList(ctx, ca, etcdClient, c.etcdCandidates(o.EtcdEndpoints), o.timeout())
		if err != nil {
			c.warn("read etcd's member list: %v: pass --etcd-endpoints a reachable etcd client URL", err)
		} else {
			etcdKnown = true
			c.sources = append(c.sources, "etcd members "+from)
			c.fromMembers(members)
		}
	}
	c.fillDefaults(etcdKnown)
	if etcdKnown && !c.nodesUnlisted {
		c.warnMembership()
	}
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("find the control-plane nodes: %w", err)
	}
	if len(c.nodes) == 0 {
		return nil, fmt.Errorf("found no control-plane node: %s", strings.Join(c.warnings, "; "))
	}

	info := &Info{Kind: Kind, APIVersion: APIVersion, CheckedAt: expiration.CheckedAt(o.Now), WarnWithinSeconds: int64(o.WarnWithin / time.Second),
		Sources: c.sources, Nodes: []Node{}, Warnings: c.warnings}
	ck := &checker{o: o, cas: cas, etcdClient: etcdClient}
	if c.config != nil {
		ck.wantNames = wantAPIServerNames(c.config)
	}
	// Every endpoint of a realistic cluster at once: nodes that hang cost
	// one timeout in all.
	var wg sync.WaitGroup
	sem := make(chan struct{}, maxHandshakes)
	probe := func(ep *Endpoint) {
		wg.Go(func() {
			defer utilruntime.HandleCrash()
			sem <- struct{}{}
			defer func() { <-sem }()
			ck.check(ctx, ep)
		})
	}
	if c.config != nil && c.config.ControlPlaneEndpoint != "" {
		if addr, err := endpointAddress(c.config); err == nil {
			info.ControlPlaneEndpoint = &Endpoint{Component: APIServer, Address: addr}
			probe(info.ControlPlaneEndpoint)
		} else {
			info.Warnings = append(info.Warnings, fmt.Sprintf("controlPlaneEndpoint %q: %v", c.config.ControlPlaneEndpoint, err))
		}
	}
	for _, n := range c.sorted() {
		row := Node{Name: n.name, Addresses: n.addresses, Sources: n.sources, Endpoints: []Endpoint{}}
		if row.Addresses == nil {
			row.Addresses = []string{}
		}
		for _, e := range []struct{ comp, addr string }{{APIServer, n.apiserver}, {EtcdClient, n.etcd}, {EtcdPeer, n.peer}} {
			if e.addr != "" {
				ep := Endpoint{Component: e.comp, Address: e.addr}
				switch {
				case e.comp != APIServer || !n.apiserverDefault:
				case c.apiserverPodsRead:
					ep.hint = fmt.Sprintf(" (kubeadm's default port %d: no mirror pod kube-apiserver-%s names its port: with another bindPort, check that the node's kubelet runs and posts its mirror pods)", defaultAPIServerPort, n.name)
				default: // the API server down, or no client: not RBAC
					ep.hint = fmt.Sprintf(" (kubeadm's default port %d: the kube-apiserver pods, which name its port, could not be read (see WARNINGS))", defaultAPIServerPort)
				}
				row.Endpoints = append(row.Endpoints, ep)
			}
		}
		if len(row.Endpoints) == 0 {
			info.Warnings = append(info.Warnings, fmt.Sprintf("node %s has no endpoint to check: no InternalIP, no mirror pod and no etcd member names its address; check its addresses (kubectl get node %s -o wide)", n.name, n.name))
		}
		info.Nodes = append(info.Nodes, row)
	}
	for i := range info.Nodes {
		for j := range info.Nodes[i].Endpoints {
			probe(&info.Nodes[i].Endpoints[j])
		}
	}
	wg.Wait()
	// A signal: the rows it cut short are not unreachable endpoints.
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("check the control-plane nodes' endpoints: %w", err)
	}
	local := o.LocalIPs
	if local == nil {
		local = hostIPs()
	}
	compareWithDisk(info.Nodes, st, local)
	if s := c.kubeadmCerts; s != nil {
		info.KubeadmCerts = kubeadmCerts(s, c.kubeadmOwners, o.Now)
	}
	info.kubeadmCertsUnread = c.kubeadmCertsUnread
	return info, nil
}

// etcdCandidates lists the etcd client URLs to ask for the member list,
// all at once: those of the etcd pods, then each node's default client
// URL, then extra (the order of the errors when none answers).
func (c *cluster) etcdCandidates(extra []string) []string {
	out := append([]string{}, c.etcdURLs...)
	for _, n := range c.sorted() {
		if n.etcd != "" {
			out = append(out, "https://"+n.etcd)
		}
		for _, a := range n.addresses {
			out = append(out, "https://"+net.JoinHostPort(a, strconv.Itoa(defaultEtcdClient)))
		}
	}
	return append(out, extra...)
}

// checker checks endpoints; its fields are read-only once checks start.
type checker struct {
	o          Options
	cas        map[string][]*x509.Certificate // each CA file's certificates
	etcdClient *tls.Certificate
	wantNames  []string // what every kube-apiserver certificate must be valid for
}

// check makes a handshake with ep, presenting the node's etcd client
// certificate (if any) to etcd, which asks for one, and none to
// kube-apiserver, and checks what it serves.
func (ck *checker) check(ctx context.Context, ep *Endpoint) {
	ep.Problems, ep.DNSNames, ep.IPAddresses = []expiration.Problem{}, []string{}, []string{}
	ep.CAName = pki.EtcdCAName
	client := ck.etcdClient
	if ep.Component == APIServer {
		ep.CAName, client = pki.CAName, nil
	}
	chain, err := staticpods.Served(ctx, ep.Address, client, ck.o.timeout())
	if err != nil && isTimeout(err) {
		ep.add(Unreachable, "no TLS handshake with %s at %s%s: no answer within %v: check that it runs and that this host can reach it", ep.Component, ep.Address, ep.hint, ck.o.timeout())
		return
	}
	if err != nil {
		ep.add(Unreachable, "no TLS handshake with %s at %s%s: %v: check that it runs and that this host can reach it", ep.Component, ep.Address, ep.hint, err)
		return
	}
	cert := chain[0]
	exp := cert.NotAfter.UTC()
	ep.ExpirationDate = &exp
	ep.ResidualTimeSeconds = int64(exp.Sub(ck.o.Now) / time.Second)
	ep.ExpiringSoon = exp.Sub(ck.o.Now) < ck.o.WarnWithin || !exp.After(ck.o.Now)
	ep.Subject, ep.Issuer, ep.Serial = cert.Subject.String(), cert.Issuer.String(), staticpods.Serial(cert)
	ep.DNSNames = append(ep.DNSNames, cert.DNSNames...)
	for _, ip := range cert.IPAddresses {
		ep.IPAddresses = append(ep.IPAddresses, ip.String())
	}
	if from := cert.NotBefore.UTC(); ck.o.Now.Before(from) {
		ep.add(NotYetValid, "%s at %s serves a certificate valid only from %s, %v after this host's clock: clients reject it until then; check the clocks of that node and of this host (timedatectl), then renew it on that node", ep.Component, ep.Address, from.Format(time.RFC3339), from.Sub(ck.o.Now).Round(time.Second))
	}
	if err := policy.Key("the key of the certificate served at "+ep.Address, cert.PublicKey, false); err != nil {
		ep.add(expiration.WeakKey, "%v: renew it with a new key on that node", err)
	}
	if cas := ck.cas[ep.CAName]; cas == nil {
		ep.add(expiration.CAMissing, "cannot check the certificate %s serves at %s: the local %s is missing or unreadable", ep.Component, ep.Address, ep.CAName)
	} else if !slices.ContainsFunc(cas, func(ca *x509.Certificate) bool { return pki.VerifySignedBy(cert, chain[1:], ca, ck.o.Now) == nil }) {
		ep.add(expiration.NotSignedByCA, "%s at %s serves a certificate (issuer %q, serial %s) that the local %s did not sign: clients that trust the cluster's CA reject it; check that node's certificate folder and CAs", ep.Component, ep.Address, ep.Issuer, ep.Serial, ep.CAName)
	} else {
		ep.SignedByCA = true
	}
	host, _, _ := net.SplitHostPort(ep.Address)
	var missing []string
	names := []string{host}
	if ep.Component == APIServer {
		names = append(names, ck.wantNames...)
	}
	for _, name := range names {
		if cert.VerifyHostname(name) != nil && !slices.ContainsFunc(missing, func(m string) bool { return strings.EqualFold(m, name) }) {
			missing = append(missing, name)
		}
	}
	ep.SANsMatch = len(missing) == 0
	if !ep.SANsMatch {
		ep.add(SANMismatch, "%s at %s serves a certificate without the SAN(s) %s: clients reaching it by that name reject it; %s", ep.Component, ep.Address, strings.Join(missing, ", "), sanFix(ep.Component))
	}
}

// wantAPIServerNames lists the controlPlaneEndpoint's host and the
// certSANs: every kube-apiserver certificate kubeadm makes has them.
func wantAPIServerNames(c *config.Cluster) []string {
	var out []string
	if c.ControlPlaneEndpoint != "" {
		if h, _, err := config.SplitHostPort(c.ControlPlaneEndpoint); err == nil {
			out = append(out, h)
		}
	}
	return append(out, c.APIServerCertSANs...)
}

// endpointAddress is the controlPlaneEndpoint as host:port, with the bind
// port when it names none, as kubeadm writes it into admin.conf.
func endpointAddress(c *config.Cluster) (string, error) {
	host, port, err := config.SplitHostPort(c.ControlPlaneEndpoint)
	if err != nil {
		return "", err
	}
	return net.JoinHostPort(host, cmp.Or(port, strconv.Itoa(int(c.BindPort)))), nil
}

func (ep *Endpoint) add(t expiration.ProblemType, format string, args ...any) {
	ep.Problems = append(ep.Problems, expiration.Problem{Type: t, Message: fmt.Sprintf(format, args...)})
}

// etcdClientCert is the node's etcd client certificate for the member
// list and the handshakes with etcd (which asks for one): kubeadm's
// etcd/healthcheck-client, else apiserver-etcd-client; nil when neither
// loads (the handshakes then see the server certificate all the same).
func etcdClientCert(st pki.Store) *tls.Certificate {
	for _, e := range pki.Kubeadm().Clients(pki.EtcdCAName) {
		if c, err := pki.ReadTLSPair(st.CertPath(e.BaseName), st.KeyPath(e.BaseName)); err == nil {
			return &c
		}
	}
	return nil
}

// sanFix says how to give the certificate a component serves the SANs it
// lacks: the setting of the node's kubeadm configuration and the renewal
// that applies it (docs/renew.md, "Adding a SAN").
func sanFix(component string) string {
	field := "apiServer.certSANs"
	switch component {
	case EtcdClient:
		field = "etcd.local.serverCertSANs"
	case EtcdPeer:
		field = "etcd.local.peerCertSANs"
	}
	return fmt.Sprintf("on that node, add them to %s in its kubeadm configuration and run `certctl renew %s --update-sans --config FILE` (docs/renew.md)", field, componentEntry(component).Name)
}
