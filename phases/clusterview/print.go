package clusterview

import (
	"cmp"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"

	"k8s.io/apimachinery/pkg/util/duration"

	"github.com/certctl/certctl/internal/output"
	"github.com/certctl/certctl/phases/copycerts"
	"github.com/certctl/certctl/phases/expiration"
	"github.com/certctl/certctl/pki"
)

// endpointRow names the controlPlaneEndpoint's row in the tables.
const endpointRow = "(endpoint)"

// Write prints info in format: "text" (a table whose columns fit 100 columns,
// the problems spelled out below), "wide" (also the issuer, serial and
// where each node was learned from), "json", "yaml" (the Info schema) or
// "jsonpath=TEMPLATE".
func Write(w io.Writer, info *Info, format string) error {
	f, err := output.Parse(format)
	if err != nil {
		return err
	}
	return f.Print(w, info, func(w io.Writer, wide bool) error { return writeTable(w, info, wide) })
}

func writeTable(w io.Writer, info *Info, wide bool) error {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	head := "NODE\tCOMPONENT\tADDRESS\tEXPIRES (UTC)\tRESIDUAL\tCA\tSANS\tPROBLEMS"
	if wide {
		head += "\tISSUER\tSERIAL\tSOURCES"
	}
	fmt.Fprintln(tw, head)
	row := func(name string, e Endpoint, sources []string) {
		line := fmt.Sprintf("%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s", oneLine(name), e.Component, e.Address, expiration.ShortDate(e.ExpirationDate, "-"), expiration.Residual(e.ExpirationDate, e.ResidualTimeSeconds, "-"), caColumn(e), sansColumn(e), expiration.ProblemTypes(e.Problems))
		if wide {
			line += fmt.Sprintf("\t%s\t%s\t%s", cmp.Or(oneLine(e.Issuer), "-"), cmp.Or(e.Serial, "-"), cmp.Or(strings.Join(sources, ","), "-"))
		}
		fmt.Fprintln(tw, line)
	}
	for _, n := range info.Nodes {
		if len(n.Endpoints) == 0 {
			row(n.Name, Endpoint{Component: "-", Address: "-"}, n.Sources)
		}
		for _, e := range n.Endpoints {
			row(n.Name, e, n.Sources)
		}
	}
	if e := info.ControlPlaneEndpoint; e != nil {
		row(endpointRow, *e, []string{"kubeadm-config"})
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	fmt.Fprintf(w, "\n%s\n", secretLine(info))
	return writeBelow(w, info)
}

// secretLine describes kubeadm-certs in one line.
func secretLine(info *Info) string {
	k := info.KubeadmCerts
	if k == nil && info.kubeadmCertsUnread {
		return "kube-system/" + copycerts.SecretName + ": unknown (could not be read, see WARNINGS)"
	}
	if k == nil {
		return "kube-system/" + copycerts.SecretName + ": none (no certificates uploaded for joining nodes)"
	}
	s := fmt.Sprintf("%s/%s: %d encrypted file(s), created %s (%s)", k.Namespace, k.Name, len(k.Files),
		k.Created.Format("2006-01-02 15:04"), ago(time.Duration(k.AgeSeconds)*time.Second))
	if k.Updated != nil {
		s += fmt.Sprintf(", last written %s (%s)", k.Updated.Format("2006-01-02 15:04"), ago(info.CheckedAt.Sub(*k.Updated)))
	}
	switch {
	case strings.Contains(k.Owner, ", "):
		s += ", owners " + k.Owner
	case k.Owner != "":
		s += ", owner " + k.Owner
	}
	switch {
	case k.Owner == "": // the garbage collector deletes it with its owner only
		s += fmt.Sprintf(", no owner: it is never deleted; once no node is joining with it, delete it (kubectl -n %s delete secret %s)", k.Namespace, k.Name)
	case k.OwnersGone:
		gone := "its owner is gone"
		if strings.Contains(k.Owner, ", ") {
			gone = "its owners are all gone"
		}
		s += fmt.Sprintf(", %s: the garbage collector deletes it at once; if it stays, kube-controller-manager's garbage collector is not running: once no node is joining with it, delete it (kubectl -n %s delete secret %s)", gone, k.Namespace, k.Name)
	case k.NoExpiry:
		s += ", " + noExpiry(k)
	case k.ExpirationDate == nil:
		s += ", expiry unknown"
	case k.Expired:
		s += fmt.Sprintf(", expired at %s: upload the certificates again before joining a node", k.ExpirationDate.Format("2006-01-02 15:04"))
	default:
		s += fmt.Sprintf(", deleted at %s (in %s)", k.ExpirationDate.Format("2006-01-02 15:04"),
			duration.HumanDuration(k.ExpirationDate.Sub(info.CheckedAt)))
	}
	return s
}

// noExpiry says that kubeadm-certs is never deleted, an owner token
// having no expiration, and how to delete that token, which the garbage
// collector follows with the Secret.
func noExpiry(k *KubeadmCerts) string {
	if len(k.noExpiryOwners) == 0 { // read back from json or yaml
		return "no expiry: an owner token never expires, so it is never deleted; once no node is joining with it, delete that token (kubeadm token delete ID)"
	}
	var ids []string
	for _, ref := range k.noExpiryOwners {
		ids = append(ids, strings.TrimPrefix(ref, "Secret/bootstrap-token-"))
	}
	return fmt.Sprintf("no expiry: its owner token %s never expires, so it is never deleted; once no node is joining with it, delete the token (kubeadm token delete %s)",
		strings.Join(k.noExpiryOwners, ", "), strings.Join(ids, " "))
}

// ago says how long ago an instant the API server stamped with its clock
// was, d before the check: "3h ago", or, when it is after this host's
// clock (which is then behind the API server's), by how much.
func ago(d time.Duration) string {
	if d <= -time.Second {
		return duration.HumanDuration(-d) + " after this host's clock: check this host's and the API server's clocks (timedatectl)"
	}
	return duration.HumanDuration(max(d, 0)) + " ago"
}

func writeBelow(w io.Writer, info *Info) error {
	expiration.WriteList(w, "PROBLEMS", info.Problems())
	expiration.WriteList(w, "WARNINGS (the view may be partial)", info.Warnings)
	expiration.WriteExpiring(w, info.WarnWithinSeconds, info.ExpiringSoon())
	_, err := fmt.Fprintf(w, "\nSources: %s\n", cmp.Or(strings.Join(info.Sources, "; "), "-"))
	return err
}

// oneLine is s on one line (pki.OneLine): a served certificate's issuer
// is the server's choice, and an etcd member's name etcd's --name; a line
// break or a terminal escape in either would forge a row of the table.
func oneLine(s string) string { return pki.OneLine(s) }

// caColumn is the local CA that signed it, "NOT <ca>" when it did not.
func caColumn(e Endpoint) string {
	switch {
	case e.ExpirationDate == nil:
		return "-"
	case e.SignedByCA:
		return e.CAName
	}
	return "NOT " + e.CAName
}

func sansColumn(e Endpoint) string {
	switch {
	case e.ExpirationDate == nil:
		return "-"
	case e.SANsMatch:
		return "ok"
	}
	return "MISMATCH"
}
