package signer

import (
	"context"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"strings"
	"testing"
	"time"

	certv1 "k8s.io/api/certificates/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/kubernetes/fake"

	"github.com/certctl/certctl/phases/config"
	"github.com/certctl/certctl/pki"
)

func conditions(t *testing.T, client *fake.Clientset, name string) []certv1.CertificateSigningRequestCondition {
	t.Helper()
	csr, err := client.CertificatesV1().CertificateSigningRequests().Get(context.Background(), name, metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	return csr.Status.Conditions
}

func TestApprove(t *testing.T) {
	api := profile(t, "apiserver")
	evil := csrWith(t, &x509.CertificateRequest{Subject: pkix.Name{CommonName: "kube-apiserver"}, DNSNames: []string{"evil.example.com"}}, nil)
	fromNode := apiCSR("from-node", KubeAPIServerServing, csrFor(t, api), usagesOf(api), false)
	fromNode.Spec.Username, fromNode.Spec.Groups = "system:node:cp-1", []string{pki.NodesGroup}
	badSig := apiCSR("bad-signature", KubeAPIServerServing, csrFor(t, api), usagesOf(api), false)
	raw := csrFor(t, api).Raw
	raw = append([]byte{}, raw...)
	raw[len(raw)-1] ^= 0xff // the last byte is the signature's
	badSig.Spec.Request = pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE REQUEST", Bytes: raw})
	client := fake.NewClientset([]runtime.Object{
		apiCSR("good", KubeAPIServerServing, csrFor(t, api), usagesOf(api), false),
		apiCSR("evil", KubeAPIServerServing, evil, usagesOf(api), false),
		apiCSR("forced", KubeAPIServerServing, evil, usagesOf(api), false),
		apiCSR("approved", KubeAPIServerServing, csrFor(t, api), usagesOf(api), true),
		fromNode, badSig,
	}...)
	ctx := context.Background()
	o := ApproveOptions{Policy: testPolicy(t, PolicyOptions{}), Now: func() time.Time { return testNow }}

	res, err := Approve(ctx, client, "good", o)
	if err != nil {
		t.Fatal(err)
	}
	if res.AlreadyApproved || res.Profile.Name != "apiserver" {
		t.Errorf("result %+v", res)
	}
	conds := conditions(t, client, "good")
	if len(conds) != 1 || conds[0].Type != certv1.CertificateApproved || !strings.Contains(conds[0].Message, "fits the apiserver certificate") {
		t.Errorf("conditions %+v", conds)
	}

	for name, want := range map[string]string{
		"evil":          "SANs DNS:evil.example.com are not SANs",
		"from-node":     "may not ask for control-plane certificates",
		"bad-signature": "signature",
		"missing":       "get CSR missing",
	} {
		_, err := Approve(ctx, client, name, o)
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("approve %s: err = %v, want %q", name, err, want)
		}
		if name != "missing" && len(conditions(t, client, name)) != 0 {
			t.Errorf("approve %s failed but wrote a condition", name)
		}
	}

	forced := o
	forced.Force = true
	if _, err := Approve(ctx, client, "forced", forced); err != nil {
		t.Fatal(err)
	}
	if c := conditions(t, client, "forced"); len(c) != 1 || !strings.Contains(c[0].Message, "--force") {
		t.Errorf("forced approval conditions %+v", c)
	}
	if _, err := Approve(ctx, client, "bad-signature", forced); err == nil {
		t.Error("--force approved a request without proof of possession")
	}
	res, err = Approve(ctx, client, "approved", o)
	if err != nil || !res.AlreadyApproved {
		t.Errorf("approve twice: %+v, %v", res, err)
	}
	if len(conditions(t, client, "approved")) != 1 {
		t.Error("approving an approved CSR added a condition")
	}

	// Deny.
	if _, err := Deny(ctx, client, "evil", "", "", testNow, false); err == nil {
		t.Error("deny without a reason")
	}
	already, err := Deny(ctx, client, "evil", "NotOurs", "evil.example.com is not ours", testNow, false)
	if err != nil || already {
		t.Fatalf("deny: %v %v", already, err)
	}
	if c := conditions(t, client, "evil"); len(c) != 1 || c[0].Type != certv1.CertificateDenied || c[0].Reason != "NotOurs" {
		t.Errorf("denied conditions %+v", c)
	}
	if already, err := Deny(ctx, client, "evil", "NotOurs", "", testNow, false); err != nil || !already {
		t.Errorf("deny twice: %v %v", already, err)
	}
	if _, err := Deny(ctx, client, "good", "Late", "", testNow, false); err == nil || !strings.Contains(err.Error(), "already approved") {
		t.Errorf("deny an approved CSR: %v", err)
	}
	if _, err := Approve(ctx, client, "evil", forced); err == nil || !strings.Contains(err.Error(), "denied") {
		t.Errorf("approve a denied CSR: %v", err)
	}
}

