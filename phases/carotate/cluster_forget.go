package carotate

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"strings"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/certctl/certctl/phases/clusterview"
	"github.com/certctl/certctl/pki"
)

// checkForget refuses the options that --forget-node does not go with:
// it changes the cluster record alone, no stage, no file of this node.
func (o *Options) checkForget() error {
	if o.Cluster == nil || o.Cluster.ForgetNode == "" {
		return nil
	}
	var with []string
	for flag, set := range map[string]bool{"--abort": o.Abort, "--to/--all-stages": o.To != "" || o.AllStages, "--restarted": o.Restarted,
		"--restart-control-plane": o.Restart, "--new-ca-cert/--new-ca-key": o.NewCACert != "" || o.NewCAKey != "", "--certificate-key": o.Cluster.CertificateKey != ""} {
		if set {
			with = append(with, flag)
		}
	}
	if len(with) > 0 {
		slices.Sort(with)
		return fmt.Errorf("--forget-node removes a node from the rotation's cluster record and makes no stage: drop %s", strings.Join(with, ", "))
	}
	return nil
}

// forget removes the entry of node ClusterOptions.ForgetNode from the
// cluster record of k, for a control-plane node removed mid-rotation: its
// entry stays at trust or reissue, the gates wait for it, and every later
// rotation is refused. Refused for this node (--abort takes it out), and
// while the node has a Node object, which a node still in the cluster has
// (Force overrides: a Node object left behind). No stage is made: the
// Secret goes once every node left has re-issued, and the old CA leaves
// what the cluster publishes (publish) once every node left has finished,
// as after the last node's finish, which the forgotten node was maybe
// the last to owe; the new CA leaves it once no node is left and none
// finished, as after the last node's abort (droppedWithout).
// The ConfigMap keeps the node's name (forgottenKey), also once no node
// is left: should it come back, its next stage is refused, its abort not
// (refresh), rather than write its entry and publish the new CA again.
func (o *Options) forget(ctx context.Context, k kind) error {
	cl, node := o.cl, o.Cluster.ForgetNode
	cmd := o.command(k)
	if node == cl.o.NodeName {
		return fmt.Errorf("--forget-node %s is this node: take it out of the rotation with `%s --abort` (twice from reissue), or run --forget-node on another control-plane node; nothing was changed", node, cmd)
	}
	cur, _, err := cl.st.get(ctx)
	if err != nil {
		return err
	}
	if cur == nil {
		return fmt.Errorf("there is no cluster record %s: no rotation of %s keeps node %s; nothing was changed", cl.st.what(), k.name, node)
	}
	was, ok := cur.Nodes[node]
	if !ok {
		return fmt.Errorf("node %s is not in the cluster record %s, which holds %s: nothing to forget; nothing was changed", node, cl.st.what(), nodesLine(cur.names()))
	}
	if !o.Force {
		if err := cl.nodeGone(ctx, node); err != nil {
			return err
		}
	}
	// What the prune after the forget would remove, and a refusal of it
	// before anything changes: once the record has changed, no call
	// of this rotation is left to try the prune again.
	fp, why := droppedWithout(cur, without(cur, node))
	var in, notIn []string
	if fp != "" {
		if in, notIn, err = cl.publishedWhere(ctx, k, fp); err != nil {
			return fmt.Errorf("--forget-node %s: %s, so %s sha256 %s would leave what the cluster publishes, as %s does, and cannot: %w; nothing was changed", node, why, caWord(cur, fp), short([]string{fp}), lastStep(cur, fp), err)
		}
	}
	if o.DryRun {
		fmt.Fprintf(o.Out, "[dry-run] %s: would remove node %s (%s) from %s, keeping its name in key %s; nothing was written\n", k.name, node, was.describe(), cl.st.what(), forgottenKey)
		if len(in) > 0 {
			fmt.Fprintf(o.Out, "[dry-run] %s: %s: would then remove %s sha256 %s from %s, as %s does\n", k.name, why, caWord(cur, fp), short([]string{fp}), strings.Join(in, " and "), lastStep(cur, fp))
		}
		if len(notIn) > 0 {
			fmt.Fprintf(o.Out, "[dry-run] %s: %s: %s sha256 %s is not in %s (removed already, or never published there): nothing to remove there\n", k.name, why, caWord(cur, fp), short([]string{fp}), strings.Join(notIn, " and "))
		}
		return nil
	}
	mark := &forgottenMark{node: node, at: o.Now()}
	err = cl.st.updateForgetting(ctx, nil, mark, func(cur *ClusterRecord) (*ClusterRecord, error) {
		if cur == nil {
			return nil, fmt.Errorf("%w: %s was deleted meanwhile: nothing to forget", errRefused, cl.st.what())
		}
		if _, ok := cur.Nodes[node]; !ok {
			return cur, nil // another call forgot it meanwhile
		}
		return without(cur, node), nil
	})
	if err != nil {
		return fmt.Errorf("remove node %s from %s: %w", node, cl.st.what(), err)
	}
	// With no node left, no node is at trust for a replacement to join.
	left := "no node is left in it, and the rotation is over. "
	if rest := slices.DeleteFunc(cur.names(), func(n string) bool { return n == node }); len(rest) > 0 {
		left = "the stages of " + nodesLine(rest) + " no longer wait for it. A replacement control-plane node joins with `certctl ca rotate " + k.name + " --certificate-key KEY` while a node is at trust. "
	}
	fmt.Fprintf(o.Out, "[ca-rotate] %s: removed node %s (%s) from %s, which keeps its name in key %s: %sShould %s come back, its next stage of this rotation is refused, and `certctl ca rotate %s --abort` there takes it out\n",
		k.name, node, was.describe(), cl.st.what(), forgottenKey, left, node, k.name)
	// The Secret goes once no node of the rotation needs the new CA
	// from it, as put does: the forgotten node may have been the last.
	after, _, err := cl.st.get(ctx)
	if err != nil {
		return err
	}
	if secretDone(after, cur.ID) {
		if deleted, err := cl.st.deleteSecret(ctx); err != nil {
			return err
		} else if deleted {
			fmt.Fprintf(o.Out, "[ca-rotate] %s: no node left in the rotation needs the new CA from %s: deleted it\n", k.name, cl.st.secretWhat())
		}
	}
	// The forgotten node may have been the last that had not finished:
	// the old CA then leaves what the cluster publishes, as at the last
	// node's finish (put), which no node makes any more; or the last node
	// of a rotation the others aborted: the new CA leaves, as at the last
	// node's abort.
	drop, _ := droppedWithout(cur, after)
	return cl.publish(ctx, o, k, nil, drop)
}

