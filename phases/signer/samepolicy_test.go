package signer

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"errors"
	"net/url"
	"testing"
	"time"

	certv1 "k8s.io/api/certificates/v1"
	"k8s.io/client-go/kubernetes/fake"

	"github.com/certctl/certctl/pki"
	"github.com/certctl/certctl/pki/policy"
)

// TestSamePolicyOnEveryPath: "a policy (who may get which certificate) is
// written once and applied by every path". The same requests go to
// `certctl approve` (pending), `certctl sign` and `certctl signer run`
// (approved, as plain kubectl certificate approve leaves them): each path
// refuses each with the same reason, or lets it through.
func TestSamePolicyOnEveryPath(t *testing.T) {
	const sa = "system:serviceaccount:default:x"
	api, cm, ec := profile(t, "apiserver"), profile(t, "controller-manager"), profile(t, "apiserver-etcd-client")
	_, edKey, _ := ed25519.GenerateKey(rand.Reader)
	caTrue, _ := asn1.Marshal(struct{ IsCA bool }{true})
	cn := asn1.ObjectIdentifier{2, 5, 4, 3}
	twoCN, _ := asn1.Marshal(pkix.RDNSequence{{{Type: cn, Value: "x"}}, {{Type: cn, Value: "kube-apiserver"}}})
	by := func(user string, groups ...string) [2]any { return [2]any{user, groups} }
	admin := by("kubernetes-admin", pki.ClusterAdminsGroup)
	for _, c := range []struct {
		name, signerName string
		req              *x509.CertificateRequest
		usages           []certv1.KeyUsage
		requester        [2]any
		want             string // reason; "": signed
	}{
		{"fits", KubeAPIServerServing, csrFor(t, api), usagesOf(api), admin, ""},
		{"foreign DNS SAN", KubeAPIServerServing, csrWith(t, &x509.CertificateRequest{Subject: pkix.Name{CommonName: "kube-apiserver"}, DNSNames: []string{"evil.example.com"}}, nil), usagesOf(api), admin, policy.ReasonSANNotAllowed},
		{"URI SAN", KubeAPIServerServing, csrWith(t, &x509.CertificateRequest{Subject: pkix.Name{CommonName: "kube-apiserver"}, URIs: []*url.URL{{Scheme: "spiffe", Host: "x"}}}, nil), usagesOf(api), admin, policy.ReasonSANNotAllowed},
		{"email SAN", KubeAPIServerServing, csrWith(t, &x509.CertificateRequest{Subject: pkix.Name{CommonName: "kube-apiserver"}, EmailAddresses: []string{"a@example.com"}}, nil), usagesOf(api), admin, policy.ReasonSANNotAllowed},
		{"two CNs", KubeAPIServerServing, csrWith(t, &x509.CertificateRequest{RawSubject: twoCN}, nil), usagesOf(api), admin, policy.ReasonSubjectNotAllowed},
		{"extra OU", KubeAPIServerServing, csrWith(t, &x509.CertificateRequest{Subject: pkix.Name{CommonName: "kube-apiserver", OrganizationalUnit: []string{"x"}}}, nil), usagesOf(api), admin, policy.ReasonSubjectNotAllowed},
		{"cert sign usage", KubeAPIServerServing, csrFor(t, api), append(usagesOf(api), certv1.UsageCertSign), admin, policy.ReasonCARequested},
		{"CA:TRUE asked", KubeAPIServerServing, csrWith(t, &x509.CertificateRequest{Subject: pkix.Name{CommonName: "kube-apiserver"},
			ExtraExtensions: []pkix.Extension{{Id: asn1.ObjectIdentifier{2, 5, 29, 19}, Critical: true, Value: caTrue}}}, nil), usagesOf(api), admin, policy.ReasonCARequested},
		{"Ed25519 key", KubeAPIServerServing, csrWith(t, &x509.CertificateRequest{Subject: pkix.Name{CommonName: "kube-apiserver"}}, edKey), usagesOf(api), admin, policy.ReasonKeyNotAllowed},
		{"any usage", KubeAPIServerServing, csrFor(t, api), append(usagesOf(api), certv1.UsageAny), admin, policy.ReasonUsageNotAllowed},
		{"client auth on a serving certificate", KubeAPIServerServing, csrFor(t, api), append(usagesOf(api), certv1.UsageClientAuth), admin, policy.ReasonUsageNotAllowed},
		{"super-admin", KubeAPIServerClient, csrFor(t, profile(t, "super-admin")), usagesOf(profile(t, "super-admin")), admin, policy.ReasonSystemMastersRefused},
		{"controller-manager by a service account", KubeAPIServerClient, csrFor(t, cm), usagesOf(cm), by(sa, "system:serviceaccounts"), policy.ReasonRequesterNotAllowed},
		{"kubelet.conf by its node", KubeAPIServerClient, csrFor(t, profile(t, "kubelet")), usagesOf(profile(t, "kubelet")), by("system:node:cp-1", pki.NodesGroup), policy.ReasonRequesterNotAllowed},
		// What is asked comes before who asks, as signer run's Failed reasons always did.
		{"etcd client by a service account, with a SAN", EtcdClient, csrWith(t, &x509.CertificateRequest{Subject: pkix.Name{CommonName: ec.CommonName}, DNSNames: []string{"x"}}, nil), usagesOf(ec), by(sa, "system:serviceaccounts"), policy.ReasonSANNotAllowed},
		{"super-admin by a service account, allowed", KubeAPIServerClient, csrFor(t, profile(t, "super-admin")), usagesOf(profile(t, "super-admin")), by(sa, "system:serviceaccounts"), policy.ReasonSystemMastersRefused},
		{"typo of a signer name", "certctl.io/kube-apiserver-servng", csrFor(t, api), usagesOf(api), admin, policy.ReasonUnknownSigner},
	} {
		t.Run(c.name, func(t *testing.T) {
			csr := apiCSR("r", c.signerName, c.req, c.usages, false)
			csr.Spec.Username, csr.Spec.Groups = c.requester[0].(string), c.requester[1].([]string)
			allow := c.name == "super-admin by a service account, allowed" // --allow-system-masters
			pol := testPolicy(t, PolicyOptions{AllowSystemMasters: allow})
			reason := func(err error) string {
				var v *policy.Violation
				if errors.As(err, &v) {
					return v.Reason
				}
				if err != nil {
					return "error: " + err.Error()
				}
				return ""
			}

			_, err := Approve(t.Context(), fake.NewClientset(csr.DeepCopy()), "r", ApproveOptions{Policy: pol, Now: func() time.Time { return testNow }})
			if got := reason(err); got != c.want {
				t.Errorf("approve: %s (%v), want %q", got, err, c.want)
			}

			approved := apiCSR("r", c.signerName, c.req, c.usages, true)
			approved.Spec.Username, approved.Spec.Groups = csr.Spec.Username, csr.Spec.Groups
			ca := newTestCA(t, "kubernetes", testNow.Add(365*24*time.Hour))
			if CAFor(c.signerName) == pki.EtcdCAName {
				ca = newTestCA(t, "etcd-ca", testNow.Add(365*24*time.Hour))
			}
			_, err = Sign(t.Context(), fake.NewClientset(approved.DeepCopy()), "r", SignOptions{CA: ca, Now: func() time.Time { return testNow }, Rules: policy.Rules{AllowSystemMasters: allow},
				ControlPlane: func(context.Context) (*Policy, error) { return pol, nil }})
			if got := reason(err); got != c.want && (c.want != policy.ReasonUnknownSigner || err == nil) {
				t.Errorf("sign: %s (%v), want %q", got, err, c.want)
			}

			if !IsCertctlName(c.signerName) {
				return // signer run leaves a name it does not serve alone
			}
			client := fake.NewClientset(approved.DeepCopy())
			startController(t, ControllerOptions{Client: client, CAs: map[string]CAProvider{CAFor(c.signerName): ca}, Policy: pol, Now: func() time.Time { return testNow }})
			for deadline := time.Now().Add(15 * time.Second); State(getCSR(t, client, "r")) == "Approved"; time.Sleep(20 * time.Millisecond) {
				if time.Now().After(deadline) {
					t.Fatal("signer run: still Approved after 15s")
				}
			}
			got := getCSR(t, client, "r")
			failed := ""
			for _, cond := range got.Status.Conditions {
				if cond.Type == certv1.CertificateFailed {
					failed = cond.Reason
				}
			}
			if failed != c.want || (c.want == "") != (State(got) == "Issued") {
				t.Errorf("signer run: %s %s, want %q", State(got), failed, c.want)
			}
		})
	}
}
