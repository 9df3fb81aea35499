package carotate

import (
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/util/retry"
)

// forgottenKey is the key of a rotation's ConfigMap that names the nodes
// --forget-node took out of it (forget). Such a node that runs certctl
// again, its local stage made but maybe never recorded (a call killed),
// would otherwise write its entry back and publish the new CA again,
// which the forget of the last node removed: refresh refuses it.
const forgottenKey = "forgotten.json"

// forgottenNodes are the nodes forgotten from the rotation whose new CA is
// ID, and when.
type forgottenNodes struct {
	ID    string               `json:"id"`
	Nodes map[string]time.Time `json:"nodes"`
}

// forgottenMark is a node that update forgets, and when.
type forgottenMark struct {
	node string
	at   time.Time
}

// forgottenIn reads forgottenKey of cm: none when cm is nil or has none.
// A key that does not parse counts as none: it only guards against a
// forgotten node coming back, and the record stays readable.
func forgottenIn(cm *corev1.ConfigMap) forgottenNodes {
	f, _ := readForgotten(cm)
	return f
}

// readForgotten is forgottenIn with the error of a key that does not
// parse, which ca status warns of (forgottenUnreadable).
func readForgotten(cm *corev1.ConfigMap) (forgottenNodes, error) {
	var f forgottenNodes
	if cm == nil || cm.Data[forgottenKey] == "" {
		return f, nil
	}
	if err := json.Unmarshal([]byte(cm.Data[forgottenKey]), &f); err != nil {
		return forgottenNodes{}, err
	}
	return f, nil
}

// forgottenUnreadable says, for ca status, that forgottenKey of the
// ConfigMap (what, named name) does not parse (err, from readForgotten),
// which forgottenIn reads as no node forgotten, and how to fix it.
func forgottenUnreadable(err error, what, name string) string {
	return fmt.Sprintf("key %s of %s does not parse (%v): no node taken out of the rotation with --forget-node is refused its next stage; write it again as {\"id\":\"NEW CA SHA256\",\"nodes\":{\"NODE\":\"RFC 3339 TIME\"}}, or delete it if no node was forgotten (kubectl -n kube-system edit configmap %s)", forgottenKey, what, err, name)
}

// with is f with mark's node forgotten from the rotation of cur.
func (f forgottenNodes) with(cur *ClusterRecord, mark *forgottenMark) forgottenNodes {
	if mark == nil || cur == nil {
		return f
	}
	if f.ID != cur.ID {
		f = forgottenNodes{ID: cur.ID}
	}
	f.Nodes = maps.Clone(f.Nodes)
	if f.Nodes == nil {
		f.Nodes = map[string]time.Time{}
	}
	f.Nodes[mark.node] = mark.at.UTC()
	return f
}

// of is f beside the record next: none beside another rotation's.
func (f forgottenNodes) of(next *ClusterRecord) forgottenNodes {
	if next != nil && next.ID != f.ID {
		return forgottenNodes{}
	}
	return f
}

// into writes f to forgottenKey of cm, or removes the key when f is empty.
func (f forgottenNodes) into(cm *corev1.ConfigMap) error {
	if len(f.Nodes) == 0 {
		delete(cm.Data, forgottenKey)
		return nil
	}
	data, err := json.Marshal(f)
	if err != nil {
		return err
	}
	if cm.Data == nil {
		cm.Data = map[string]string{}
	}
	cm.Data[forgottenKey] = string(data)
	return nil
}

