package carotate

import (
	"context"
	"crypto/x509"
	"fmt"
	"slices"
	"strings"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/certctl/certctl/manifests/staticpods"
	"github.com/certctl/certctl/phases/clusterview"
	"github.com/certctl/certctl/phases/copycerts"
	"github.com/certctl/certctl/pki"
)

// probeTimeout bounds one TLS handshake of the finish gate.
const probeTimeout = 5 * time.Second

// newFromCluster picks the new CA of a node that joins a rotation in
// progress at trust: from the Secret with the certificate key, or the one
// given (which must be the rotation's). It returns false when the node
// starts the rotation itself.
func (r *run) newFromCluster(ctx context.Context) (bool, error) {
	cl := r.o.cl
	if cl == nil || !cl.cur.active() {
		return false, nil
	}
	cur := cl.cur
	if mine, ok := cur.Nodes[cl.o.NodeName]; ok && mine.Stage == StageFinished {
		return false, fmt.Errorf("node %s finished the rotation of %s in %s, which is still in progress on other nodes: a new rotation starts once every node finished it (certctl ca status says where each is; a node removed from the cluster leaves it with `certctl ca rotate %s --forget-node NAME`); nothing was changed", cl.o.NodeName, r.k.name, cl.st.what(), r.k.name)
	}
	if cur.ID == r.m.old.id() {
		return false, r.signsWithNew()
	}
	if cur.OldCA != r.m.old.id() {
		return false, fmt.Errorf("node %s's current %s CA (sha256 %s) is not the old CA of the rotation in %s (sha256 %s, on %s): make this node's CA the cluster's first (certctl certs download), then run again", cl.o.NodeName, r.k.name, short([]string{r.m.old.id()}), cl.st.what(), short([]string{cur.OldCA}), nodesLine(cur.names()))
	}
	if r.given {
		if id := r.m.new.id(); id != cur.ID {
			return false, fmt.Errorf("node %s has a different new CA (sha256 %s, from --new-ca-cert/--new-ca-key) than the rotation of %s in progress on %s (sha256 %s): give that one, or --certificate-key with the key its first node printed", cl.o.NodeName, short([]string{id}), r.k.name, nodesLine(cur.names()), short([]string{cur.ID}))
		}
		return true, nil
	}
	if cl.o.CertificateKey == "" {
		newFiles := r.k.entry.BaseName + ".new.crt and " + r.k.entry.BaseName + ".new.key" // what a node keeps at trust
		if r.k.sa {
			newFiles = "sa.new.key"
		}
		return false, fmt.Errorf("a rotation of %s is in progress on %s (new CA sha256 %s): run `%s --certificate-key KEY` with the key its first node printed (or --new-ca-cert/--new-ca-key with that node's %s)", r.k.name, nodesLine(cur.names()), short([]string{cur.ID}), r.o.command(r.k), newFiles)
	}
	n, err := cl.st.download(ctx, cl.o.CertificateKey, cur.ID, r.k.sa)
	if err != nil {
		return false, err
	}
	r.m.new = n
	return true, nil
}

// signsWithNew is the refusal of a node, not in the rotation in progress,
// whose CA is the rotation's new one already: a control-plane node that
// joined the cluster with the shared files of a node that had re-issued
// (certs upload there, or kubeadm's upload-certs). A node joins the
// rotation at trust, signing with the old CA: its files must come from a
// node at trust, after an abort from reissue when there is none.
func (r *run) signsWithNew() error {
	cl := r.o.cl
	var atTrust []string
	for _, name := range cl.cur.names() {
		if cl.cur.Nodes[name].Stage == StageTrust {
			atTrust = append(atTrust, name)
		}
	}
	from := "from " + nodesLine(atTrust) + ", at stage trust"
	if len(atTrust) == 0 {
		from = fmt.Sprintf("from a node at stage trust (none is: go back to it on one with `certctl ca rotate %s --abort`)", r.k.name)
	}
	return fmt.Errorf("node %s signs with the new %s CA of the rotation in progress on %s (sha256 %s) already: its files were copied from a node that had re-issued, and a node joins the rotation at stage trust, signing with the old CA; move %s aside, copy the shared files %s (`certctl certs upload` there, `certctl certs download` and `certctl init-phase certs all` here), then run this again; nothing was changed",
		cl.o.NodeName, r.k.name, nodesLine(cl.cur.names()), short([]string{cl.cur.ID}), r.o.CertDir, from)
}

