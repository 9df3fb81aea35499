package copycerts

import (
	"crypto/x509"
	"fmt"
	"slices"
	"strings"

	"github.com/certctl/certctl/phases/carotate/castage"
	"github.com/certctl/certctl/pki"
)

// rotating refuses a download whose conflicts (the node's files that
// differ from the Secret's) are those of a CA or key pair this node is
// rotating (`certctl ca rotate`, docs/ca-rotation.md): its trust file
// holds the rotation's old and new CA, its key is the one of the stage,
// and the Secret's (uploaded before the rotation, from a node at another
// stage, or from one that left it) can only differ. The node is the
// cluster's, not another cluster's as foreignFiles would say, and
// moving its folder aside would lose the rotation: it needs no download,
// it goes on with its rotation. nil when no conflict is a rotation's.
func rotating(certDir string, es []entry, files map[string][]byte, conflicts []string, where string) error {
	inv := pki.Kubeadm()
	var why, names, explained []string
	for _, e := range es {
		if e.name == "" || slices.Contains(names, e.name) || !slices.ContainsFunc(es, func(o entry) bool { return o.name == e.name && slices.Contains(conflicts, o.path) }) {
			continue
		}
		ie, ok := inv.Find(e.name)
		if !ok {
			continue
		}
		f := castage.FilesOf(certDir, ie)
		rec, err := castage.ReadRecord(f.Record)
		if err != nil {
			return err
		}
		if !rec.Active() {
			continue
		}
		names = append(names, e.name)
		for _, o := range es {
			if o.name == e.name && slices.Contains(conflicts, o.path) {
				explained = append(explained, o.path)
			}
		}
		why = append(why, fmt.Sprintf("this node is in a rotation of %s, at stage %s (record %s): %s holds its old and new %s, and the secret's %s", e.name, rec.Stage, f.Record, f.Trust, trustNoun(ie), secretSide(ie, rec, files[trustEntry(es, e.name).key])))
	}
	// A conflict no rotation explains is another cluster's file:
	// foreignFiles says so.
	if len(why) == 0 || len(explained) < len(conflicts) {
		return nil
	}
	differ := "differs"
	if len(conflicts) > 1 {
		differ = "differ"
	}
	var next []string
	for _, n := range names {
		next = append(next, "certctl ca rotate "+n)
	}
	return fmt.Errorf("%s %s from secret %s: %s; nothing was written. This node has the cluster's files already and needs no download: go on with its rotation (%s; `certctl ca status` says the next step, docs/ca-rotation.md), and do not move %s aside, which would lose it",
		strings.Join(conflicts, ", "), differ, where, strings.Join(why, "; "), strings.Join(next, ", "), certDir)
}

// trustNoun is what the trust file of e holds.
func trustNoun(e pki.Entry) string {
	if e.Kind == pki.KindKeyPair {
		return "public keys"
	}
	return "CAs"
}

// trustEntry is the entry of es that holds what name's trust file
// holds: the CA certificate, or the public key of a key pair.
func trustEntry(es []entry, name string) entry {
	i := slices.IndexFunc(es, func(e entry) bool { return e.name == name && (e.kind == kindCA || e.kind == kindPublic) })
	if i < 0 {
		return entry{}
	}
	return es[i]
}

// secretSide says what the Secret's trust file of e (data) holds against
// rec: the rotation's two CAs in the other stage's order, its old or new
// CA alone, or neither (another cluster's). A key pair's is said to
// differ only.
func secretSide(e pki.Entry, rec *castage.Record, data []byte) string {
	if e.Kind == pki.KindKeyPair {
		return "differ (uploaded before the rotation, or from a node at another stage of it)"
	}
	certs, err := pki.ParseCerts(data)
	if err != nil {
		return "cannot be read"
	}
	var old, new, other bool
	for _, c := range certs {
		switch castage.Fingerprint(c) {
		case rec.OldCA:
			old = true
		case rec.NewCA:
			new = true
		default:
			other = true
		}
	}
	switch {
	case other || !old && !new:
		return fmt.Sprintf("is %s, neither of them: the Secret was uploaded from another cluster's folder, or a stale copy", caNames(certs))
	case old && new:
		return "holds the same two, uploaded from a node at the other stage of the rotation"
	case old:
		return "holds the old CA alone, uploaded before the rotation (or from a node that aborted it)"
	}
	return "holds the new CA alone, uploaded from a node that finished the rotation"
}

// caNames names certs for a message.
func caNames(certs []*x509.Certificate) string {
	var s []string
	for _, c := range certs {
		s = append(s, fmt.Sprintf("%q serial %X", c.Subject.CommonName, c.SerialNumber))
	}
	return strings.Join(s, ", ")
}
