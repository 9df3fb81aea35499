package carotate

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/url"
	"os"
	"slices"
	"strings"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/certctl/certctl/manifests/staticpods"
	"github.com/certctl/certctl/phases/copycerts"
	"github.com/certctl/certctl/pki"
)

// clusterState is a call's view of the cluster record.
type clusterState struct {
	o   *ClusterOptions
	st  store
	cur *ClusterRecord // as read at the start of the stage, after healing
	// forgotten: this node was taken out of the rotation of its local
	// record with --forget-node (forgottenAt); only an abort goes on.
	forgotten bool
	// settled: refresh did all this call asks for (checkForgotten).
	settled bool
}

// connect makes the API client and reads the cluster record once, so
// that a call that cannot reach the API server fails before it changes
// anything, in one line that names the server and says what to do.
func (o *Options) connect(ctx context.Context, k kind) (*clusterState, error) {
	c := *o.Cluster
	if c.WaitTimeout <= 0 {
		c.WaitTimeout = DefaultWaitTimeout
	}
	if c.RootCASettle == 0 {
		c.RootCASettle = DefaultRootCASettle
	}
	if c.NodeName == "" {
		return nil, fmt.Errorf("the node's name is unknown: pass --node-name (the cluster record of the rotation keeps each node's stage under its name)")
	}
	// Checked before any stage, whichever: after one, put seals the new
	// CA with it, and a stage made would end in this refusal.
	if c.CertificateKey != "" {
		if _, err := copycerts.ParseKey(c.CertificateKey); err != nil {
			return nil, fmt.Errorf("--certificate-key: %w; nothing was changed", err)
		}
	}
	client, server, err := c.Connect()
	if err != nil {
		return nil, fmt.Errorf("%w; or rotate this node alone with --node-only", err)
	}
	cl := &clusterState{o: &c, st: store{client: client, server: server, name: k.name}}
	gctx, cancel := context.WithTimeout(ctx, apiTimeout)
	defer cancel()
	_, err = client.CoreV1().ConfigMaps(metav1.NamespaceSystem).Get(gctx, cl.st.objectName(), metav1.GetOptions{})
	if err != nil && !apierrors.IsNotFound(err) {
		return nil, fmt.Errorf("cannot read the rotation's cluster record %s from the API server %s: %v: start it or pass --kubeconfig; to rotate this node alone (one control-plane node, or the API server down) pass --node-only; nothing was changed", cl.st.what(), server, oneLine(err))
	}
	return cl, nil
}

// oneLine keeps an error on one line.
func oneLine(err error) string {
	return strings.Join(strings.Fields(err.Error()), " ")
}

// refresh reads the cluster record and first makes it say what this
// node's local record says (o.DryRun: only in memory): a kill between a stage's commit
// and the write of the cluster record is healed by the next call.
func (cl *clusterState) refresh(ctx context.Context, o *Options, k kind, p paths, rec *Record) error {
	cur, cm, err := cl.st.get(ctx)
	if err != nil {
		return err
	}
	if forgotten, err := cl.checkForgotten(o, k, p, cm, cur, rec); forgotten || err != nil {
		return err
	}
	if rec != nil {
		eps, err := o.servedEndpoints(k)
		if err != nil {
			return err
		}
		e := cl.entry(o, cur, rec, eps)
		restarted := cl.onlyRestarted(cur, rec, e)
		if cl.behind(cur, rec, e) && o.DryRun {
			// What the real call would write first.
			if restarted {
				fmt.Fprintf(o.Out, "[dry-run] %s: this node's components restarted after stage %s (--restarted): the next call records it in the cluster record %s\n", k.name, rec.Stage, cl.st.what())
			} else {
				fmt.Fprintf(o.Out, "[dry-run] %s: the cluster record %s is behind this node's stage %s: the next call writes it\n", k.name, cl.st.what(), rec.Stage)
			}
			if cur, err = cl.st.withNode(cur, cl.o.NodeName, rec, e); err != nil {
				return err
			}
		} else if cl.behind(cur, rec, e) {
			if restarted {
				fmt.Fprintf(o.Out, "[ca-rotate] %s: this node's components restarted after stage %s (--restarted): recording it in the cluster record %s\n", k.name, rec.Stage, cl.st.what())
			} else {
				fmt.Fprintf(o.Out, "[ca-rotate] %s: the cluster record %s is behind this node's stage %s: writing it\n", k.name, cl.st.what(), rec.Stage)
			}
			if err := cl.put(ctx, o, k, p, rec, e.Restarted); err != nil {
				return err
			}
			if cur, _, err = cl.st.get(ctx); err != nil {
				return err
			}
		}
	}
	cl.cur = cur
	return nil
}

