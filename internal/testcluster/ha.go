package testcluster

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/certctl/certctl/internal/atomicfile"
)

// HA is a control plane of several nodes on loopback, as kubeadm builds one with `init` on the
// first node and `join --control-plane` on the others. Node I (1-based) is a Cluster named cp-I
// that listens on 127.0.0.I (all of 127.0.0.0/8 is loopback on Linux) in DIR/cp-I, with its own
// PKI and kubeconfigs written by certctl with that node's name and address. The CAs and the sa key
// pair are made on node 1 and copied to the others before their certctl runs, as `kubeadm join`
// downloads them. etcd is one cluster of all nodes' members with TLS peer and client
// authentication; every kube-apiserver lists all etcd members, its own first; kube-controller-
// manager and kube-scheduler run on every node with leader election.
//
// Restart one component of one node as the kubelet would (stop, start with the same flags, wait
// until healthy) with h.Node(i).Restart(ctx, name).
type HA struct {
	Nodes []*Cluster
}

// caFiles are what `kubeadm join --control-plane` copies from the first node (kubeadm's
// copycerts.certsToTransfer for a stacked etcd).
var caFiles = []string{"ca.crt", "ca.key", "sa.key", "sa.pub", "front-proxy-ca.crt", "front-proxy-ca.key", "etcd/ca.crt", "etcd/ca.key"}

// NewHA checks opts (Nodes >= 2), finds the binaries and chooses each node's free ports. It starts
// nothing. Options.WritePKI, if set, runs on every node after the CA files were copied there.
func NewHA(opts Options) (*HA, error) {
	if opts.Nodes < 2 {
		return nil, fmt.Errorf("testcluster: NewHA needs Options.Nodes >= 2, not %d; use New for one node", opts.Nodes)
	}
	if opts.Nodes > 9 {
		return nil, fmt.Errorf("testcluster: Options.Nodes is %d, at most 9", opts.Nodes)
	}
	opts = opts.withDefaults()
	if err := opts.validate(); err != nil {
		return nil, err
	}
	h := &HA{}
	var peers, servers []string
	for i := 1; i <= opts.Nodes; i++ {
		o := opts
		name := fmt.Sprintf("cp-%d", i)
		o.Dir = filepath.Join(opts.Dir, name) // newNode makes it absolute
		o.Logf = func(format string, args ...any) { opts.Logf(name+": "+format, args...) }
		c, err := newNode(o, name, fmt.Sprintf("127.0.0.%d", i))
		if err != nil {
			return nil, err
		}
		h.Nodes = append(h.Nodes, c)
		peers = append(peers, name+"="+c.URL(etcdPeer))
		servers = append(servers, c.URL(Etcd))
	}
	for i, c := range h.Nodes {
		c.etcdCluster = strings.Join(peers, ",")
		// Its own etcd first: the client prefers it, and fails over to the others.
		c.etcdServers = strings.Join(append([]string{servers[i]}, slices.Delete(slices.Clone(servers), i, i+1)...), ",")
	}
	return h, nil
}

// Node returns node i, 1-based as the node names cp-1 ... cp-N.
func (h *HA) Node(i int) *Cluster { return h.Nodes[i-1] }

// Dir returns Options.Dir, made absolute; node I is in DIR/cp-I.
func (h *HA) Dir() string { return filepath.Dir(h.Nodes[0].opts.Dir) }

// WritePKI writes node 1's PKI and kubeconfigs, copies its CA files and sa key pair to the other
// nodes, then writes each other node's leaves and kubeconfigs with certctl.
func (h *HA) WritePKI(ctx context.Context) error {
	first := h.Nodes[0]
	if err := first.WritePKI(ctx); err != nil {
		return err
	}
	for _, c := range h.Nodes[1:] {
		for _, f := range caFiles {
			data, err := os.ReadFile(filepath.Join(first.PKIDir(), f))
			if err != nil {
				return fmt.Errorf("copy CA files to %s: %w", c.nodeName, err)
			}
			dst := filepath.Join(c.PKIDir(), f)
			if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
				return fmt.Errorf("copy CA files to %s: %w", c.nodeName, err)
			}
			if err := atomicfile.WriteFile(dst, data, 0o600); err != nil {
				return fmt.Errorf("copy CA files to %s: %w", c.nodeName, err)
			}
		}
		if err := c.WritePKI(ctx); err != nil {
			return fmt.Errorf("%s: %w", c.nodeName, err)
		}
	}
	return nil
}

// Start writes the PKI, then starts each component on all nodes at once (etcd's members need each
// other for a quorum) and waits until all are healthy, then binds kubeadm:cluster-admins to
// cluster-admin. On error what was started keeps running; call Stop.
func (h *HA) Start(ctx context.Context) error {
	if err := h.WritePKI(ctx); err != nil {
		return err
	}
	for _, name := range h.Nodes[0].opts.Components {
		if err := h.each(func(c *Cluster) error { return c.StartComponent(ctx, name) }); err != nil {
			return err
		}
	}
	if slices.Contains(h.Nodes[0].opts.Components, APIServer) {
		if err := h.Nodes[0].bootstrapRBAC(ctx); err != nil {
			return err
		}
		// Each kube-apiserver learns of the binding on its own.
		return h.each(func(c *Cluster) error { return c.waitAdminAuthorized(ctx) })
	}
	return nil
}

// Stop stops every node's Kubelets, then every running component of every node, one component at a time in reverse start
// order, on all nodes at once. It returns all errors joined, and logs one line per node (see
// Cluster.Stop).
func (h *HA) Stop(ctx context.Context) error {
	for _, c := range h.Nodes {
		c.stopKubelets()
	}
	start := time.Now()
	stopped := make(map[*Cluster]*[]string, len(h.Nodes))
	for _, c := range h.Nodes {
		stopped[c] = new([]string)
	}
	var errs []error
	for _, name := range slices.Backward(h.Nodes[0].opts.Components) {
		errs = append(errs, h.each(func(c *Cluster) error { return c.stopInto(ctx, name, stopped[c]) }))
	}
	for _, c := range h.Nodes {
		c.logStopped(*stopped[c], start)
	}
	return errors.Join(errs...)
}

// each runs f on every node concurrently and joins the errors, each prefixed with the node name.
func (h *HA) each(f func(*Cluster) error) error {
	errs := make([]error, len(h.Nodes))
	var wg sync.WaitGroup
	for i, c := range h.Nodes {
		wg.Go(func() {
			if err := f(c); err != nil {
				errs[i] = fmt.Errorf("%s: %w", c.nodeName, err)
			}
		})
	}
	wg.Wait()
	return errors.Join(errs...)
}

// State returns what StopState needs to stop every node's components later; process names are
// NODE/COMPONENT, and the kubeconfig and URL are node 1's.
func (h *HA) State() State {
	st := h.Nodes[0].State()
	st.Dir = h.Dir()
	st.Processes = nil
	for _, name := range h.Nodes[0].opts.Components {
		for _, c := range h.Nodes {
			if p := c.proc(name); p != nil {
				ps := p.ProcessState
				ps.Name = c.nodeName + "/" + name
				st.Processes = append(st.Processes, ps)
			}
		}
	}
	return st
}

// WriteLogTails writes the last n lines of every node's logs to w.
func (h *HA) WriteLogTails(w io.Writer, n int) {
	for _, c := range h.Nodes {
		fmt.Fprintf(w, "======== node %s\n", c.nodeName)
		c.WriteLogTails(w, n)
	}
}
