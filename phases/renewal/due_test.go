package renewal

import (
	"bytes"
	"context"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/certctl/certctl/internal/pkitest"
	"github.com/certctl/certctl/internal/treetest"
	"github.com/certctl/certctl/phases/config"
	"github.com/certctl/certctl/pki"
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

	split := Due(all, n.certDir(), n.Dir, now, 30*24*time.Hour)
	due := split.Due
	var skipped []string
	for _, s := range split.NotDue {
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
	if s := Due(all, n.certDir(), n.Dir, now, 30*24*time.Hour); len(s.Due) != 0 || len(s.CABound) != 0 {
		t.Errorf("after the renewal %d are still due", len(s.Due)+len(s.CABound))
	}
}

// TestDueBoundary: a certificate expiring exactly at now+within is due; one
// second later it is not. Within 0 means expired: due when NotAfter <= now.
// Unreadable files are due, so that Renew reports them; missing ones are
// listed apart, for `renew all` to skip.
func TestDueBoundary(t *testing.T) {
	n := newNode(t, nil)
	all := n.targets(t, "apiserver", "front-proxy-client", "etcd-peer")
	exp := n.cert(t, "apiserver").NotAfter
	now := made.Add(24 * time.Hour)
	if s := Due(all[:1], n.certDir(), n.Dir, now, exp.Sub(now)); len(s.Due) != 1 {
		t.Error("expiring exactly at the window's end: not due")
	}
	if s := Due(all[:1], n.certDir(), n.Dir, now, exp.Sub(now)-time.Second); len(s.Due) != 0 || len(s.NotDue) != 1 {
		t.Error("expiring a second after the window: due")
	}
	for _, tc := range []struct {
		now time.Time
		due bool
	}{{exp.Add(-time.Second), false}, {exp, true}, {exp.Add(time.Second), true}} {
		if s := Due(all[:1], n.certDir(), n.Dir, tc.now, 0); (len(s.Due) == 1) != tc.due {
			t.Errorf("within 0 at NotAfter%+v: due %v, want %v", tc.now.Sub(exp), len(s.Due) == 1, tc.due)
		}
	}
	os.Remove(n.path("pki/front-proxy-client.crt"))
	write(t, n.path("pki/etcd/peer.crt"), []byte("garbage"))
	snap := treetest.Snapshot(t, n.Dir)
	s := Due(all, n.certDir(), n.Dir, now, time.Hour)
	if len(s.Due) != 1 || s.Due[0].Name != "etcd-peer" || len(s.Missing) != 1 || s.Missing[0].Name != "front-proxy-client" || len(s.NotDue) != 1 {
		t.Errorf("split %+v", s)
	}
	treetest.AssertSame(t, snap, treetest.Snapshot(t, n.Dir))
}

// TestDueCABound: a due certificate that already ends when its CA does is
// not due but CA-bound (renewing would not move it), one that ends before
// is due; after a renewal cut to the CA, LimitedByCA names it, and the
// error names the CA, its expiry and the fix.
func TestDueCABound(t *testing.T) {
	// The CAs expire 500h after made; the leaves are cut to them.
	n := newNode(t, func(c *config.Cluster) { c.CACertificateValidity = 500 * time.Hour })
	caEnd := made.Add(500 * time.Hour)
	all := n.targets(t, "apiserver", "admin.conf")
	now := made.Add(24 * time.Hour)
	s := Due(all, n.certDir(), n.Dir, now, 720*time.Hour)
	if len(s.Due) != 0 || len(s.CABound) != 2 {
		t.Fatalf("due %d, CA-bound %d; want 0 and 2", len(s.Due), len(s.CABound))
	}
	if b := s.CABound[0]; b.Name != "apiserver" || !b.CA.NotAfter.Equal(caEnd) || b.CA.File != n.path("pki/ca.crt") || b.CA.Name != "ca" || b.File != n.path("pki/apiserver.crt") {
		t.Errorf("CA-bound %+v", b)
	}
	// Renewed with a validity that ends before the CA's, apiserver can
	// move again: due. Renewing it then cuts it to the CA, within the window.
	short := n.options(now)
	short.Validity = 100 * time.Hour
	if _, err := Renew(context.Background(), all[:1], short); err != nil {
		t.Fatal(err)
	}
	if s := Due(all, n.certDir(), n.Dir, now, 720*time.Hour); len(s.Due) != 1 || s.Due[0].Name != "apiserver" || len(s.CABound) != 1 {
		t.Fatalf("after a short renewal: due %v, CA-bound %v", s.Due, s.CABound)
	}
	res, err := Renew(context.Background(), all[:1], n.options(now))
	if err != nil {
		t.Fatal(err)
	}
	limited := LimitedByCA(res.Renewed, n.certDir(), now, 720*time.Hour)
	if len(limited) != 1 || limited[0].Name != "apiserver" || !limited[0].NotAfter.Equal(caEnd) || limited[0].File != n.path("pki/apiserver.crt") {
		t.Fatalf("LimitedByCA = %+v", limited)
	}
	if l := LimitedByCA(res.Renewed, n.certDir(), now, 100*time.Hour); len(l) != 0 {
		t.Errorf("beyond the window: LimitedByCA = %+v", l)
	}
	// Cut to its CA, it is LimitedByCA's, not short: its issuer
	// gave what the CA allows.
	if l := shortOf(res.Renewed, n.certDir(), now, 720*time.Hour); len(l) != 0 {
		t.Errorf("cut to its CA: short = %+v", l)
	}
	// Issued for 100h, before its CA ends: short within 720h, and
	// neither's within 50h.
	short100 := []Renewed{{Target: all[0], Files: []string{n.path("pki/apiserver.crt")}, NotAfter: now.Add(100 * time.Hour)}}
	if l := shortOf(short100, n.certDir(), now, 720*time.Hour); len(l) != 1 || l[0].Name != "apiserver" || l[0].File != n.path("pki/apiserver.crt") {
		t.Errorf("issued for 100h: short = %+v", l)
	}
	if l := LimitedByCA(short100, n.certDir(), now, 720*time.Hour); len(l) != 0 {
		t.Errorf("issued for 100h: LimitedByCA = %+v", l)
	}
	if l := shortOf(short100, n.certDir(), now, 50*time.Hour); len(l) != 0 {
		t.Errorf("beyond the window: short = %+v", l)
	}
	e := &CAExpiryError{Now: now, Within: 720 * time.Hour}
	e.Add(limited[0])
	e.Add(s.CABound[1])
	e.Add(s.CABound[1])
	treetest.ErrMentions(t, e, "the CA "+n.path("pki/ca.crt")+" expires at "+caEnd.Format(time.RFC3339), "within --if-expires-within 720h0m0s", "renewing apiserver, admin.conf again", "rotate the CA")
	if strings.Contains(e.Error(), "\n") {
		t.Errorf("error is not one line: %q", e)
	}
	e.Now = caEnd
	e.Add(CABound{NotDue: NotDue{Target: Target{Name: "etcd-peer"}}, CA: CA{Name: "etcd-ca", File: "etcd/ca.crt", NotAfter: caEnd}})
	treetest.ErrMentions(t, e, "the CAs ", "ca.crt (expired at "+caEnd.Format(time.RFC3339)+": apiserver, admin.conf) and etcd/ca.crt (expired at", "rotate the CAs")
}

// TestDueCAExpiresBeforeItsLeaves: a CA that expires within the window
// caps the certificates it signed even when they were issued to outlive it
// (kubeadm does not cut a leaf to its CA): they are valid only until the
// CA expires, and no renewal can move that out of the window. They are
// CA-bound, so that the cron run fails naming the CA, instead of "nothing
// to do" (exit status 2, which install-timer's unit treats as success)
// while the CA expires. A CA beyond the window leaves its leaves not due.
func TestDueCAExpiresBeforeItsLeaves(t *testing.T) {
	n := newNode(t, nil)
	caEnd := made.Add(500 * time.Hour)
	cert, key := n.CA(t, "ca")
	tmpl := *cert
	tmpl.NotAfter = caEnd
	if err := (pki.Store{Dir: n.certDir()}).WriteCert("ca", pkitest.SelfSigned(t, key, &tmpl)); err != nil {
		t.Fatal(err)
	}
	all := n.targets(t, "apiserver", "front-proxy-client", "admin.conf")
	now := made.Add(24 * time.Hour)
	snap := treetest.Snapshot(t, n.Dir)
	s := Due(all, n.certDir(), n.Dir, now, 720*time.Hour)
	var bound []string
	for _, b := range s.CABound {
		bound = append(bound, b.Name)
		if !b.CA.NotAfter.Equal(caEnd) || b.CA.File != n.path("pki/ca.crt") {
			t.Errorf("%s: CA %+v, want %s ending %v", b.Name, b.CA, n.path("pki/ca.crt"), caEnd)
		}
		if want := n.cert(t, b.BaseName).NotAfter; !b.NotAfter.Equal(want) {
			t.Errorf("%s: NotAfter %v, want %v", b.Name, b.NotAfter, want)
		}
	}
	if want := []string{"apiserver", "admin.conf"}; !slices.Equal(bound, want) || len(s.Due) != 0 || len(s.NotDue) != 1 || s.NotDue[0].Name != "front-proxy-client" {
		t.Fatalf("CA-bound %q (want %q), due %d, not due %+v (want front-proxy-client only)", bound, want, len(s.Due), s.NotDue)
	}
	// A window that ends before the CA expires: nothing to do.
	if s := Due(all, n.certDir(), n.Dir, now, 100*time.Hour); len(s.CABound) != 0 || len(s.Due) != 0 || len(s.NotDue) != 3 {
		t.Errorf("window before the CA's expiry: %+v", s)
	}
	treetest.AssertSame(t, snap, treetest.Snapshot(t, n.Dir))
}

// shortOf is WithinWindow's short list.
func shortOf(renewed []Renewed, certDir string, now time.Time, within time.Duration) []NotDue {
	_, short := WithinWindow(renewed, certDir, now, within)
	return short
}