// without is cur without node's entry; nil when no node is left, as the
// record is then deleted.
func without(cur *ClusterRecord, node string) *ClusterRecord {
	next := *cur
	next.Nodes = maps.Clone(cur.Nodes)
	delete(next.Nodes, node)
	if len(next.Nodes) == 0 {
		return nil
	}
	return &next
}

// droppedWithout is the CA that no node of the rotation of cur (read
// before a node left it) trusts any more once the node left, as after
// records the rotation then, and why, for people:
//   - nodes are left, all finished: the old CA, as the last node's finish
//     drops it (dropped);
//   - no node is left (after is nil) and a node of cur had finished: the
//     old CA (that finish dropped it already, unless it failed to);
//   - no node is left and none had finished: the new CA, as the last
//     node's abort drops it. Every node of the rotation but those that
//     left aborted back to the old CA (an abort leaves the record), or
//     never joined it, and so trusts the old CA alone; no abort is
//     refused before a node finished. A node whose stage was made but
//     never recorded (its first call killed) writes its entry and
//     publishes the new CA again with its next call (refresh); a node
//     forgotten is refused then (forgottenKey).
//
// "" otherwise: some node left is in the middle of the rotation, or after
// is the record of another rotation.
func droppedWithout(cur, after *ClusterRecord) (string, string) {
	switch {
	case after == nil && reachedBy(cur, StageFinished) > 0:
		return cur.OldCA, "no node is left in the rotation, which had finished"
	case after == nil:
		return cur.ID, "no node is left in the rotation, and none had finished: the others aborted it or never joined it"
	case after.ID == cur.ID && reachedBy(after, StageFinished) == len(after.Nodes):
		return after.OldCA, "every node left in the rotation has finished"
	}
	return "", ""
}