// entry is this node's entry from its record rec. The components
// restarted when the record says so, when the user says so (--restarted,
// which the local record does not keep), or when the cluster record said
// so for the same stage already.
func (cl *clusterState) entry(o *Options, cur *ClusterRecord, rec *Record, eps []ServedEndpoint) NodeStage {
	e := entryOf(rec, o.Now(), eps)
	if o.Restarted && !o.Abort {
		e.Restarted = true
	}
	if cur != nil && cur.ID == rec.NewCA {
		if mine, ok := cur.Nodes[cl.o.NodeName]; ok && mine.Stage == e.Stage && mine.Aborting == e.Aborting && mine.Restarted {
			e.Restarted = true
		}
	}
	return e
}

// onlyRestarted reports whether this node's entry e differs from its
// entry in cur only in that its components restarted: --restarted after a
// stage that went well, which the user says rather than a call killed
// between a stage and the write of the cluster record.
func (cl *clusterState) onlyRestarted(cur *ClusterRecord, rec *Record, e NodeStage) bool {
	if cur == nil || cur.ID != rec.NewCA || !e.Restarted {
		return false
	}
	mine, ok := cur.Nodes[cl.o.NodeName]
	if !ok || mine.Restarted {
		return false
	}
	mine.Restarted = true
	return sameEntry(mine, e)
}

// behind reports whether cur does not say what this node's record rec
// says, so that put must write it.
func (cl *clusterState) behind(cur *ClusterRecord, rec *Record, e NodeStage) bool {
	mine, ok := NodeStage{}, false
	if cur != nil && cur.ID == rec.NewCA {
		mine, ok = cur.Nodes[cl.o.NodeName]
	}
	switch {
	case rec.Active():
		return ok && !sameEntry(mine, e) || !ok && (cur == nil || cur.ID == rec.NewCA || !cur.active())
	case rec.Stage == StageFinished:
		return ok && !sameEntry(mine, e)
	case rec.Stage == StageAborted:
		return ok
	}
	return false
}