// refetchNewKey reports whether reissue, on a node of a cluster's
// rotation whose new CA's key (NAME.new.key, which trust made or joined
// with) is gone, reads it again from the Secret with the certificate key:
// the Secret holds it while a node of the rotation has not re-issued. The
// way out was an abort on every node, and a new rotation.
func (r *run) refetchNewKey() bool {
	cl := r.o.cl
	return r.step == stepReissue && r.rec != nil && r.rec.Stage == StageTrust && missing(r.p.NewKey) &&
		cl != nil && cl.o.CertificateKey != ""
}

// fetchNewKey reads the new CA of the rotation (its certificate and key,
// or sa's key) from the Secret, as a node that joins at trust does, for
// refetchNewKey: it must be the record's new CA. Reissue then writes its
// key where the signing key goes, as with the key file.
func (r *run) fetchNewKey(ctx context.Context) error {
	cl := r.o.cl
	n, err := cl.st.download(ctx, cl.o.CertificateKey, r.rec.NewCA, r.k.sa)
	if err != nil {
		return fmt.Errorf("the new %s CA's key %s is gone, and reading it again from the cluster failed: %w", r.k.name, r.p.NewKey, err)
	}
	r.m.new = n
	fmt.Fprintf(r.o.Out, "[ca-rotate] %s: the new CA's key %s was gone: read it again from %s with the certificate key\n", r.k.name, r.p.NewKey, cl.st.secretWhat())
	return nil
}

// gate refuses a stage that would break another node, before anything is
// written: reissue while a node does not trust the new CA yet, finish
// while a node still signs with, or serves a certificate of, the old one,
// and abort to the old CA while a node signs with the new one.
func (r *run) gate(ctx context.Context) error {
	cl := r.o.cl
	if cl == nil {
		return nil
	}
	me := cl.o.NodeName
	if r.step != stepTrust && r.step != stepAbort && r.step != stepAbortReissue {
		if cl.cur == nil || cl.cur.ID != r.rec.NewCA {
			other := "none"
			if cl.cur != nil {
				other = "sha256 " + short([]string{cl.cur.ID}) + " on " + nodesLine(cl.cur.names())
			}
			return fmt.Errorf("node %s has a different new CA (sha256 %s) than the rotation of %s in %s (%s): abort it here (%s --abort, twice from reissue) and join the cluster's rotation with --certificate-key", me, short([]string{r.rec.NewCA}), r.k.name, cl.st.what(), other, r.o.command(r.k))
		}
	}
	switch r.step {
	case stepReissue:
		if err := r.behind(ctx, StageTrust, "trust the new CA", "certctl ca rotate "+r.k.name+" --certificate-key KEY --restart-control-plane"); err != nil {
			return err
		}
		if r.k.name == pki.CAName {
			return r.waitRootCAs(ctx)
		}
	case stepFinish:
		if r.o.Force {
			return nil
		}
		if err := r.behind(ctx, StageReissue, "sign with the new CA", "certctl ca rotate "+r.k.name+" --restart-control-plane"); err != nil {
			return err
		}
		return r.servingOld(ctx)
	case stepAbort, stepAbortReissue:
		return r.abortGate()
	}
	return nil
}

// abortGate refuses an abort that would break another node of the
// record: one that finished trusts the new CA alone and cannot go back,
// so this node must not sign with the old CA again (abort from reissue)
// nor keep certificates of it while dropping the new one (abort from
// trust); and one at reissue signs with the new CA, which an abort from
// trust stops trusting.
func (r *run) abortGate() error {
	cl := r.o.cl
	if cl.cur == nil || cl.cur.ID != r.rec.NewCA {
		return nil
	}
	me := cl.o.NodeName
	var finished, signing []string
	for _, name := range cl.cur.names() {
		switch n := cl.cur.Nodes[name]; {
		case name == me:
		case n.Stage == StageFinished:
			finished = append(finished, name)
		case n.Stage == StageReissue && r.step == stepAbort:
			signing = append(signing, name)
		}
	}
	if len(finished) > 0 {
		return fmt.Errorf("abort of %s on node %s refused: %s finished, and trusts the new CA alone, which no step takes back: a certificate of the old CA from this node would fail there; go on instead with `%s`", r.k.name, me, nodesLine(finished), r.o.command(r.k))
	}
	if len(signing) > 0 {
		return fmt.Errorf("abort of %s on node %s refused: %s signs with the new CA, which this node would stop trusting: run `certctl ca rotate %s --abort` there first", r.k.name, me, nodesLine(signing), r.k.name)
	}
	return nil
}

