package carotate

import (
	"context"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"slices"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/util/retry"

	"github.com/certctl/certctl/internal/bounded"
	"github.com/certctl/certctl/pki"
)

// ClusterOptions make a rotation cluster-wide: each node keeps its stage
// in a ConfigMap of kube-system beside the other control-plane nodes',
// the new CA reaches the other nodes through an encrypted Secret, and a
// stage that would break another node is refused (gates.go). Options.Cluster
// nil rotates the node alone (`--node-only`).
type ClusterOptions struct {
	// Connect returns the API client and names the API server for
	// messages ("https://10.0.0.1:6443 (kubeconfig /etc/kubernetes/admin.conf)").
	Connect func() (kubernetes.Interface, string, error)
	// NodeName is this node's key in the record (the node name certctl
	// resolves, as renew's restart Leases use).
	NodeName string
	// CertificateKey (hex, copycerts.ParseKey) encrypts the new CA in the
	// Secret on the node that starts the rotation (one is made and
	// printed when empty), and decrypts it on the others.
	CertificateKey string
	// In is read for a CertificateKey of copycerts.FromStdin ("-").
	In io.Reader
	// WaitTimeout bounds the waits of the gates (kube-root-ca.crt before
	// reissue of ca); DefaultWaitTimeout when zero.
	WaitTimeout time.Duration
	// RootCASettle is how long reissue of ca waits, once every
	// kube-root-ca.crt holds both CAs and no node re-issued yet, for pods
	// to read them (the kubelet updates projected volumes within about a
	// minute); DefaultRootCASettle when zero, none when negative.
	RootCASettle time.Duration
	// ForgetNode, when set, removes that node's entry from the cluster
	// record and does nothing else (forget): the way out for a
	// control-plane node removed mid-rotation. Options.Force forgets it
	// although it has a Node object.
	ForgetNode string
	// Served returns the chain an endpoint serves (staticpods.Served
	// when nil).
	Served func(ctx context.Context, addr string) ([]*x509.Certificate, error)
	// The waits of the gates and of the record's writes go by Options.Now
	// and Options.Sleep, the rotation's one clock.
}

// Defaults of ClusterOptions.
const (
	DefaultWaitTimeout  = 5 * time.Minute
	DefaultRootCASettle = time.Minute
	// apiTimeout bounds each request to the API server.
	apiTimeout = 10 * time.Second
)

// ClusterPrefix names the ConfigMap of a rotation's cluster record and
// the Secret of its new CA in kube-system: certctl-ca-rotation-NAME.
const ClusterPrefix = "certctl-ca-rotation-"

// The keys of the ConfigMap.
const (
	recordKey  = "rotation.json"
	managedBy  = "app.kubernetes.io/managed-by"
	idAnnotate = "certctl.io/ca-rotation-id"
)

// ClusterRecord is a rotation of one CA across the control-plane nodes,
// as its ConfigMap holds it.
type ClusterRecord struct {
	Version int    `json:"version"`
	CA      string `json:"ca"`
	// ID is the rotation's new CA: the SHA-256 fingerprint of its
	// certificate (of its public key for sa), the record's NewCA.
	ID    string `json:"id"`
	OldCA string `json:"oldCA"`
	// Nodes is each node's stage, by node name.
	Nodes map[string]NodeStage `json:"nodes"`
}

// NodeStage is one node's rotation, as the node last wrote it.
type NodeStage struct {
	Stage    string `json:"stage"`
	Aborting bool   `json:"aborting,omitempty"`
	// Restarted: the components read the files of Stage.
	Restarted bool      `json:"restarted"`
	Updated   time.Time `json:"updated"`
	// ReissuedAt is when the node's new CA (sa: key) started signing, as
	// its local record says: finish of sa waits for the tokens its old
	// key signed before, on every node.
	ReissuedAt *time.Time `json:"reissuedAt,omitempty"`
	// Endpoints are where the node serves a certificate of the rotated CA.
	Endpoints []ServedEndpoint `json:"endpoints,omitempty"`
}

// ServedEndpoint is a TLS endpoint of a node serving a certificate of the
// rotated CA.
type ServedEndpoint struct {
	Component string `json:"component"`
	Name      string `json:"name"`
	Address   string `json:"address"`
}

// active reports whether some node is in the middle of the rotation.
func (c *ClusterRecord) active() bool {
	if c == nil {
		return false
	}
	for _, n := range c.Nodes {
		if n.Stage == StageTrust || n.Stage == StageReissue {
			return true
		}
	}
	return false
}

// names lists the record's nodes, sorted.
func (c *ClusterRecord) names() []string {
	return slices.Sorted(maps.Keys(c.Nodes))
}

// stageOrder orders the stages for the gates.
var stageOrder = map[string]int{StageTrust: 1, StageReissue: 2, StageFinished: 3}

// atLeast reports whether n has reached stage with its components
// restarted since, or gone past it. A node going back (aborting) from
// reissue is at trust.
func (n NodeStage) atLeast(stage string) bool {
	got, want := stageOrder[n.Stage], stageOrder[stage]
	return got > want || got == want && n.Restarted
}