// put writes this node's entry from rec, then the Secret: the node that
// has the new CA's key uploads it while a node of the record has not
// re-issued yet (making and printing a certificate key when none was
// given), and deletes it once every node has.
func (cl *clusterState) put(ctx context.Context, o *Options, k kind, p paths, rec *Record, restarted bool) error {
	if cl.forgotten {
		return cl.putForgotten(ctx, o, k, rec)
	}
	eps, err := o.servedEndpoints(k)
	if err != nil {
		return err
	}
	var n side
	var trustPEM []byte
	if rec.Active() {
		// The entry needs the CAs' certificates alone: a key may be gone
		// (readEntry), and the new one is uploaded only when it is not.
		m, err := readMaterial(k, p, rec, readEntry)
		if err != nil {
			return err
		}
		n = m.new
		if trustPEM, err = n.trustPEM(); err != nil {
			return err
		}
	}
	e := entryOf(rec, o.Now(), eps)
	e.Restarted = e.Restarted || restarted
	if err := cl.st.putNode(ctx, cl.o.NodeName, rec, trustPEM, e); err != nil {
		return err
	}
	cur, _, err := cl.st.get(ctx)
	if err != nil {
		return err
	}
	var add []byte
	if rec.Active() {
		add = trustPEM
	}
	if err := cl.publish(ctx, o, k, add, dropped(cur, rec)); err != nil {
		return err
	}
	if cur != nil && cur.ID != rec.NewCA {
		return nil // another rotation's record: its Secret is not ours
	}
	if secretDone(cur, rec.NewCA) {
		if deleted, err := cl.st.deleteSecret(ctx); err != nil || !deleted {
			return err
		}
		fmt.Fprintf(o.Out, "[ca-rotate] %s: every node of the rotation re-issued with the new CA, or left it: deleted %s\n", k.name, cl.st.secretWhat())
		return nil
	}
	if !rec.Active() || n.key == nil {
		return nil // without the new CA's key (gone while backing out), nothing to upload
	}
	keyHex := cl.o.CertificateKey
	if keyHex == "" {
		if keyHex, err = copycerts.NewKey(o.Rand); err != nil {
			return err
		}
	}
	key, err := copycerts.ParseKey(keyHex)
	if err != nil {
		return err
	}
	wrote, err := cl.st.upload(ctx, o.Rand, key, rec.NewCA, n)
	if err != nil || !wrote {
		return err
	}
	fmt.Fprintf(o.Out, "[ca-rotate] %s: the new CA is in %s, encrypted with the certificate key", k.name, cl.st.secretWhat())
	if cl.o.CertificateKey == "" {
		fmt.Fprintf(o.Out, ":\n%s\n", keyHex)
	} else {
		fmt.Fprintf(o.Out, " given with --certificate-key\n")
		keyHex = "KEY"
	}
	others := slices.DeleteFunc(cur.names(), func(n string) bool { return n == cl.o.NodeName })
	if len(others) == 0 {
		fmt.Fprintf(o.Out, "[ca-rotate] On each other control-plane node, one at a time, run: certctl ca rotate %s --certificate-key %s --restart-control-plane\n", k.name, keyHex)
		return nil
	}
	// Written again (after an --abort from reissue here, which took it
	// back after every node had re-issued and it was deleted): the nodes
	// of the rotation hold the new CA and need no key, an earlier key
	// no longer opens it, and only a node that joins now needs this one.
	fmt.Fprintf(o.Out, "[ca-rotate] %s in the rotation hold%s the new CA already and need%s no key: run their next stages as before. Only a control-plane node that joins the rotation now runs: certctl ca rotate %s --certificate-key %s --restart-control-plane (an earlier certificate key no longer opens the Secret)\n",
		capitalize(nodesLine(others)), verbS(others), verbS(others), k.name, keyHex)
	return nil
}

// publish makes the CAs that the cluster publishes follow the rotation of
// k: for ca, kube-public/cluster-info gets the certificates of add (the
// new CA while the rotation is in progress) and loses the CA of
// fingerprint drop; for ca and front-proxy-ca,
// extension-apiserver-authentication loses the CA of drop (dropped: the
// one no node of the rotation trusts any more). It says what it changed.
func (cl *clusterState) publish(ctx context.Context, o *Options, k kind, add []byte, drop string) error {
	if k.name == pki.CAName {
		done, err := cl.st.syncClusterInfo(ctx, add, drop, false)
		if err != nil {
			return err
		}
		if done != "" {
			fmt.Fprintf(o.Out, "[ca-rotate] %s: %s in ConfigMap %s/%s, where kubeadm join finds the CA to trust\n", k.name, done, metav1.NamespacePublic, ClusterInfoConfigMap)
		}
	}
	if drop == "" {
		return nil
	}
	removed, err := cl.st.pruneExtensionAuth(ctx, k, drop, false)
	if err != nil {
		return err
	}
	if removed {
		fmt.Fprintf(o.Out, "[ca-rotate] %s: no node trusts the CA sha256 %s any more: removed it from ConfigMap kube-system/%s (%s), where extension API servers read which CA to trust\n", k.name, short([]string{drop}), ExtensionAuthConfigMap, extensionAuthKey[k.name])
	}
	return nil
}

// secretDone reports whether no node of the rotation whose new CA is id
// needs that CA from the Secret any more, as cur records the rotation:
// every node re-issued with it, or left (no record). A record of another
// rotation is not done with this one's Secret.
func secretDone(cur *ClusterRecord, id string) bool {
	return cur == nil || cur.ID == id && reachedBy(cur, StageReissue) == len(cur.Nodes)
}

// reachedBy counts the nodes of cur at stage or past it.
func reachedBy(cur *ClusterRecord, stage string) int {
	count := 0
	for _, n := range cur.Nodes {
		if stageOrder[n.Stage] >= stageOrder[stage] {
			count++
		}
	}
	return count
}

