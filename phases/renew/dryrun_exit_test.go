package renew

import (
	"bytes"
	"context"
	"crypto/rand"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/certctl/certctl/internal/exitcode"
	"github.com/certctl/certctl/internal/pkitest"
	"github.com/certctl/certctl/internal/treetest"
	"github.com/certctl/certctl/phases/config"
)

// TestDryRunExitsAsTheRealRun: `renew --dry-run` exits with the status
// the real run would (docs/renew.md, "Seeing the plan first"): 5 when
// certificates of a CA whose key is not on the node are skipped, and, in
// cron mode, 1 with the CA error when what it would renew is cut to a CA
// that expires within --if-expires-within. It printed the plan and exited
// 0 for both, writing nothing (as it still must).
func TestDryRunExitsAsTheRealRun(t *testing.T) {
	code := func(err error) int {
		var e *exitcode.Error
		if errors.As(err, &e) {
			return e.Code
		}
		if err != nil {
			return 1
		}
		return 0
	}
	tests := []struct {
		name    string
		change  func(c *config.Cluster)
		damage  func(n *pkitest.Node)
		set     func(o *Options, n *pkitest.Node)
		want    int
		mention []string
	}{
		{name: "external CA", damage: func(n *pkitest.Node) { os.Remove(n.Path("pki/etcd/ca.key")) },
			set: func(o *Options, n *pkitest.Node) {}, want: exitcode.ExternalCA,
			mention: []string{"4 certificate(s) of an external CA", "etcd-server"}},
		{name: "external CA, cron mode", damage: func(n *pkitest.Node) { os.Remove(n.Path("pki/etcd/ca.key")) },
			set: func(o *Options, n *pkitest.Node) {
				o.Threshold, o.IfExpiresWithin = true, 720*time.Hour
				o.Now = func() time.Time { return pkitest.Made.Add(8760*time.Hour - 240*time.Hour) }
			}, want: exitcode.ExternalCA, mention: []string{"certificate(s) of an external CA"}},
		{name: "cut to a CA expiring within the window",
			change: func(c *config.Cluster) { c.CertificateValidity, c.CACertificateValidity = 100*time.Hour, 500*time.Hour },
			set: func(o *Options, n *pkitest.Node) {
				o.Cluster.CertificateValidity = config.DefaultCertificateValidity
				o.Threshold, o.IfExpiresWithin = true, 720*time.Hour
				o.Now = func() time.Time { return pkitest.Made.Add(24 * time.Hour) }
			}, want: 1, mention: []string{"expires at", "within --if-expires-within 720h0m0s", "rotate the CA"}},
	}
	for _, tt := range tests {
		for _, quiet := range []bool{false, true} {
			name := tt.name
			if quiet {
				name += ", --quiet"
			}
			t.Run(name, func(t *testing.T) {
				n := pkitest.NewNode(t, tt.change)
				if tt.damage != nil {
					tt.damage(n)
				}
				opts := func(dry bool) (Options, *bytes.Buffer) {
					var out bytes.Buffer
					o := Options{Cluster: n.Cluster, KubeconfigDir: n.Dir, Args: []string{"all"}, DryRun: dry, Quiet: quiet,
						Now: func() time.Time { return pkitest.Made.Add(time.Hour) }, Rand: rand.Reader, Out: &out, ErrOut: &out}
					tt.set(&o, n)
					return o, &out
				}
				before := treetest.Snapshot(t, filepath.Dir(n.Dir))
				o, out := opts(true)
				err := Run(context.Background(), o)
				treetest.AssertSame(t, before, treetest.Snapshot(t, filepath.Dir(n.Dir)))
				if got := code(err); got != tt.want {
					t.Errorf("dry run: exit %d, want %d (%v)\n%s", got, tt.want, err, out)
				}
				said := out.String()
				if err != nil {
					said += err.Error()
				}
				for _, m := range tt.mention {
					if !strings.Contains(said, m) {
						t.Errorf("dry run does not say %q:\n%s", m, said)
					}
				}
				if !quiet && !strings.Contains(said, "nothing was written") {
					t.Errorf("dry run does not say nothing was written:\n%s", said)
				}
				o, out = opts(false)
				if got := code(Run(context.Background(), o)); got != tt.want {
					t.Errorf("real run: exit %d, want %d\n%s", got, tt.want, out)
				}
			})
		}
	}
}
