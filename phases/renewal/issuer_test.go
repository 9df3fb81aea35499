package renewal

import (
	"context"
	"crypto/rand"
	"crypto/x509"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/certctl/certctl/internal/treetest"
	"github.com/certctl/certctl/internal/txn"
	"github.com/certctl/certctl/pki"
)

// fakeIssuer signs with a CA key it holds, as the certificates API or an
// external CA does, after change has edited each profile.
type fakeIssuer struct {
	t      *testing.T
	ca     *authority
	change func(p *pki.Profile)
	reqs   []Request
	// remove, when set, gives each certificate's files to remove
	// (Issued.Remove).
	remove func(r Request) []txn.File
	// start, when set, is the signer's clock: the certificates are
	// valid from it instead of renewAt.
	start time.Time
}

func (f *fakeIssuer) Issue(ctx context.Context, reqs []Request) ([]Issued, error) {
	f.reqs = reqs
	var out []Issued
	for _, r := range reqs {
		key, err := pki.GenerateKey(rand.Reader, r.KeyAlgorithm)
		if err != nil {
			return nil, err
		}
		p := r.Profile
		if f.change != nil {
			f.change(&p)
		}
		start := renewAt
		if !f.start.IsZero() {
			start = f.start
		}
		cert, err := pki.Sign(rand.Reader, p, key.Public(), f.ca.Cert, f.ca.Key, pki.NewValidity(start, 0, r.Validity))
		if err != nil {
			return nil, err
		}
		is := Issued{Key: key, Cert: cert}
		if f.remove != nil {
			is.Remove = f.remove(r)
		}
		out = append(out, is)
	}
	return out, nil
}

func newFakeIssuer(t *testing.T, n *node, change func(p *pki.Profile)) *fakeIssuer {
	t.Helper()
	cert, _, err := pki.ReadCertFile(n.path("pki/ca.crt"))
	if err != nil {
		t.Fatal(err)
	}
	key, err := pki.ReadKeyFile(n.path("pki/ca.key"))
	if err != nil {
		t.Fatal(err)
	}
	return &fakeIssuer{t: t, ca: &authority{LoadedCA: &pki.LoadedCA{Cert: cert, Key: key}}, change: change}
}

func TestIssuer(t *testing.T) {
	n := newNode(t, nil)
	is := newFakeIssuer(t, n, nil)
	// An external CA: its key is not on the node.
	if err := os.Remove(n.path("pki/ca.key")); err != nil {
		t.Fatal(err)
	}
	was := n.cert(t, "admin.conf")
	o := n.options(renewAt)
	o.Issuer = is
	reqs, err := Requests(n.targets(t, "apiserver", "admin.conf"), o)
	if err != nil {
		t.Fatal(err)
	}
	if len(reqs) != 2 || reqs[1].Name != "admin.conf" || !reqs[1].Current.Equal(was) || reqs[1].Profile.CommonName != "kubernetes-admin" ||
		reqs[1].KeyAlgorithm != pki.ECDSAP256 || reqs[1].CA == nil {
		t.Fatalf("requests %+v", reqs)
	}
	res, err := Renew(context.Background(), n.targets(t, "apiserver", "admin.conf"), o)
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Renewed) != 2 || res.BackupDir == "" || len(is.reqs) != 2 {
		t.Fatalf("renewed %d, backup %q, %d requests", len(res.Renewed), res.BackupDir, len(is.reqs))
	}
	if now := n.cert(t, "admin.conf"); now.Equal(was) || now.Subject.String() != was.Subject.String() {
		t.Errorf("admin.conf: %v -> %v", was.Subject, now.Subject)
	}
	o.ReuseKey = true
	if _, err := Renew(context.Background(), n.targets(t, "apiserver"), o); err == nil {
		t.Error("ReuseKey with an issuer: no error")
	}
}

// TestIssuerRefused: a certificate that is not what was asked for is
// refused before anything is written.
func TestIssuerRefused(t *testing.T) {
	tests := []struct {
		name   string
		change func(p *pki.Profile)
		want   string
	}{
		{"other SANs", func(p *pki.Profile) { p.DNSNames = []string{"evil.example"} }, "lacks the SANs"},
		{"other subject", func(p *pki.Profile) { p.CommonName = "someone-else" }, "its CN is"},
		// What certctl's signers never issue (policy.Issued), as certs
		// import refuses it: the certificates API's signer may be anyone's.
		{"any usage", func(p *pki.Profile) { p.ExtKeyUsages = append(p.ExtKeyUsages, x509.ExtKeyUsageAny) }, `extended key usage "any"`},
		{"SAN not asked for", func(p *pki.Profile) { p.DNSNames = append(p.DNSNames, "evil.example") }, "SANs not asked for: DNS:evil.example"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			n := newNode(t, nil)
			o := n.options(renewAt)
			o.Issuer = newFakeIssuer(t, n, tt.change)
			before := treetest.Snapshot(t, n.Dir)
			_, err := Renew(context.Background(), n.targets(t, "apiserver"), o)
			treetest.ErrMentions(t, err, "renew apiserver", tt.want, "nothing was replaced")
			treetest.AssertSame(t, before, treetest.Snapshot(t, n.Dir))
		})
	}
}

