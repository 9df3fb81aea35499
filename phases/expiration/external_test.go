package expiration

import (
	"os"
	"strings"
	"testing"

	"github.com/certctl/certctl/internal/pkitest"
	"github.com/certctl/certctl/phases/config"
)

// TestExternalEtcd: with etcd.external, the client certificate and CA it
// names are checked and reported (issue 14, item 7) under their own names,
// as never renewed by certctl; each broken file is a problem that names
// the etcd.external field and what to do.
func TestExternalEtcd(t *testing.T) {
	n := pkitest.NewNode(t, nil)
	good := config.ExternalEtcd{Endpoints: []string{"https://etcd.example.com:2379"},
		CAFile: n.Path("pki/etcd/ca.crt"), CertFile: n.Path("pki/apiserver-etcd-client.crt"), KeyFile: n.Path("pki/apiserver-etcd-client.key")}
	os.Remove(n.Path("pki/apiserver-kubelet-client.key")) // a key file that is not there
	for _, tc := range []struct {
		name    string
		change  func(e *config.ExternalEtcd)
		problem ProblemType
		want    string
	}{
		{"healthy", nil, "", ""},
		{"another CA", func(e *config.ExternalEtcd) { e.CAFile = n.Path("pki/ca.crt") }, NotSignedByCA, "is not signed by etcd.external.caFile"},
		{"no CA file", func(e *config.ExternalEtcd) { e.CAFile = n.Path("nope.crt") }, CAMissing, "put the external etcd's CA there"},
		{"no certificate", func(e *config.ExternalEtcd) { e.CertFile = n.Path("nope.crt") }, Unreadable, "etcd.external.certFile " + n.Path("nope.crt") + " does not exist"},
		{"no key", func(e *config.ExternalEtcd) { e.KeyFile = n.Path("pki/apiserver-kubelet-client.key") }, KeyMissing, "(etcd.external.keyFile) does not"},
		{"key of another", func(e *config.ExternalEtcd) { e.KeyFile = n.Path("pki/apiserver.key") }, KeyMismatch, "does not match"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := *n.Cluster
			c.ExternalEtcd, c.EtcdExternal = true, good
			if tc.change != nil {
				tc.change(&c.EtcdExternal)
			}
			info := check(t, n, func(o *Options) { o.Cluster = &c })
			var leaf, ca *Certificate
			for i := range info.Certificates {
				switch info.Certificates[i].Name {
				case ExternalEtcdClient:
					leaf = &info.Certificates[i]
				case "apiserver-etcd-client", "etcd-server":
					t.Errorf("%s listed with an external etcd", info.Certificates[i].Name)
				}
			}
			for i := range info.CertificateAuthorities {
				if info.CertificateAuthorities[i].Name == ExternalEtcdCA {
					ca = &info.CertificateAuthorities[i]
				}
			}
			if leaf == nil || ca == nil {
				t.Fatalf("no %s or %s row: %+v", ExternalEtcdClient, ExternalEtcdCA, info)
			}
			if !leaf.ExternallyManaged && !leaf.Missing || !strings.Contains(leaf.NotRenewed, "certctl does not renew them") || leaf.File != c.EtcdExternal.CertFile {
				t.Errorf("row %+v", leaf)
			}
			if tc.problem == "" {
				if len(leaf.Problems) > 0 || leaf.ExpirationDate == nil || ca.ExpirationDate == nil {
					t.Errorf("healthy: %+v / %+v", leaf, ca)
				}
				return
			}
			if len(leaf.Problems) != 1 || leaf.Problems[0].Type != tc.problem || !strings.Contains(leaf.Problems[0].Message, tc.want) {
				t.Errorf("problems %+v, want one %s mentioning %q", leaf.Problems, tc.problem, tc.want)
			}
		})
	}
}
