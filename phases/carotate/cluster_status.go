package carotate

import (
	"context"
	"fmt"
	"io"
	"slices"
	"strings"
	"text/tabwriter"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"

	"github.com/certctl/certctl/internal/bounded"
	"github.com/certctl/certctl/phases/clusterview"
	"github.com/certctl/certctl/pki"
)

// ClusterStatus is a rotation's cluster record as `ca status` shows it.
type ClusterStatus struct {
	// Object is the ConfigMap of the record.
	Object string       `json:"object"`
	ID     string       `json:"id"`
	Nodes  []NodeStatus `json:"nodes"`
	// Forgotten are the nodes taken out of the rotation with
	// --forget-node (key forgotten.json), which the ConfigMap keeps, also
	// once no node is left in the record (Nodes empty).
	Forgotten []ForgottenNode `json:"forgotten,omitempty"`
}

// ForgottenNode is a node taken out of the rotation with --forget-node.
type ForgottenNode struct {
	Name        string    `json:"name"`
	ForgottenAt time.Time `json:"forgottenAt"`
	// Next is what to run on that node should it still run.
	Next string `json:"next"`
}

// NodeStatus is one node of the cluster record, or a control-plane Node
// that is not in it (stage "none").
type NodeStatus struct {
	Name      string    `json:"name"`
	Stage     string    `json:"stage"`
	Aborting  bool      `json:"aborting,omitempty"`
	Restarted bool      `json:"restarted"`
	Updated   time.Time `json:"updated,omitzero"`
	// Next is what to run on that node, or what it waits for.
	Next string `json:"next"`
}

// clusterStatus reads the cluster record of each CA of states; it
// returns why the cluster was not read, "" when it was.
// A node that has not joined a rotation in progress in the cluster joins
// it with the certificate key (its Next says so, instead of starting one,
// which the rotation's gates would refuse). For sa at reissue, finish
// waits for the tokens of the old key from the last node's reissue
// (run.lastReissue), which the node's own record does not know.
func clusterStatus(ctx context.Context, o StatusOptions, states []State) string {
	rerun, certDir := o.Rerun, o.CertDir
	client, server, err := o.Connect()
	if err != nil {
		return oneLine(err)
	}
	ctx, cancel := context.WithTimeout(ctx, apiTimeout)
	defer cancel()
	// Each read goes through bounded.Call: client-go runs the
	// kubeconfig's exec credential plugin without the request's context,
	// so a plugin that hangs would hold ca status past apiTimeout.
	nodes, err := bounded.Call(ctx, func(ctx context.Context) (*corev1.NodeList, error) {
		return client.CoreV1().Nodes().List(ctx, metav1.ListOptions{LabelSelector: clusterview.ControlPlaneLabel})
	})
	if err != nil {
		return fmt.Sprintf("list the control-plane Nodes from the API server %s: %v", server, oneLine(err))
	}
	cpNodes := mapped(nodes.Items, nodeName)
	for i := range states {
		st := store{client: client, server: server, name: states[i].CA}
		rec, cm, err := st.get(ctx)
		if err != nil {
			return oneLine(err)
		}
		forgotten, ferr := readForgotten(cm)
		if ferr != nil {
			fmt.Fprintf(o.ErrOut, "[warning] %s\n", forgottenUnreadable(ferr, st.what(), st.objectName()))
		}
		if states[i].CA == pki.CAName {
			// Where kubeadm join reads the CA to trust.
			k, _ := kindOf(pki.CAName)
			trustPath := k.paths(certDir).Trust
			trust, terr := readCerts(trustPath)
			published, perr := readClusterInfoCAs(ctx, client)
			if perr != nil {
				states[i].Problems = append(states[i].Problems, oneLine(perr))
			} else if terr == nil {
				active := rec != nil && rec.active() || states[i].Stage == StageTrust || states[i].Stage == StageReissue
				if prob := clusterInfoProblem(published, trust, trustPath, active); prob != "" {
					states[i].Problems = append(states[i].Problems, prob)
				}
			}
		}
		if rec == nil {
			// A rotation over whose ConfigMap keeps its forgotten nodes.
			states[i].Cluster = forgotten.status(st.what(), states[i].CA, nil)
			continue
		}
		gone, err := goneNodes(ctx, client, rec, cpNodes)
		if err != nil {
			return fmt.Sprintf("read the Nodes from the API server %s: %v", server, oneLine(err))
		}
		states[i].Cluster = rec.status(st.what(), cpNodes, gone)
		if f := forgotten.status(st.what(), rec.CA, rec); f != nil {
			states[i].Cluster.Forgotten = f.Forgotten
		}
		if states[i].CA == pki.SAName {
			if at, _ := rec.lastReissue(); at != nil {
				if states[i].Stage == StageReissue && rec.ID == states[i].NewCA {
					o.waitForTokens(&states[i], *at)
				}
				states[i].Cluster.waitForTokens(*at, o.MaxTokenLifetime, o.Now)
			}
		}
		if cmd := rotateCommand(states[i].CA, rerun); rec.active() && states[i].Next == cmd+startsRotation {
			states[i].Next = cmd + " --certificate-key KEY (stage trust: joins the rotation in progress in the cluster)"
			switch {
			case states[i].Stage == StageFinished && states[i].NewCA == rec.ID:
				// This node finished the rotation that others are in.
				states[i].Next = "wait: other nodes are still in this rotation; a new one starts once every node finished it"
			case len(states[i].Trusted) > 0 && states[i].Trusted[0] == rec.ID:
				// Files of a node that re-issued: it cannot join (run.signsWithNew).
				states[i].Next = "move " + certDir + " aside and copy the shared files of a node at stage trust (certctl certs upload there, certctl certs download and certctl init-phase certs all here), then " + states[i].Next + ": this node signs with the rotation's new CA already"
			}
		}
	}
	return ""
}

