package signer

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"strings"
	"time"

	"k8s.io/client-go/kubernetes"

	"github.com/certctl/certctl/internal/kubeclient"
	"github.com/certctl/certctl/phases/config"
)

// NodeRules decide which control-plane certificates may be approved and
// signed: the rules of PolicyOptions (its Nodes unused), and where the
// control-plane nodes come from.
type NodeRules struct {
	PolicyOptions
	// ControlPlaneNodes are NAME=IP pairs that replace the cluster's
	// control-plane Nodes (--control-plane-node); none: learn them.
	ControlPlaneNodes []string
	// FromConfigMap applies the kubeadm-config ConfigMap over the settings
	// of learned nodes (the settings do not come from --config).
	FromConfigMap bool
	// Kubeconfig is the command's --kubeconfig ("": not given), through
	// which the nodes and the settings are learned: Check refuses it when
	// it cannot be read (kubeclient.CheckFlag).
	Kubeconfig string
}

// Build is the policy of the given nodes with r's rules.
func (r NodeRules) Build(nodes []*config.Cluster) (*Policy, error) {
	o := r.PolicyOptions
	o.Nodes = nodes
	return NewPolicy(o)
}

// learning reports whether the control-plane nodes come from the cluster.
func (r NodeRules) learning() bool { return len(r.ControlPlaneNodes) == 0 }

// Check refuses a --control-plane-node that is not NAME=IP and a
// --kubeconfig that cannot be read, before the files the other flags name
// and the settings are read (their ConfigMap read can wait for an API
// server), as every command checks --kubeconfig: a bad --config is not
// told first. Fixed checks each name against the settings.
func (r NodeRules) Check() error {
	for _, spec := range r.ControlPlaneNodes {
		if _, _, err := parseNode(spec); err != nil {
			return err
		}
	}
	return kubeclient.CheckFlag(r.Kubeconfig)
}

// parseNode splits a --control-plane-node NAME=IP.
func parseNode(spec string) (name, ip string, err error) {
	name, ip, ok := strings.Cut(spec, "=")
	if !ok || name == "" || net.ParseIP(ip) == nil {
		return "", "", fmt.Errorf("invalid --control-plane-node %q: want NAME=IP, for example cp-1=192.0.2.10", spec)
	}
	return name, ip, nil
}

// Fixed is the policy of cluster's node, or of r.ControlPlaneNodes, each
// a copy of cluster with its name and address.
func (r NodeRules) Fixed(cluster *config.Cluster) (*Policy, error) {
	nodes := []*config.Cluster{cluster}
	if !r.learning() {
		nodes = nil
		for _, spec := range r.ControlPlaneNodes {
			name, ip, err := parseNode(spec)
			if err != nil {
				return nil, err
			}
			n := *cluster
			n.NodeName, n.AdvertiseAddress = name, ip
			if err := n.Validate(); err != nil {
				return nil, fmt.Errorf("--control-plane-node %q: %w", spec, err)
			}
			nodes = append(nodes, &n)
		}
	}
	return r.Build(nodes)
}

// Learn replaces p, the Fixed policy of cluster, by one of the
// control-plane nodes read once from the cluster (approve): the Nodes with
// the control-plane role and their InternalIP, with the kubeadm-config
// ConfigMap's settings when r.FromConfigMap. p is kept as it is when nil
// (--force), with ControlPlaneNodes, and while the cluster lists no
// control-plane node; warn says why.
func (r NodeRules) Learn(ctx context.Context, client kubernetes.Interface, p *Policy, cluster *config.Cluster, warn io.Writer) (*Policy, error) {
	if p == nil || !r.learning() || cluster == nil {
		return p, nil
	}
	nodes, notes, err := LearnNodes(ctx, client, *cluster, r.FromConfigMap)
	if err != nil {
		fmt.Fprintf(warn, "[warning] %v; only this node's certificates (%s=%s) fit\n", err, cluster.NodeName, cluster.AdvertiseAddress)
		return p, nil
	}
	for _, n := range notes {
		fmt.Fprintf(warn, "[warning] %s\n", n)
	}
	if len(nodes) == 0 {
		fmt.Fprintf(warn, "[warning] the cluster lists no control-plane Node with an InternalIP: only this node's certificates (%s=%s) fit; pass --control-plane-node NAME=IP for the others\n", cluster.NodeName, cluster.AdvertiseAddress)
		return p, nil
	}
	return r.Build(nodes)
}

// Watch returns signer run's policy: with ControlPlaneNodes, fixed;
// otherwise one that follows the cluster's control-plane Nodes (and the
// kubeadm-config ConfigMap when r.FromConfigMap), starting with fixed
// (this node's) while the cluster lists none. It waits up to syncTimeout
// for the first list, then goes on with what it has.
func (r NodeRules) Watch(ctx context.Context, client kubernetes.Interface, fixed *Policy, cluster *config.Cluster, log *slog.Logger, out, warn io.Writer, syncTimeout time.Duration) (PolicyProvider, error) {
	if !r.learning() {
		return fixed, nil
	}
	w, err := NewNodeWatcher(client, r, *cluster, fixed, log)
	if err != nil {
		return nil, err
	}
	w.Start(ctx)
	sctx, cancel := context.WithTimeout(ctx, syncTimeout)
	defer cancel()
	if err := w.WaitForSync(sctx); err != nil {
		fmt.Fprintf(warn, "[warning] %v: issuing this node's certificates (%s=%s) until the Nodes can be listed; grant list and watch on nodes, or pass --control-plane-node\n", err, cluster.NodeName, cluster.AdvertiseAddress)
		return w, nil
	}
	if nodes := w.Nodes(); nodes != "" {
		fmt.Fprintf(out, "[signer] Control-plane nodes from the cluster, followed while running: %s\n", strings.ReplaceAll(nodes, ",", ", "))
	}
	return w, nil
}