// describe says where a node is, for messages.
func (n NodeStage) describe() string {
	s := "at stage " + stageText(n.Stage, n.Aborting)
	if !n.Restarted && n.Stage != StageFinished {
		s += ", its components not restarted since"
	}
	return s
}

// late says which nodes but those of except have not reached stage with
// their components restarted since (atLeast): the nodes of c, then the
// control-plane Nodes cpNodes that c does not know.
func (c *ClusterRecord) late(stage string, cpNodes []string, except ...string) []string {
	var out []string
	for _, name := range c.names() {
		if n := c.Nodes[name]; !slices.Contains(except, name) && !n.atLeast(stage) {
			out = append(out, fmt.Sprintf("node %s is %s", name, n.describe()))
		}
	}
	for _, name := range cpNodes {
		if _, ok := c.Nodes[name]; !ok && !slices.Contains(except, name) {
			out = append(out, fmt.Sprintf("control-plane node %s is not in the rotation", name))
		}
	}
	return out
}

// store reads and writes the ConfigMap and Secret of one rotation.
type store struct {
	client kubernetes.Interface
	server string // for messages
	name   string // the CA's name: "ca", "sa", ...
}

func (s store) objectName() string { return ClusterPrefix + s.name }

func (s store) what() string { return "ConfigMap kube-system/" + s.objectName() }

// get reads the cluster record; nil when there is none.
func (s store) get(ctx context.Context) (*ClusterRecord, *corev1.ConfigMap, error) {
	ctx, cancel := context.WithTimeout(ctx, apiTimeout)
	defer cancel()
	// bounded.Call: a kubeconfig's exec credential plugin that hangs would
	// hold the read past apiTimeout (ca status, ca rotate).
	cm, err := bounded.Call(ctx, func(ctx context.Context) (*corev1.ConfigMap, error) {
		return s.client.CoreV1().ConfigMaps(metav1.NamespaceSystem).Get(ctx, s.objectName(), metav1.GetOptions{})
	})
	if apierrors.IsNotFound(err) {
		return nil, nil, nil
	}
	if err != nil {
		return nil, nil, fmt.Errorf("read %s from the API server %s: %w", s.what(), s.server, err)
	}
	rec, err := decodeCluster(cm)
	if err != nil {
		return nil, nil, fmt.Errorf("%s: %w: delete it (kubectl -n kube-system delete configmap %s) and run `certctl ca rotate %s` on every node again", s.what(), err, s.objectName(), s.name)
	}
	return rec, cm, nil
}

func decodeCluster(cm *corev1.ConfigMap) (*ClusterRecord, error) {
	if _, ok := cm.Data[recordKey]; !ok && cm.Data[forgottenKey] != "" {
		return nil, nil // a rotation over, whose forgotten nodes it keeps
	}
	var rec ClusterRecord
	if err := json.Unmarshal([]byte(cm.Data[recordKey]), &rec); err != nil {
		return nil, fmt.Errorf("parse %s: %w", recordKey, err)
	}
	if rec.Version != recordVersion {
		return nil, fmt.Errorf("%s has version %d, this certctl reads %d", recordKey, rec.Version, recordVersion)
	}
	if rec.Nodes == nil {
		rec.Nodes = map[string]NodeStage{}
	}
	return &rec, nil
}

// errRefused marks an update that must not be retried.
var errRefused = errors.New("refused")

// update applies change to the cluster record (nil when there is none)
// and writes the result with the ConfigMap's resourceVersion, again from
// a fresh read on a conflict; change returning nil deletes the ConfigMap,
// or only the record while the ConfigMap names forgotten nodes of the
// rotation (forgottenKey).
// trustPEM is the new CA's public part, kept beside the record.
func (s store) update(ctx context.Context, trustPEM []byte, change func(cur *ClusterRecord) (*ClusterRecord, error)) error {
	return s.updateForgetting(ctx, trustPEM, nil, change)
}