// caWord names the CA of fingerprint fp in the rotation of cur.
func caWord(cur *ClusterRecord, fp string) string {
	if fp == cur.ID {
		return "the new CA"
	}
	return "the old CA"
}

// lastStep names the step that drops the CA of fingerprint fp in the
// rotation of cur.
func lastStep(cur *ClusterRecord, fp string) string {
	if fp == cur.ID {
		return "the last node's abort"
	}
	return "the last node's finish"
}

// publishedWhere names the ConfigMaps that publish the CA of k (publish)
// and hold the CA of fingerprint fp (in), and those that do not, or do not
// exist (notIn), writing nothing; an error where publish would refuse to
// remove it (it is the last CA there). Neither for a CA the cluster does
// not publish.
func (cl *clusterState) publishedWhere(ctx context.Context, k kind, fp string) (in, notIn []string, err error) {
	if k.name == pki.CAName {
		done, err := cl.st.syncClusterInfo(ctx, nil, fp, true)
		if err != nil {
			return nil, nil, err
		}
		if done != "" {
			in = append(in, clusterInfoObject)
		} else {
			notIn = append(notIn, clusterInfoObject)
		}
	}
	if key := extensionAuthKey[k.name]; key != "" {
		there, err := cl.st.pruneExtensionAuth(ctx, k, fp, true)
		if err != nil {
			return nil, nil, err
		}
		cm := fmt.Sprintf("ConfigMap %s/%s (%s)", metav1.NamespaceSystem, ExtensionAuthConfigMap, key)
		if there {
			in = append(in, cm)
		} else {
			notIn = append(notIn, cm)
		}
	}
	return in, notIn, nil
}

// nodeGone refuses while node has a Node object: a node still in the
// cluster, whose entry the gates must keep waiting for.
func (cl *clusterState) nodeGone(ctx context.Context, node string) error {
	ctx, cancel := context.WithTimeout(ctx, apiTimeout)
	defer cancel()
	n, err := cl.st.client.CoreV1().Nodes().Get(ctx, node, metav1.GetOptions{})
	if apierrors.IsNotFound(err) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("read Node %s from the API server %s: %w; nothing was changed", node, cl.st.server, err)
	}
	role := ""
	if _, ok := n.Labels[clusterview.ControlPlaneLabel]; ok {
		role = " control-plane"
	}
	return fmt.Errorf("node %s still has a%s Node object: if it is gone for good, remove it from the cluster first (kubectl delete node %s), or pass --force to forget it anyway; while it is in the cluster, run `certctl ca rotate %s` there instead; nothing was changed", node, role, node, cl.st.name)
}

// goneHint says, of the nodes of c that have no control-plane Node
// (cpNodes), how to take them out of the rotation; "" when none.
func (c *ClusterRecord) goneHint(cpNodes []string, except string) string {
	var gone []string
	if len(cpNodes) == 0 {
		return "" // no control-plane Node at all: nothing to tell a removed node by
	}
	for _, name := range c.names() {
		if name != except && c.Nodes[name].Stage != StageFinished && !slices.Contains(cpNodes, name) {
			gone = append(gone, name)
		}
	}
	if len(gone) == 0 {
		return ""
	}
	has := " has"
	if len(gone) > 1 {
		has = " have"
	}
	return fmt.Sprintf("; %s%s no control-plane Node object: one removed from the cluster leaves the rotation with `certctl ca rotate %s --forget-node NAME`", nodesLine(gone), has, c.CA)
}