func TestSign(t *testing.T) {
	ca := newTestCA(t, "custom-ca", testNow.Add(30*24*time.Hour))
	admin := profile(t, "admin")
	client := fake.NewClientset([]runtime.Object{
		apiCSR("approved", "example.com/serving", csrFor(t, admin), []certv1.KeyUsage{certv1.UsageClientAuth}, true),
		apiCSR("pending", "example.com/serving", csrFor(t, admin), []certv1.KeyUsage{certv1.UsageClientAuth}, false),
		apiCSR("configured", "example.com/serving", csrFor(t, admin), []certv1.KeyUsage{certv1.UsageClientAuth}, true),
	}...)
	ctx := context.Background()
	o := SignOptions{CA: ca, Now: func() time.Time { return testNow }}

	res, err := Sign(ctx, client, "approved", o)
	if err != nil {
		t.Fatal(err)
	}
	if err := pki.VerifySignedBy(res.Certificate, nil, ca.Cert, testNow); err != nil {
		t.Error(err)
	}
	if !res.Certificate.NotAfter.Equal(ca.Cert.NotAfter) || len(res.Warnings) != 1 {
		t.Errorf("NotAfter %v (CA %v), warnings %q: want capped at the CA with a warning", res.Certificate.NotAfter, ca.Cert.NotAfter, res.Warnings)
	}
	if _, err := Sign(ctx, client, "approved", o); err == nil || !strings.Contains(err.Error(), "already has a certificate") {
		t.Errorf("sign twice: %v", err)
	}
	// The message answers a script written for the first release's hidden
	// `sign --force` too (issue 13).
	if _, err := Sign(ctx, client, "pending", o); err == nil || !strings.Contains(err.Error(), "not approved") || !strings.Contains(err.Error(), "never signs an unapproved CSR (--force included)") {
		t.Errorf("sign unapproved: %v", err)
	}

	prof, err := ParseSigningConfig([]byte(`{"signing": {"default": {"usages": ["digital signature", "key encipherment", "server auth"], "expiry": "24h", "ca_constraint": {"is_ca": false}}}}`), "")
	if err != nil {
		t.Fatal(err)
	}
	o.Profile = prof
	res, err = Sign(ctx, client, "configured", o)
	if err != nil {
		t.Fatal(err)
	}
	if !res.Certificate.NotAfter.Equal(testNow.Add(24*time.Hour)) || res.Certificate.ExtKeyUsage[0] != x509.ExtKeyUsageServerAuth || len(res.Warnings) != 1 {
		t.Errorf("configured: NotAfter %v, EKU %v, warnings %q", res.Certificate.NotAfter, res.Certificate.ExtKeyUsage, res.Warnings)
	}
}

func TestParseSigningConfig(t *testing.T) {
	const cfg = `{"signing": {"default": {"usages": ["client auth"], "expiry": "8760h"},
		"profiles": {"server": {"usages": ["server auth"], "expiry": "1h"}, "ca": {"usages": ["cert sign"], "ca_constraint": {"is_ca": true}}}}}`
	p, err := ParseSigningConfig([]byte(cfg), "")
	if err != nil || p.Expiry != 8760*time.Hour || p.Usages[0] != certv1.UsageClientAuth {
		t.Errorf("default: %+v %v", p, err)
	}
	p, err = ParseSigningConfig([]byte(cfg), "server")
	if err != nil || p.Expiry != time.Hour {
		t.Errorf("server: %+v %v", p, err)
	}
	for _, tc := range []struct{ cfg, profile, want string }{
		{cfg, "nope", `no profile "nope"`},
		{cfg, "ca", "never issues a CA"},
		{`{"signing": {"default": {"usages": ["client auth"], "name_whitelist": "x"}}}`, "", "unknown field"},
		{`{"signing": {"default": {"usages": ["rocket"]}}}`, "", "unknown usage"},
		{`{"signing": {"default": {"usages": ["digital signature", "any"]}}}`, "", `usage "any" is refused`},
		{`{"signing": {"default": {"expiry": "forever"}}}`, "", "not a positive duration"},
		{`{"signing": {"default": {"usages": ["client auth"], "expiry": "1ns"}}}`, "", "expiry 1ns is shorter than 1h0m0s"},
		{`{"signing": {"profiles": {}}}`, "", "no signing.default"},
		{`{}`, "", `no "signing"`},
		{`not json`, "", "decode"},
	} {
		if _, err := ParseSigningConfig([]byte(tc.cfg), tc.profile); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s %q: err = %v, want %q", tc.cfg, tc.profile, err, tc.want)
		}
	}
}