// behind refuses when a node of the record, or a control-plane Node the
// record does not know, has not reached stage (to do what) with its
// components restarted since.
func (r *run) behind(ctx context.Context, stage, what, run string) error {
	cl := r.o.cl
	ctx, cancel := context.WithTimeout(ctx, apiTimeout)
	defer cancel()
	nodes, err := cl.st.client.CoreV1().Nodes().List(ctx, metav1.ListOptions{LabelSelector: clusterview.ControlPlaneLabel})
	if err != nil {
		return fmt.Errorf("list the control-plane Nodes (label %s) from the API server %s: %w", clusterview.ControlPlaneLabel, cl.st.server, err)
	}
	cpNodes := mapped(nodes.Items, nodeName)
	late := cl.cur.late(stage, cpNodes, cl.o.NodeName)
	if len(late) == 0 {
		return nil
	}
	force := ""
	if stage == StageReissue {
		force = "; --force finishes anyway"
	}
	force += cl.cur.goneHint(cpNodes, cl.o.NodeName)
	return fmt.Errorf("%s of %s on node %s refused: every node must %s first, and %s: run `%s` there (or restart its components and run it with --restarted), then run this again%s", r.step, r.k.name, cl.o.NodeName, what, strings.Join(late, ", "), run, force)
}

// servingOld refuses finish while an endpoint of a node of the record
// serves a certificate of the old CA, or cannot be reached to tell: a
// real TLS handshake with each (staticpods.Served).
func (r *run) servingOld(ctx context.Context) error {
	cl := r.o.cl
	served := cl.o.Served
	if served == nil {
		served = func(ctx context.Context, addr string) ([]*x509.Certificate, error) {
			return staticpods.Served(ctx, addr, nil, probeTimeout)
		}
	}
	var old, unreachable []string
	for _, name := range cl.cur.names() {
		for _, e := range cl.cur.Nodes[name].Endpoints {
			where := fmt.Sprintf("node %s's %s %s (%s)", name, e.Component, e.Name, e.Address)
			chain, err := served(ctx, e.Address)
			if err != nil {
				unreachable = append(unreachable, fmt.Sprintf("%s: %v", where, oneLine(err)))
				continue
			}
			if pki.IssuedBy(chain[0], chain[1:], r.m.old.cert, r.now) == nil || slices.ContainsFunc(chain, r.m.old.cert.Equal) {
				old = append(old, where)
			}
		}
	}
	switch {
	case len(old) > 0:
		return fmt.Errorf("finish of %s on node %s refused: %s still serves a certificate of the old CA: restart it there (certctl ca rotate %s --restart-control-plane), then run this again; --force finishes anyway", r.k.name, cl.o.NodeName, strings.Join(old, ", "), r.k.name)
	case len(unreachable) > 0:
		return fmt.Errorf("finish of %s on node %s refused: cannot tell whether %s serves a certificate of the old CA: start it, then run this again; --force finishes anyway", r.k.name, cl.o.NodeName, strings.Join(unreachable, ", "))
	}
	return nil
}