// updateForgetting is update that, with mark, also remembers that node
// mark.node was forgotten from the rotation of cur (forgottenKey). The
// ConfigMap then stays when change deletes the record, holding the
// forgotten nodes alone; they go with the record of another rotation.
func (s store) updateForgetting(ctx context.Context, trustPEM []byte, mark *forgottenMark, change func(cur *ClusterRecord) (*ClusterRecord, error)) error {
	return retry.RetryOnConflict(retry.DefaultBackoff, func() error {
		cur, cm, err := s.get(ctx)
		if err != nil {
			return err
		}
		next, err := change(cur)
		if err != nil {
			return err
		}
		tomb := forgottenIn(cm).with(cur, mark).of(next)
		ctx, cancel := context.WithTimeout(ctx, apiTimeout)
		defer cancel()
		cms := s.client.CoreV1().ConfigMaps(metav1.NamespaceSystem)
		if next == nil && cm != nil && len(tomb.Nodes) > 0 {
			cm = cm.DeepCopy()
			delete(cm.Data, recordKey)
			delete(cm.Data, trustKey(s.name))
			if err := tomb.into(cm); err != nil {
				return err
			}
			_, err = cms.Update(ctx, cm, metav1.UpdateOptions{})
			return err
		}
		if next == nil {
			if cm == nil {
				return nil
			}
			err := cms.Delete(ctx, s.objectName(), metav1.DeleteOptions{Preconditions: &metav1.Preconditions{ResourceVersion: &cm.ResourceVersion}})
			if apierrors.IsNotFound(err) {
				return nil
			}
			return err
		}
		data, err := json.MarshalIndent(next, "", "  ")
		if err != nil {
			return err
		}
		if cm == nil {
			cm = &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: s.objectName(), Namespace: metav1.NamespaceSystem,
				Labels: map[string]string{managedBy: "certctl"}}}
			cm.Data = map[string]string{recordKey: string(data), trustKey(s.name): string(trustPEM)}
			_, err = cms.Create(ctx, cm, metav1.CreateOptions{})
			if apierrors.IsAlreadyExists(err) {
				// Another node made it meanwhile: read it again.
				return apierrors.NewConflict(corev1.Resource("configmaps"), s.objectName(), err)
			}
			return err
		}
		cm = cm.DeepCopy()
		if cm.Data == nil {
			cm.Data = map[string]string{}
		}
		cm.Data[recordKey] = string(data)
		if len(trustPEM) > 0 {
			cm.Data[trustKey(s.name)] = string(trustPEM)
		}
		if err := tomb.into(cm); err != nil {
			return err
		}
		_, err = cms.Update(ctx, cm, metav1.UpdateOptions{})
		return err
	})
}

// trustKey is the ConfigMap's key of the new CA's public part.
func trustKey(name string) string {
	if name == pki.SAName {
		return "sa.new.pub"
	}
	return name + ".new.crt"
}

// entryOf is the node's stage in the cluster record from its local record.
func entryOf(rec *Record, now time.Time, eps []ServedEndpoint) NodeStage {
	e := NodeStage{Stage: rec.Stage, Aborting: rec.Aborting, Restarted: rec.Restarted || len(rec.Restart) == 0,
		Updated: now.UTC(), Endpoints: eps}
	if rec.ReissuedAt != nil {
		at := rec.ReissuedAt.UTC()
		e.ReissuedAt = &at
	}
	return e
}

// sameEntry reports whether a and b say the same but for the time.
func sameEntry(a, b NodeStage) bool {
	a.Updated, b.Updated = time.Time{}, time.Time{}
	ja, _ := json.Marshal(a)
	jb, _ := json.Marshal(b)
	return string(ja) == string(jb)
}

// putNode writes this node's entry from its local record rec (withNode).
func (s store) putNode(ctx context.Context, node string, rec *Record, trustPEM []byte, e NodeStage) error {
	return s.update(ctx, trustPEM, func(cur *ClusterRecord) (*ClusterRecord, error) {
		return s.withNode(cur, node, rec, e)
	})
}

// withNode is cur with node's entry e from its local record rec: in the
// rotation of rec's new CA, replacing a record of an earlier rotation that
// no node is in the middle of; a node that aborted to the old CA leaves
// the record, and the last one deletes it (nil). It refuses to touch the
// record of another rotation in progress. cur is not changed.
func (s store) withNode(cur *ClusterRecord, node string, rec *Record, e NodeStage) (*ClusterRecord, error) {
	if cur != nil && cur.ID != rec.NewCA {
		if rec.Stage == StageAborted || rec.Stage == StageFinished {
			return cur, nil // not this rotation's record: nothing of ours in it
		}
		if cur.active() {
			return nil, fmt.Errorf("%w: %s is the record of another rotation of %s (new CA sha256 %s), in progress on %s: this node's new CA is sha256 %s (a node of it removed from the cluster leaves it with `certctl ca rotate %s --forget-node NAME`)", errRefused, s.what(), s.name, short([]string{cur.ID}), strings.Join(cur.names(), ", "), short([]string{rec.NewCA}), s.name)
		}
		cur = nil
	}
	if cur == nil {
		if rec.Stage == StageAborted || rec.Stage == StageFinished {
			return nil, nil
		}
		cur = &ClusterRecord{Version: recordVersion, CA: s.name, ID: rec.NewCA, OldCA: rec.OldCA, Nodes: map[string]NodeStage{}}
	}
	next := *cur
	next.Nodes = maps.Clone(cur.Nodes)
	if rec.Stage == StageAborted {
		delete(next.Nodes, node)
		if len(next.Nodes) == 0 {
			return nil, nil
		}
		return &next, nil
	}
	next.Nodes[node] = e
	return &next, nil
}

// nodesLine lists nodes, which every caller has sorted, for a message.
func nodesLine(nodes []string) string {
	if len(nodes) == 1 {
		return "node " + nodes[0]
	}
	return "nodes " + strings.Join(nodes, ", ")
}