// after writes the stage r made, and what its restarts did, to the
// cluster record. With Restart the local kube-apiserver may have just
// restarted: the write is tried again every second until it answers,
// for the restart timeout at most.
func (cl *clusterState) after(ctx context.Context, o *Options, k kind, p paths) error {
	rec, err := ReadRecord(p.Record)
	if err != nil || rec == nil {
		return err
	}
	wait := 30 * time.Second
	if o.Restart && o.RestartTimeout > wait {
		wait = o.RestartTimeout
	}
	deadline := o.Now().Add(wait)
	for {
		err := cl.put(ctx, o, k, p, rec, false)
		if err == nil || errors.Is(err, errRefused) || !o.Now().Before(deadline) || ctx.Err() != nil {
			switch {
			case errors.Is(err, errRefused):
				// Two nodes that started at once: writing again refuses
				// again; the one that wrote second backs out of its own
				// rotation, and joins the other.
				return fmt.Errorf("stage %s of %s is done on this node, but the cluster record was not written: %w: abort it here (`%s --abort`, twice from reissue), then join that rotation with --certificate-key and the key its first node printed", rec.Stage, k.name, err, o.command(k))
			case err != nil:
				return fmt.Errorf("stage %s of %s is done on this node, but the cluster record could not be written: %w; the next `%s` writes it first", rec.Stage, k.name, err, o.command(k))
			}
			return nil
		}
		if err := o.Sleep(ctx, time.Second); err != nil {
			return err
		}
	}
}

// servedEndpoints lists where this node serves a certificate of k, as
// its manifests say (the endpoints a restart checks), at the address the
// other nodes reach: etcd's advertised URLs rather than its loopback one.
func (o *Options) servedEndpoints(k kind) ([]ServedEndpoint, error) {
	if o.ManifestDir == "" || k.sa {
		return nil, nil
	}
	if _, err := os.Stat(o.ManifestDir); err != nil {
		return nil, nil
	}
	_, affected, err := o.affected(k)
	if err != nil {
		return nil, err
	}
	var out []ServedEndpoint
	for _, a := range affected {
		for _, e := range a.Endpoints {
			out = append(out, ServedEndpoint{Component: a.Component, Name: e.Name, Address: advertised(a.Manifest, e)})
		}
	}
	return out, nil
}

// advertised is the address of endpoint e that other nodes dial: etcd
// listens on loopback too, and Endpoint picks that one for local checks.
func advertised(m *staticpods.Manifest, e staticpods.Endpoint) string {
	if m.Component != pki.Etcd {
		return e.Address
	}
	flag := "advertise-client-urls"
	if e.Name == "peer port" {
		flag = "initial-advertise-peer-urls"
	}
	for _, s := range strings.Split(m.Flag(flag), ",") {
		if u, err := url.Parse(strings.TrimSpace(s)); err == nil && u.Scheme == "https" && u.Port() != "" {
			return net.JoinHostPort(u.Hostname(), u.Port())
		}
	}
	return e.Address
}

// affected loads the manifests of ManifestDir and lists the components
// that must restart after a stage: those that name a file of k the stage
// changes.
func (o *Options) affected(k kind) (*staticpods.Set, []staticpods.Affected, error) {
	set, err := staticpods.Load(o.ManifestDir)
	if err != nil {
		return nil, nil, err
	}
	p := k.paths(o.CertDir)
	changed := []string{p.Trust, p.Key}
	hs, err := heldOf(k, o.ExternalEtcd, o.CertDir, o.KubeconfigDir)
	if err != nil {
		return nil, nil, err
	}
	for _, h := range hs {
		changed = append(changed, h.file)
		if h.entry.Kind == pki.KindLeaf {
			changed = append(changed, pki.Store{Dir: o.CertDir}.KeyPath(h.entry.BaseName))
		}
	}
	return set, set.Affected(slices.Compact(changed)), nil
}

// capitalize starts s with a capital letter, for the start of a sentence.
func capitalize(s string) string {
	if s == "" {
		return s
	}
	return strings.ToUpper(s[:1]) + s[1:]
}

// verbS is the "s" of a verb in the present whose subject is nodes.
func verbS(nodes []string) string {
	if len(nodes) == 1 {
		return "s"
	}
	return ""
}
