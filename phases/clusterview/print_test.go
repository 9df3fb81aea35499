package clusterview

import (
	"bytes"
	"flag"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/certctl/certctl/phases/copycerts"
	"github.com/certctl/certctl/phases/expiration"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/")

// golden compares got with testdata/name, or rewrites it with -update.
func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	p := filepath.Join("testdata", name)
	if *update {
		if err := os.MkdirAll("testdata", 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(p)
	if err != nil {
		t.Fatalf("%v (run go test -update to create it)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("output differs from %s (go test -update rewrites it):\n%s", p, got)
	}
}

// goldenInfo has one row of each kind: healthy, expired and not signed by
// the local CA, unreachable, a node known only to etcd, the
// controlPlaneEndpoint and an expired kubeadm-certs.
func goldenInfo() *Info {
	at := time.Date(2026, 12, 4, 10, 0, 0, 0, time.UTC)
	exp, old := at.Add(300*24*time.Hour), at.Add(-time.Hour)
	ok := func(comp, addr, ca string) Endpoint {
		return Endpoint{Component: comp, Address: addr, ExpirationDate: &exp, ResidualTimeSeconds: int64(300 * 24 * 3600),
			Subject: "CN=cp-1", Issuer: "CN=" + ca, Serial: "0A1B", CAName: ca, SignedByCA: true, SANsMatch: true,
			DNSNames: []string{"cp-1"}, IPAddresses: []string{"10.0.0.1"}, Problems: []expiration.Problem{}}
	}
	bad := ok(APIServer, "10.0.0.2:6443", "ca")
	bad.ExpirationDate, bad.ResidualTimeSeconds, bad.ExpiringSoon, bad.SignedByCA, bad.Issuer = &old, -3600, true, false, "CN=other"
	bad.Problems = []expiration.Problem{{Type: expiration.NotSignedByCA, Message: "kube-apiserver at 10.0.0.2:6443 serves a certificate (issuer \"CN=other\", serial 0A1B) that the local ca did not sign"}}
	down := Endpoint{Component: EtcdPeer, Address: "10.0.0.2:2380", CAName: "etcd-ca", DNSNames: []string{}, IPAddresses: []string{},
		Problems: []expiration.Problem{{Type: Unreachable, Message: "no TLS handshake with etcd-peer at 10.0.0.2:2380: connection refused"}}}
	cpe := ok(APIServer, "lb.example.com:6443", "ca")
	tokenExp := at.Add(-10 * time.Minute)
	return &Info{Kind: Kind, APIVersion: APIVersion, CheckedAt: at, WarnWithinSeconds: 30 * 24 * 3600,
		Sources: []string{"nodes", "kubeadm-config", "etcd members https://10.0.0.1:2379"},
		Nodes: []Node{
			{Name: "cp-1", Addresses: []string{"10.0.0.1"}, Sources: []string{"node", "etcd member"},
				Endpoints: []Endpoint{ok(APIServer, "10.0.0.1:6443", "ca"), ok(EtcdClient, "10.0.0.1:2379", "etcd-ca"), ok(EtcdPeer, "10.0.0.1:2380", "etcd-ca")}},
			{Name: "cp-2", Addresses: []string{"10.0.0.2"}, Sources: []string{"node"}, Endpoints: []Endpoint{bad, down}},
			{Name: "cp-9", Addresses: []string{}, Sources: []string{"etcd member"}, Endpoints: []Endpoint{}},
		},
		ControlPlaneEndpoint: &cpe,
		KubeadmCerts: &KubeadmCerts{Namespace: "kube-system", Name: copycerts.SecretName, Created: at.Add(-70 * time.Minute), AgeSeconds: 4200,
			Files: []string{"ca.crt", "ca.key"}, Owner: "Secret/bootstrap-token-abcdef", ExpirationDate: &tokenExp, Expired: true},
		Warnings: []string{"list the etcd pods in kube-system: forbidden"},
	}
}

func TestWriteGolden(t *testing.T) {
	for _, format := range []string{"text", "wide", "json", "yaml", "jsonpath={.nodes[*].name}"} {
		t.Run(format, func(t *testing.T) {
			var out bytes.Buffer
			if err := Write(&out, goldenInfo(), format); err != nil {
				t.Fatal(err)
			}
			name := format
			if format[0] == 'j' && len(format) > 4 && format[4] == 'p' {
				name = "jsonpath"
			}
			golden(t, "cluster."+name, out.Bytes())
		})
	}
	if err := Write(&bytes.Buffer{}, goldenInfo(), "prometheus"); err == nil {
		t.Errorf("-o prometheus accepted")
	}
}

// TestWideIssuerOneLine: the issuer of a served certificate is whatever
// the server at that address chose (a rogue endpoint, a load balancer's
// own certificate): its CN may hold a line break or a terminal escape,
// which -o wide printed raw, forging a row of the table ("cp-3 ... ok")
// or rewriting the terminal. Such an issuer is quoted, as the problem
// messages already quote it.
func TestWideIssuerOneLine(t *testing.T) {
	exp := time.Date(2027, 1, 1, 0, 0, 0, 0, time.UTC)
	forged := "CN=x\ncp-3  kube-apiserver  10.0.0.3:6443  2027-12-04 11:01  364d  ca  ok  -\x1b[1A\x1b[2K"
	info := &Info{Kind: Kind, APIVersion: APIVersion, Sources: []string{}, Warnings: []string{},
		Nodes: []Node{{Name: "cp-2", Addresses: []string{"10.0.0.2"}, Sources: []string{"node"}, Endpoints: []Endpoint{{
			Component: APIServer, Address: "10.0.0.2:6443", ExpirationDate: &exp, Issuer: forged, Serial: "0A", CAName: "ca",
			Problems: []expiration.Problem{{Type: expiration.NotSignedByCA, Message: "not signed"}}}}}}}
	var out bytes.Buffer
	if err := Write(&out, info, "wide"); err != nil {
		t.Fatal(err)
	}
	table, _, _ := strings.Cut(out.String(), "\n\n")
	if lines := strings.Split(table, "\n"); len(lines) != 2 || strings.ContainsRune(out.String(), '\x1b') {
		t.Errorf("the issuer made %d line(s) of the table (want the header and one row), escape printed %v:\n%s",
			len(lines), strings.ContainsRune(out.String(), '\x1b'), out.String())
	}
	if want := strconv.Quote(forged); !strings.Contains(table, want) {
		t.Errorf("the row does not show the issuer quoted, %s:\n%s", want, table)
	}
}