func nodeName(n corev1.Node) string { return n.Name }

// waitForTokens puts off the finish of sa that a node's next command
// gives until tokens the old key signed up to the last node's restarts
// after reissue (reissued) may have expired, as finish waits
// (StatusOptions.waitForTokens for this node's own).
func (c *ClusterStatus) waitForTokens(reissued time.Time, maxLife time.Duration, now time.Time) {
	until := reissued.Add(maxLife)
	if !now.Before(until) {
		return
	}
	for i := range c.Nodes {
		if strings.HasSuffix(c.Nodes[i].Next, finishNext) {
			c.Nodes[i].Next = "after " + until.Format(time.RFC3339) + " (tokens of the old key expire): " + c.Nodes[i].Next
		}
	}
}

// finishNext ends a node's next command that is its finish.
const finishNext = " (stage finish)"

// status is the record per node, with each node's next command.
func (c *ClusterRecord) status(object string, cpNodes, gone []string) *ClusterStatus {
	out := &ClusterStatus{Object: object, ID: c.ID, Nodes: []NodeStatus{}}
	cmd := "certctl ca rotate " + c.CA
	all := func(stage string) bool { return len(c.late(stage, cpNodes)) == 0 }
	for _, name := range c.names() {
		n := c.Nodes[name]
		s := NodeStatus{Name: name, Stage: n.Stage, Aborting: n.Aborting, Restarted: n.Restarted, Updated: n.Updated}
		switch {
		case n.Stage == StageFinished:
			s.Next = "none: done"
		case !n.Restarted && n.Stage == StageTrust && n.Aborting:
			// Without --abort its next stage is reissue again.
			s.Next = fmt.Sprintf("restart its components, then %s --abort --restarted (goes on with the abort: drops the new CA), or %s --restarted (stage reissue again)", cmd, cmd)
		case !n.Restarted:
			s.Next = fmt.Sprintf("restart its components, then %s --restarted (or %s --restart-control-plane)", cmd, cmd)
		case n.Stage == StageTrust && n.Aborting:
			s.Next = cmd + " --abort (drops the new CA), or " + cmd + " (stage reissue)"
		case n.Stage == StageTrust && all(StageTrust):
			s.Next = cmd + " (stage reissue)"
		case n.Stage == StageTrust:
			s.Next = "wait: every node must be at trust before reissue"
		case all(StageReissue):
			s.Next = cmd + finishNext
		default:
			s.Next = "wait: every node must be at reissue before finish"
		}
		if n.Stage != StageFinished && slices.Contains(gone, name) {
			s.Next = fmt.Sprintf("it has no Node object: if it was removed from the cluster, run %s --forget-node %s on another control-plane node; if not, %s", cmd, name, s.Next)
		}
		out.Nodes = append(out.Nodes, s)
	}
	if c.active() {
		for _, name := range cpNodes {
			if _, ok := c.Nodes[name]; !ok {
				out.Nodes = append(out.Nodes, NodeStatus{Name: name, Stage: "none", Next: cmd + " --certificate-key KEY (stage trust)"})
			}
		}
	}
	return out
}

// printCluster writes each CA's cluster record as a table, or says that
// the cluster was not read.
func (r StatusReport) printCluster(w io.Writer) error {
	if r.ClusterNotRead != "" {
		_, err := fmt.Fprintf(w, "cluster not read (%s): the stages above are this node's only\n", r.ClusterNotRead)
		return err
	}
	for _, s := range r.CAs {
		if s.Cluster == nil {
			continue
		}
		left := ""
		if len(s.Cluster.Nodes) == 0 && len(s.Cluster.Forgotten) > 0 {
			left = "; no node is left in the rotation"
		}
		fmt.Fprintf(w, "%s: %s (new CA sha256 %s%s)\n", s.CA, s.Cluster.Object, short([]string{s.Cluster.ID}), left)
		tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "  NODE\tSTAGE\tRESTARTED\tNEXT")
		for _, n := range s.Cluster.Nodes {
			fmt.Fprintf(tw, "  %s\t%s\t%v\t%s\n", n.Name, stageText(n.Stage, n.Aborting), n.Restarted, n.Next)
		}
		for _, n := range s.Cluster.Forgotten {
			fmt.Fprintf(tw, "  %s\tforgotten\t-\t%s\n", n.Name, n.Next)
		}
		if err := tw.Flush(); err != nil {
			return err
		}
	}
	return nil
}

// goneNodes lists the nodes of c that have no Node object (of those that
// are no control-plane Node, cpNodes): removed from the cluster, whose
// entries only --forget-node takes out.
func goneNodes(ctx context.Context, client kubernetes.Interface, c *ClusterRecord, cpNodes []string) ([]string, error) {
	var gone []string
	if len(cpNodes) == 0 {
		return nil, nil // no control-plane Node at all: nothing to tell a removed node by
	}
	for _, name := range c.names() {
		if slices.Contains(cpNodes, name) {
			continue
		}
		_, err := bounded.Call(ctx, func(ctx context.Context) (*corev1.Node, error) {
			return client.CoreV1().Nodes().Get(ctx, name, metav1.GetOptions{})
		})
		if apierrors.IsNotFound(err) {
			gone = append(gone, name)
		} else if err != nil {
			return nil, err
		}
	}
	return gone, nil
}