// waitRootCAs waits, polling every second for WaitTimeout at most, until
// the kube-root-ca.crt ConfigMap of every namespace (kube-controller-
// manager publishes its --root-ca-file, ca.crt, there) holds the old and
// the new CA, so that pods trust the new CA before a kube-apiserver serves
// a certificate of it; then, when no node re-issued yet, RootCASettle for
// the kubelets to update the pods' projected volumes.
func (r *run) waitRootCAs(ctx context.Context) error {
	cl := r.o.cl
	deadline := r.o.Now().Add(cl.o.WaitTimeout)
	said := ""
	for {
		missing, total, err := r.rootCAsMissing(ctx)
		if err == nil && len(missing) == 0 {
			break
		}
		why := fmt.Sprintf("%d of %d namespaces' kube-root-ca.crt do not hold both (%s)", len(missing), total, listFiles(missing))
		if err != nil {
			why = oneLine(err)
		}
		if r.o.DryRun || !r.o.Now().Before(deadline) {
			return fmt.Errorf("reissue of %s on node %s refused: pods must trust the new CA first, and %s after %s: kube-controller-manager publishes ca.crt when it starts: restart it on every node (or wait for its leader to change), then run this again", r.k.name, cl.o.NodeName, why, cl.o.WaitTimeout)
		}
		if why != said {
			fmt.Fprintf(r.o.Out, "[ca-rotate] %s: waiting for every namespace's kube-root-ca.crt to hold the old and the new CA: %s\n", r.k.name, why)
			said = why
		}
		if err := r.o.Sleep(ctx, time.Second); err != nil {
			return err
		}
	}
	if cl.o.RootCASettle < 0 || r.o.DryRun || reachedBy(cl.cur, StageReissue) > 0 {
		return nil
	}
	fmt.Fprintf(r.o.Out, "[ca-rotate] %s: every kube-root-ca.crt holds both CAs; waiting %s for the pods to read them (--root-ca-settle)\n", r.k.name, cl.o.RootCASettle)
	return r.o.Sleep(ctx, cl.o.RootCASettle)
}

// rootCAsMissing lists the namespaces whose kube-root-ca.crt does not
// hold both CAs of the rotation (terminating namespaces apart), of total.
func (r *run) rootCAsMissing(ctx context.Context) ([]string, int, error) {
	ctx, cancel := context.WithTimeout(ctx, apiTimeout)
	defer cancel()
	core := r.o.cl.st.client.CoreV1()
	nss, err := core.Namespaces().List(ctx, metav1.ListOptions{})
	if err != nil {
		return nil, 0, fmt.Errorf("list the namespaces: %w", err)
	}
	cms, err := core.ConfigMaps("").List(ctx, metav1.ListOptions{FieldSelector: "metadata.name=" + copycerts.RootCAConfigMap})
	if err != nil {
		return nil, 0, fmt.Errorf("list the %s ConfigMaps: %w", copycerts.RootCAConfigMap, err)
	}
	held := map[string]bool{}
	for _, cm := range cms.Items {
		certs, _ := pki.ParseCerts([]byte(cm.Data[copycerts.RootCAKey]))
		ids := mapped(certs, fingerprint)
		held[cm.Namespace] = slices.Contains(ids, r.rec.OldCA) && slices.Contains(ids, r.rec.NewCA)
	}
	var missing []string
	total := 0
	for _, ns := range nss.Items {
		if ns.Status.Phase == "Terminating" {
			continue
		}
		total++
		if !held[ns.Name] {
			missing = append(missing, ns.Name)
		}
	}
	return missing, total, nil
}

// lastReissue is when the last node of the rotation started signing
// with the new key, for finish of sa, which waits for the tokens the old
// key signed: this node's reissue, or a later one of another node of the
// cluster record, whose kube-apiserver signed tokens with the old key
// until then, which this node's would reject after its finish. where
// names that other node (" on node NAME"), "" for this one.
func (r *run) lastReissue() (at *time.Time, where string) {
	at = r.rec.ReissuedAt
	cl := r.o.cl
	if cl == nil || cl.cur == nil || cl.cur.ID != r.rec.NewCA {
		return at, ""
	}
	if t, name := cl.cur.lastReissue(); t != nil && (at == nil || t.After(*at)) && name != cl.o.NodeName {
		at, where = t, " on node "+name
	}
	return at, where
}

// lastReissue is the latest reissue of a node of c, and that node. A
// node at reissue whose entry has no time (written by an older certctl)
// counts from when it wrote its entry, which is later.
func (c *ClusterRecord) lastReissue() (at *time.Time, node string) {
	for _, name := range c.names() {
		n := c.Nodes[name]
		t := n.ReissuedAt
		if t == nil && n.Stage == StageReissue {
			t = &n.Updated
		}
		if t != nil && (at == nil || t.After(*at)) {
			at, node = t, name
		}
	}
	return at, node
}