// TestIssuerClockBehind: a certificate that its signer made valid from a
// time still ahead of this host's clock (the node's clock is behind the
// API server's, by more than the signer backdates) is refused before
// anything is written, saying that the clock is the cause and what to do:
// not only "not valid before", which reads as a bad signer. One that is
// wrong besides is refused for that, which no clock fixes.
func TestIssuerClockBehind(t *testing.T) {
	for _, tc := range []struct {
		name   string
		change func(p *pki.Profile)
		want   []string
	}{
		{"only the clock", nil, []string{"valid from 2026-", "10m0s ahead of this host's clock", "this host's clock is behind its signer's",
			"set the clock right (timedatectl, NTP)", "run the same command again, which installs the same certificate"}},
		{"other SANs too", func(p *pki.Profile) { p.DNSNames = []string{"evil.example"} }, []string{"lacks the SANs"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			n := newNode(t, nil)
			o := n.options(renewAt)
			is := newFakeIssuer(t, n, tc.change)
			is.start = renewAt.Add(10 * time.Minute)
			o.Issuer = is
			before := treetest.Snapshot(t, n.Dir)
			_, err := Renew(context.Background(), n.targets(t, "apiserver", "admin.conf"), o)
			treetest.ErrMentions(t, err, append([]string{"renew apiserver", "nothing was replaced"}, tc.want...)...)
			if tc.change != nil && strings.Contains(err.Error(), "clock") {
				t.Errorf("error %q blames the clock for a certificate that no clock fixes", err)
			}
			treetest.AssertSame(t, before, treetest.Snapshot(t, n.Dir))
		})
	}
}

// TestIssuerRemoves: the files an issuer gives to remove with a
// certificate (an issuer's copy of its key: apirenew's pending key) are
// removed in the install's transaction, so that no kill after the commit
// leaves them; they are not among the files renewed. A file given without
// txn.File.Remove is refused before anything is written: an issuer names
// files to remove, not files to write.
func TestIssuerRemoves(t *testing.T) {
	n := newNode(t, nil)
	copies := filepath.Join(n.Dir, ".issuer-copies")
	if err := os.Mkdir(copies, 0o700); err != nil {
		t.Fatal(err)
	}
	copyOf := func(r Request) string { return filepath.Join(copies, r.Name+".key") }
	for _, name := range []string{"apiserver", "admin.conf"} {
		if err := os.WriteFile(filepath.Join(copies, name+".key"), []byte("copy"), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	o := n.options(renewAt)
	is := newFakeIssuer(t, n, nil)
	is.remove = func(r Request) []txn.File { return []txn.File{{Target: copyOf(r), Remove: true}} }
	o.Issuer = is
	res, err := Renew(context.Background(), n.targets(t, "apiserver", "admin.conf"), o)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range res.Renewed {
		if _, err := os.Stat(filepath.Join(copies, r.Name+".key")); !errors.Is(err, fs.ErrNotExist) {
			t.Errorf("the issuer's copy of %s's key is still there (err %v)", r.Name, err)
		}
		for _, f := range r.Files {
			if filepath.Dir(f) == copies {
				t.Errorf("%s: renewed files %q include the one removed", r.Name, r.Files)
			}
		}
	}
	if len(res.Renewed) != 2 {
		t.Fatalf("renewed %d, want 2", len(res.Renewed))
	}

	is.remove = func(r Request) []txn.File { return []txn.File{{Target: copyOf(r), Data: []byte("x")}} }
	before := treetest.Snapshot(t, n.Dir)
	_, err = Renew(context.Background(), n.targets(t, "apiserver"), o)
	treetest.ErrMentions(t, err, "renew apiserver", copyOf(Request{Target: n.targets(t, "apiserver")[0]}), "nothing was replaced")
	treetest.AssertSame(t, before, treetest.Snapshot(t, n.Dir))
}