// status is f as ca status shows it beside cur, the record of the CA
// called ca in ConfigMap object (nil: no node is left in it): nil when f
// names no node of cur's rotation. A node in cur is not forgotten any
// more (forgottenAt): it joined again. Each says what the node must do,
// should it still run: abort, as its next stage's refusal says
// (forgottenError), then join the cluster again.
func (f forgottenNodes) status(object, ca string, cur *ClusterRecord) *ClusterStatus {
	if len(f.Nodes) == 0 || cur != nil && cur.ID != f.ID {
		return nil
	}
	out := &ClusterStatus{Object: object, ID: f.ID, Nodes: []NodeStatus{}}
	cmd := "certctl ca rotate " + ca
	for _, name := range slices.Sorted(maps.Keys(f.Nodes)) {
		if cur != nil {
			if _, in := cur.Nodes[name]; in {
				continue
			}
		}
		at := f.Nodes[name].UTC()
		out.Forgotten = append(out.Forgotten, ForgottenNode{Name: name, ForgottenAt: at,
			Next: fmt.Sprintf("taken out with --forget-node at %s: if it still runs, %s --abort there (twice from reissue), then kubeadm reset and kubeadm join; nothing once it is gone or joined again", at.Format(time.RFC3339), cmd)})
	}
	if len(out.Forgotten) == 0 {
		return nil
	}
	return out
}

// forgottenAt says when this node was forgotten from the rotation of its
// local record rec, as cm remembers, while the cluster record cur does
// not hold it: ok false when it was not, or rec has no rotation in
// progress.
func (cl *clusterState) forgottenAt(cm *corev1.ConfigMap, cur *ClusterRecord, rec *Record) (time.Time, bool) {
	if rec == nil || !rec.Active() {
		return time.Time{}, false
	}
	f := forgottenIn(cm)
	at, ok := f.Nodes[cl.o.NodeName]
	if !ok || f.ID != rec.NewCA {
		return time.Time{}, false
	}
	if cur != nil && cur.ID == rec.NewCA {
		if _, in := cur.Nodes[cl.o.NodeName]; in {
			return time.Time{}, false
		}
	}
	return at, true
}

// checkForgotten refuses a call of a node forgotten from the rotation of
// its local record rec (forgottenAt) but its abort, which it lets go on
// alone (forgotten true): no entry written (putForgotten), no gate of the
// other nodes (no cl.cur); and but its --restarted after an abort from
// reissue, which only records the restarts that abort asked for
// (restartedAfterAbort).
func (cl *clusterState) checkForgotten(o *Options, k kind, p paths, cm *corev1.ConfigMap, cur *ClusterRecord, rec *Record) (bool, error) {
	at, ok := cl.forgottenAt(cm, cur, rec)
	if !ok {
		return false, nil
	}
	tag, done := recorded(o.DryRun)
	if restartedAfterAbort(o, rec) {
		if !o.DryRun {
			if err := o.markRestarted(p, rec, o.Now()); err != nil {
				return false, err
			}
			done += ", and nothing else done"
		}
		fmt.Fprintf(o.Out, "%s %s: node %s was taken out of the rotation with --forget-node at %s (key %s of %s): the restarts after the abort from reissue %s; `%s --abort` takes it back to the old CA, then join it to the cluster again (kubeadm reset, kubeadm join)\n", tag, k.name, cl.o.NodeName, at.Format(time.RFC3339), forgottenKey, cl.st.what(), done, o.command(k))
		cl.forgotten, cl.settled, cl.cur = true, true, nil
		return true, nil
	}
	if !o.Abort {
		return false, cl.forgottenError(o, k, rec, at)
	}
	fmt.Fprintf(o.Out, "%s %s: node %s was taken out of the rotation with --forget-node at %s (key %s of %s): its abort is not written to the cluster record, and waits for no other node\n", tag, k.name, cl.o.NodeName, at.Format(time.RFC3339), forgottenKey, cl.st.what())
	cl.forgotten, cl.cur = true, nil
	return true, nil
}

// restartedAfterAbort reports whether o is a --restarted alone (no
// stage named) after an abort from reissue (rec at trust, aborting) whose
// restarts are not recorded yet: it says the components read the
// certificates the old CA re-issued. A node not forgotten goes on to
// reissue again; a forgotten one only records the restarts, so that
// its --abort, the one step left to it, goes on.
func restartedAfterAbort(o *Options, rec *Record) bool {
	return o.Restarted && !o.Restart && !o.Abort && o.To == "" &&
		rec.Stage == StageTrust && rec.Aborting && len(rec.Restart) > 0 && !rec.Restarted
}

