package renewal

import (
	"bytes"
	"context"
	"os"
	"slices"
	"testing"
	"time"

	"github.com/certctl/certctl/internal/treetest"
)

// TestDueRenewsExactlyTheWindow: with a fixed clock, `renew all` limited to
// the window renews exactly the certificates that expire within it, and
// leaves every byte of the others.
func TestDueRenewsExactlyTheWindow(t *testing.T) {
	n := newNode(t, nil)
	// Renewed 200 days after the node was made, these two expire 200 days
	// after the others.
	later := made.Add(200 * 24 * time.Hour)
	if _, err := Renew(context.Background(), n.targets(t, "apiserver", "admin.conf"), n.options(later)); err != nil {
		t.Fatal(err)
	}
	all := n.targets(t, "all")
	now := made.Add(345 * 24 * time.Hour) // 20 days before the others expire

	due, notDue := Due(all, n.certDir(), n.Dir, now, 30*24*time.Hour)
	var skipped []string
	for _, s := range notDue {
		skipped = append(skipped, s.Name)
		if want := n.cert(t, s.BaseName).NotAfter; !s.NotAfter.Equal(want) {
			t.Errorf("%s: NotAfter %v, want %v", s.Name, s.NotAfter, want)
		}
	}
	if want := []string{"apiserver", "admin.conf"}; !slices.Equal(skipped, want) {
		t.Fatalf("not due %q, want %q", skipped, want)
	}
	if len(due) != len(all)-2 {
		t.Fatalf("%d due, want %d", len(due), len(all)-2)
	}

	before := map[string][]byte{"pki/apiserver.crt": read(t, n.path("pki/apiserver.crt")), "pki/apiserver.key": read(t, n.path("pki/apiserver.key")),
		"admin.conf": read(t, n.path("admin.conf"))}
	oldSerial := map[string]string{}
	for _, tg := range due {
		oldSerial[tg.Name] = n.cert(t, tg.BaseName).SerialNumber.String()
	}
	res, err := Renew(context.Background(), due, n.options(now))
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Renewed) != len(due) {
		t.Errorf("renewed %d, want %d", len(res.Renewed), len(due))
	}
	for _, tg := range due {
		if n.cert(t, tg.BaseName).SerialNumber.String() == oldSerial[tg.Name] {
			t.Errorf("%s was due and was not renewed", tg.Name)
		}
	}
	for rel, b := range before {
		if !bytes.Equal(read(t, n.path(rel)), b) {
			t.Errorf("%s changed, but it was not due", rel)
		}
	}
	// Right after, nothing is due.
	if due, _ := Due(all, n.certDir(), n.Dir, now, 30*24*time.Hour); len(due) != 0 {
		t.Errorf("after the renewal %d are still due", len(due))
	}
}

// TestDueBoundary: a certificate expiring exactly at now+within is due; one
// second later it is not. Missing and unreadable files are due, so that
// Renew reports them.
func TestDueBoundary(t *testing.T) {
	n := newNode(t, nil)
	all := n.targets(t, "apiserver", "front-proxy-client", "etcd-peer")
	exp := n.cert(t, "apiserver").NotAfter
	now := made.Add(24 * time.Hour)
	if due, _ := Due(all[:1], n.certDir(), n.Dir, now, exp.Sub(now)); len(due) != 1 {
		t.Error("expiring exactly at the window's end: not due")
	}
	if due, _ := Due(all[:1], n.certDir(), n.Dir, now, exp.Sub(now)-time.Second); len(due) != 0 {
		t.Error("expiring a second after the window: due")
	}
	os.Remove(n.path("pki/front-proxy-client.crt"))
	write(t, n.path("pki/etcd/peer.crt"), []byte("garbage"))
	snap := treetest.Snapshot(t, n.Dir)
	due, notDue := Due(all, n.certDir(), n.Dir, now, time.Hour)
	if len(due) != 2 || due[0].Name != "front-proxy-client" || due[1].Name != "etcd-peer" || len(notDue) != 1 {
		t.Errorf("due %v, not due %v", due, notDue)
	}
	treetest.AssertSame(t, snap, treetest.Snapshot(t, n.Dir))
}
