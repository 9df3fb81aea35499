package cmd

import (
	"context"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"k8s.io/client-go/kubernetes"

	"github.com/certctl/certctl/phases/config"
	"github.com/certctl/certctl/phases/signer"
)

// newPolicy is the policy of the given nodes with the flags' rules.
func (f *policyFlags) newPolicy(nodes []*config.Cluster) (*signer.Policy, error) {
	return signer.NewPolicy(signer.PolicyOptions{
		Nodes:              nodes,
		AllowSystemMasters: f.allowMasters,
		RequesterGroups:    f.requesterGroups,
		RequesterUsers:     f.requesterUsers,
	})
}

// learning reports whether the control-plane nodes come from the
// cluster: --control-plane-node overrides it.
func (f *policyFlags) learning() bool { return len(f.nodes) == 0 }

// learn replaces p, the policy build made, by one of the control-plane
// nodes read once from the cluster (approve): the Nodes with the
// control-plane role and their InternalIP, with the kubeadm-config
// ConfigMap's settings when there is no --config. p is kept as it is when
// nil (--force), with --control-plane-node, and while the cluster lists no
// control-plane node.
func (f *policyFlags) learn(cmd *cobra.Command, client kubernetes.Interface, p *signer.Policy) (*signer.Policy, error) {
	if p == nil || !f.learning() || f.loaded == nil {
		return p, nil
	}
	cluster := f.loaded
	nodes, notes, err := signer.LearnNodes(cmd.Context(), client, *cluster, f.cluster.configFile == "")
	if err != nil {
		fmt.Fprintf(cmd.ErrOrStderr(), "[warning] %v; only this node's certificates (%s=%s) fit\n", err, cluster.NodeName, cluster.AdvertiseAddress)
		return p, nil
	}
	for _, n := range notes {
		fmt.Fprintf(cmd.ErrOrStderr(), "[warning] %s\n", n)
	}
	if len(nodes) == 0 {
		fmt.Fprintf(cmd.ErrOrStderr(), "[warning] the cluster lists no control-plane Node with an InternalIP: only this node's certificates (%s=%s) fit; pass --control-plane-node NAME=IP for the others\n", cluster.NodeName, cluster.AdvertiseAddress)
		return p, nil
	}
	return f.newPolicy(nodes)
}

// watchNodes returns signer run's policy: with --control-plane-node, the
// fixed one; otherwise one that follows the cluster's control-plane Nodes
// (and the kubeadm-config ConfigMap without --config), starting with
// fixed (this node's) while the cluster lists none. It waits up to
// syncTimeout for the first list, then goes on with what it has.
func (f *policyFlags) watchNodes(ctx context.Context, cmd *cobra.Command, client kubernetes.Interface, fixed *signer.Policy, cluster *config.Cluster, log *slog.Logger, syncTimeout time.Duration) (signer.PolicyProvider, error) {
	if !f.learning() {
		return fixed, nil
	}
	w, err := signer.NewNodeWatcher(signer.NodeWatcherOptions{Client: client, Base: *cluster, FromConfigMap: f.cluster.configFile == "",
		Fallback: fixed, Build: f.newPolicy, Log: log})
	if err != nil {
		return nil, err
	}
	w.Start(ctx)
	sctx, cancel := context.WithTimeout(ctx, syncTimeout)
	defer cancel()
	out := cmd.OutOrStdout()
	if err := w.WaitForSync(sctx); err != nil {
		fmt.Fprintf(cmd.ErrOrStderr(), "[warning] %v: issuing this node's certificates (%s=%s) until the Nodes can be listed; grant list and watch on nodes, or pass --control-plane-node\n", err, cluster.NodeName, cluster.AdvertiseAddress)
		return w, nil
	}
	if nodes := w.Nodes(); nodes != "" {
		fmt.Fprintf(out, "[signer] Control-plane nodes from the cluster, followed while running: %s\n", strings.ReplaceAll(nodes, ",", ", "))
	}
	return w, nil
}