// forgottenError refuses a stage of a node forgotten at at from the
// rotation of rec: it would write its entry again and publish the new CA.
func (cl *clusterState) forgottenError(o *Options, k kind, rec *Record, at time.Time) error {
	return fmt.Errorf("node %s was taken out of the rotation of %s with --forget-node at %s (key %s of %s), and is at stage %s of it here: a stage would write its entry again and publish the new CA that the cluster may have dropped; take it out with `%s --abort` (twice from reissue), then join it to the cluster again (kubeadm reset, kubeadm join); or, if forgetting it was a mistake, delete that key (kubectl -n kube-system edit configmap %s) and run this again; nothing was changed",
		cl.o.NodeName, k.name, at.Format(time.RFC3339), forgottenKey, cl.st.what(), stageText(rec.Stage, rec.Aborting), o.command(k), cl.st.objectName())
}

// putForgotten is put for a node forgotten from the rotation of rec,
// which only an abort reaches (refresh): its entry is not written, and
// once it aborted to the old CA it leaves forgottenKey, and the CA no node
// trusts any more leaves what the cluster publishes, as put does.
func (cl *clusterState) putForgotten(ctx context.Context, o *Options, k kind, rec *Record) error {
	if rec.Active() {
		fmt.Fprintf(o.Out, "[ca-rotate] %s: node %s is out of the rotation (--forget-node): %s is not written to %s; `%s --abort` again takes it back to the old CA\n", k.name, cl.o.NodeName, stageText(rec.Stage, rec.Aborting), cl.st.what(), o.command(k))
		return nil
	}
	cur, _, err := cl.st.get(ctx)
	if err != nil {
		return err
	}
	if err := cl.publish(ctx, o, k, nil, dropped(cur, rec)); err != nil {
		return err
	}
	if err := cl.st.unforget(ctx, cl.o.NodeName); err != nil {
		return err
	}
	fmt.Fprintf(o.Out, "[ca-rotate] %s: node %s aborted the rotation it was forgotten from: removed it from key %s of %s\n", k.name, cl.o.NodeName, forgottenKey, cl.st.what())
	return nil
}

// unforget removes node from forgottenKey, and the ConfigMap once it
// holds nothing else.
func (s store) unforget(ctx context.Context, node string) error {
	err := retry.RetryOnConflict(retry.DefaultBackoff, func() error {
		_, cm, err := s.get(ctx)
		if err != nil || cm == nil {
			return err
		}
		f := forgottenIn(cm)
		if _, ok := f.Nodes[node]; !ok {
			return nil
		}
		f.Nodes = maps.Clone(f.Nodes)
		delete(f.Nodes, node)
		ctx, cancel := context.WithTimeout(ctx, apiTimeout)
		defer cancel()
		cms := s.client.CoreV1().ConfigMaps(metav1.NamespaceSystem)
		if _, ok := cm.Data[recordKey]; !ok && len(f.Nodes) == 0 {
			err := cms.Delete(ctx, s.objectName(), metav1.DeleteOptions{Preconditions: &metav1.Preconditions{ResourceVersion: &cm.ResourceVersion}})
			if apierrors.IsNotFound(err) {
				return nil
			}
			return err
		}
		cm = cm.DeepCopy()
		if err := f.into(cm); err != nil {
			return err
		}
		_, err = cms.Update(ctx, cm, metav1.UpdateOptions{})
		return err
	})
	if err != nil {
		return fmt.Errorf("remove node %s from key %s of %s on the API server %s: %w: this node aborted; remove it from that key by hand (kubectl -n kube-system edit configmap %s)", node, forgottenKey, s.what(), s.server, err, s.objectName())
	}
	return nil
}
