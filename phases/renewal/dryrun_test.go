package renewal

import (
	"context"
	"os"
	"slices"
	"testing"

	"github.com/certctl/certctl/internal/treetest"
)

// TestRenewDryRun: `renew all --dry-run` checks everything, lists what it
// would renew with which issuer, and writes nothing, not even a backup.
func TestRenewDryRun(t *testing.T) {
	n := newNode(t, nil)
	before := treetest.Snapshot(t, n.Dir)
	o := n.options(renewAt)
	o.SkipMissing, o.DryRun, o.KeyAlgorithm = true, true, "ECDSA-P256"
	res, err := Renew(context.Background(), n.targets(t, "all"), o)
	if err != nil {
		t.Fatal(err)
	}
	treetest.AssertSame(t, before, treetest.Snapshot(t, n.Dir))
	if len(res.Planned) != len(bases) || len(res.Renewed) != 0 || res.BackupDir != "" {
		t.Fatalf("planned %d, renewed %d, backup %q; want %d, 0 and none", len(res.Planned), len(res.Renewed), res.BackupDir, len(bases))
	}
	i := slices.IndexFunc(res.Planned, func(p Planned) bool { return p.Name == "apiserver" })
	if i < 0 {
		t.Fatal("apiserver not planned")
	}
	p := res.Planned[i]
	if want := []string{n.path("pki/apiserver.crt"), n.path("pki/apiserver.key")}; !slices.Equal(p.Files, want) || p.Issuer != "the CA "+n.path("pki/ca.crt") {
		t.Errorf("apiserver planned as %+v, want files %v issued by the CA %s", p, want, n.path("pki/ca.crt"))
	}
}

// TestRenewDryRunIssuedBy: the check pass of a renewal by an issuer that is
// not on the node (--use-api) plans with the CA keys away, names for each
// certificate the issuer IssuedBy gives, and writes nothing; IssuedBy
// outside a dry run is refused before anything is read.
func TestRenewDryRunIssuedBy(t *testing.T) {
	n := newNode(t, nil)
	for _, ca := range []string{"ca", "front-proxy-ca", "etcd/ca"} {
		if err := os.Remove(n.path("pki/" + ca + ".key")); err != nil {
			t.Fatal(err)
		}
	}
	before := treetest.Snapshot(t, n.Dir)
	o := n.options(renewAt)
	o.SkipMissing, o.SkipExternal, o.DryRun = true, true, true
	o.IssuedBy = func(t Target) string { return "the signer of " + t.Name }
	res, err := Renew(context.Background(), n.targets(t, "all"), o)
	if err != nil {
		t.Fatal(err)
	}
	treetest.AssertSame(t, before, treetest.Snapshot(t, n.Dir))
	if len(res.Planned) != len(bases) || len(res.External) != 0 {
		t.Fatalf("planned %d, external %d; want %d, 0", len(res.Planned), len(res.External), len(bases))
	}
	for _, p := range res.Planned {
		if p.Issuer != "the signer of "+p.Name {
			t.Errorf("%s planned from %q", p.Name, p.Issuer)
		}
	}
	o.DryRun = false
	_, err = Renew(context.Background(), n.targets(t, "all"), o)
	treetest.ErrMentions(t, err, "IssuedBy only plans")
	treetest.AssertSame(t, before, treetest.Snapshot(t, n.Dir))
}