// TestPendingOf: only CSRs with no Approved, Denied or Failed condition,
// and that of says are the node's, sorted; those of cannot tell apart,
// with why.
func TestPendingOf(t *testing.T) {
	api := profile(t, "apiserver")
	req := csrFor(t, api)
	denied := apiCSR("node-b-denied", KubeAPIServerServing, req, usagesOf(api), false)
	denied.Status.Conditions = []certv1.CertificateSigningRequestCondition{{Type: certv1.CertificateDenied, Status: "True"}}
	client := fake.NewClientset([]runtime.Object{
		apiCSR("node-c", KubeAPIServerServing, req, usagesOf(api), false),
		apiCSR("node-a", KubeAPIServerServing, req, usagesOf(api), false),
		apiCSR("node-approved", KubeAPIServerServing, req, usagesOf(api), true),
		apiCSR("node-unclear", KubeAPIServerServing, req, usagesOf(api), false),
		apiCSR("other", KubeAPIServerServing, req, usagesOf(api), false),
		denied,
	}...)
	of := func(c *certv1.CertificateSigningRequest) (string, error) {
		switch {
		case c.Name == "node-unclear":
			return "", errors.New("cannot tell")
		case strings.HasPrefix(c.Name, "node-"):
			return "apiserver", nil
		}
		return "", nil
	}
	csrs, certs, unclear, err := pendingOf(context.Background(), client, of)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, c := range csrs {
		got = append(got, c.Name)
	}
	if strings.Join(got, " ") != "node-a node-c" || len(certs) != 2 || certs["node-a"] != "apiserver" {
		t.Errorf("pending: %v (certificates %v), want node-a node-c, for apiserver", got, certs)
	}
	if len(unclear) != 1 || unclear[0].Name != "node-unclear" || unclear[0].Why.Error() != "cannot tell" {
		t.Errorf("unclear: %+v", unclear)
	}
}

// TestApproveForceKeepsSystemMastersOptIn: --force skips the profile and
// requester checks, not the opt-in of O=system:masters (docs/signer.md:
// "only with --allow-system-masters"). `approve --force` approved a
// kubernetes.io/kube-apiserver-client CSR for O=system:masters, which
// kube-controller-manager then signs: a certificate that bypasses all
// authorization, without the flag that says so. It is refused now, with
// no condition written, unless --allow-system-masters is given too.
func TestApproveForceKeepsSystemMastersOptIn(t *testing.T) {
	root := csrWith(t, &x509.CertificateRequest{Subject: pkix.Name{CommonName: "root", Organization: []string{"devs", pki.MastersGroup}}}, nil)
	client := fake.NewClientset([]runtime.Object{
		apiCSR("masters", certv1.KubeAPIServerClientSignerName, root, []certv1.KeyUsage{certv1.UsageDigitalSignature, certv1.UsageClientAuth}, false),
	}...)
	connect := func() (kubernetes.Interface, error) { return client, nil }
	load := func() (*config.Cluster, error) { t.Fatal("the node's settings read with --force"); return nil, nil }
	o := ApproveOptions{Force: true, Now: func() time.Time { return testNow }}
	var out, errOut strings.Builder
	err := ApproveWith(context.Background(), connect, load, NodeRules{}, o, Batch{Names: []string{"masters"}, Out: &out, ErrOut: &errOut}, &errOut)
	if err == nil || !strings.Contains(err.Error(), "--allow-system-masters") {
		t.Errorf("approve --force of O=system:masters: %v, want it refused, naming --allow-system-masters", err)
	}
	if c := conditions(t, client, "masters"); len(c) != 0 {
		t.Fatalf("refused approval wrote conditions %+v", c)
	}
	allow := NodeRules{PolicyOptions: PolicyOptions{AllowSystemMasters: true}}
	if err := ApproveWith(context.Background(), connect, load, allow, o, Batch{Names: []string{"masters"}, Out: &out, ErrOut: &errOut}, &errOut); err != nil {
		t.Errorf("approve --force --allow-system-masters: %v", err)
	}
}
