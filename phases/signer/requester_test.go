package signer

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	certv1 "k8s.io/api/certificates/v1"
	"k8s.io/client-go/kubernetes/fake"

	"github.com/certctl/certctl/pki"
	"github.com/certctl/certctl/pki/policy"
)

// TestSignersApplyRequesterRule: `certctl approve` approves a CSR of
// certctl's signer names only for a requester of --requester-group or
// --requester-user (by default admin.conf's and super-admin.conf's
// groups), but `signer run` and `sign` signed the ordinary control-plane
// identities of those names (controller-manager.conf, apiserver-kubelet-client,
// the etcd clients) for any requester once plain `kubectl certificate
// approve` approved them: a service account that may create CSRs got
// etcd's full access, or the kubelets'. Both now apply approve's rule
// (RequesterNotAllowed), with the same flags and defaults; a custom
// signer name is left to its approver, as kube-controller-manager does.
func TestSignersApplyRequesterRule(t *testing.T) {
	const sa = "system:serviceaccount:default:x"
	ca := newTestCA(t, "kubernetes", testNow.Add(365*24*time.Hour))
	etcd := newTestCA(t, "etcd-ca", testNow.Add(365*24*time.Hour))
	for _, c := range []struct {
		name, cert, signerName string
		user                   string // the requester; its groups are a service account's
		opts                   PolicyOptions
		want                   string // the reason; "": signed
	}{
		{"controller-manager.conf by a service account", "controller-manager", KubeAPIServerClient, sa, PolicyOptions{}, policy.ReasonRequesterNotAllowed},
		{"apiserver-kubelet-client by a service account", "apiserver-kubelet-client", KubeAPIServerClient, sa, PolicyOptions{}, policy.ReasonRequesterNotAllowed},
		{"apiserver-etcd-client by a service account", "apiserver-etcd-client", EtcdClient, sa, PolicyOptions{}, policy.ReasonRequesterNotAllowed},
		{"apiserver-etcd-client by a --requester-user", "apiserver-etcd-client", EtcdClient, sa, PolicyOptions{RequesterUsers: []string{sa}}, ""},
		{"controller-manager.conf by a --requester-group", "controller-manager", KubeAPIServerClient, sa, PolicyOptions{RequesterGroups: []string{"system:serviceaccounts"}}, ""},
		{"controller-manager.conf by kubernetes-admin", "controller-manager", KubeAPIServerClient, "", PolicyOptions{}, ""},
	} {
		t.Run(c.name, func(t *testing.T) {
			p := profile(t, c.cert)
			csr := apiCSR("r", c.signerName, csrFor(t, p), usagesOf(p), true)
			if c.user != "" {
				csr.Spec.Username, csr.Spec.Groups = c.user, []string{"system:serviceaccounts", "system:serviceaccounts:default", "system:authenticated"}
			}
			pol := testPolicy(t, c.opts)
			cas := map[string]CAProvider{pki.CAName: ca, pki.EtcdCAName: etcd}

			// certctl sign
			client := fake.NewClientset(csr.DeepCopy())
			_, err := Sign(t.Context(), client, "r", SignOptions{CA: cas[CAFor(c.signerName)].Current(), Now: func() time.Time { return testNow },
				Rules:        policy.Rules{RequesterGroups: c.opts.RequesterGroups, RequesterUsers: c.opts.RequesterUsers},
				ControlPlane: func(context.Context) (*Policy, error) { return pol, nil }})
			var v *policy.Violation
			switch {
			case c.want == "" && err != nil:
				t.Errorf("sign: %v", err)
			case c.want != "" && (!errors.As(err, &v) || v.Reason != c.want || !strings.Contains(err.Error(), sa) || certificateOf(t, client, "r") != ""):
				t.Errorf("sign: %v, want %s naming %s and no certificate", err, c.want, sa)
			}

			// certctl signer run
			client = fake.NewClientset(csr.DeepCopy())
			startController(t, ControllerOptions{Client: client, CAs: cas, Policy: pol, Now: func() time.Time { return testNow }})
			want := map[string]string{"": "Issued"}[c.want]
			if want == "" {
				want = "Failed"
			}
			for deadline := time.Now().Add(15 * time.Second); State(getCSR(t, client, "r")) != want; time.Sleep(20 * time.Millisecond) {
				if time.Now().After(deadline) {
					t.Fatalf("signer run: %s, want %s", State(getCSR(t, client, "r")), want)
				}
			}
			for _, cond := range getCSR(t, client, "r").Status.Conditions {
				if cond.Type == certv1.CertificateFailed && cond.Reason != c.want {
					t.Errorf("signer run failed it with %s: %s", cond.Reason, cond.Message)
				}
			}
		})
	}
}
