package signer

import (
	"context"
	"crypto/x509"
	"crypto/x509/pkix"
	"errors"
	"strings"
	"testing"
	"time"

	certv1 "k8s.io/api/certificates/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/kubernetes/fake"

	"github.com/certctl/certctl/phases/config"
	"github.com/certctl/certctl/pki"
	"github.com/certctl/certctl/pki/policy"
)

// TestApproveForceKeepsPrivilege: `approve --force` skips the profile and
// requester checks, but not the issuance policy's rule on a subject that
// makes its holder a cluster admin (policy.Rules.Privilege). It approved
// a kubernetes.io/kube-apiserver-client CSR for O=kubeadm:cluster-admins
// (admin.conf's identity, bound to cluster-admin) from a node or a service
// account, which kube-controller-manager then signs: a cluster admin made
// by a flag meant for a CSR whose SANs certctl does not know. It is
// refused now for a requester the policy does not allow, with the reason
// approve without --force, sign and signer run give, and no condition
// written; --requester-user or --requester-group name who may.
func TestApproveForceKeepsPrivilege(t *testing.T) {
	by := func(user string, groups ...string) [2]any { return [2]any{user, groups} }
	admin := by("kubernetes-admin", pki.ClusterAdminsGroup, "system:authenticated")
	nodeCP1 := by("system:node:cp-1", pki.NodesGroup, "system:authenticated")
	sa := by("system:serviceaccount:default:x", "system:serviceaccounts", "system:authenticated")
	adminConf, superAdmin := profile(t, "admin"), profile(t, "super-admin")
	clientUsages := []certv1.KeyUsage{certv1.UsageDigitalSignature, certv1.UsageKeyEncipherment, certv1.UsageClientAuth}
	mallory := func(o ...string) *x509.CertificateRequest {
		return csrWith(t, &x509.CertificateRequest{Subject: pkix.Name{CommonName: "mallory", Organization: o}}, nil)
	}
	for _, c := range []struct {
		name       string
		signerName string
		req        *x509.CertificateRequest
		requester  [2]any
		rules      PolicyOptions // the flags
		want       string        // reason; "": approved
	}{
		{"admin.conf's identity by a node", certv1.KubeAPIServerClientSignerName, csrFor(t, adminConf), nodeCP1, PolicyOptions{}, policy.ReasonRequesterNotAllowed},
		{"admin.conf's identity by a service account", certv1.KubeAPIServerClientSignerName, csrFor(t, adminConf), sa, PolicyOptions{}, policy.ReasonRequesterNotAllowed},
		{"admin.conf's identity on certctl's name, by a node", KubeAPIServerClient, csrFor(t, adminConf), nodeCP1, PolicyOptions{}, policy.ReasonRequesterNotAllowed},
		{"another CN in kubeadm:cluster-admins, by a node", certv1.KubeAPIServerClientSignerName, mallory("devs", pki.ClusterAdminsGroup), nodeCP1, PolicyOptions{}, policy.ReasonRequesterNotAllowed},
		{"a group of --requester-group, by a node", certv1.KubeAPIServerClientSignerName, mallory("pki-admins"), nodeCP1, PolicyOptions{RequesterGroups: []string{"pki-admins"}}, policy.ReasonRequesterNotAllowed},
		{"system:masters by a node, --allow-system-masters", certv1.KubeAPIServerClientSignerName, csrFor(t, superAdmin), nodeCP1, PolicyOptions{AllowSystemMasters: true}, policy.ReasonSystemMastersRefused},
		{"system:masters by an admin", certv1.KubeAPIServerClientSignerName, csrFor(t, superAdmin), admin, PolicyOptions{}, policy.ReasonSystemMastersRefused},
		{"admin.conf's identity by an admin", certv1.KubeAPIServerClientSignerName, csrFor(t, adminConf), admin, PolicyOptions{}, ""},
		{"admin.conf's identity by a node named by --requester-user", certv1.KubeAPIServerClientSignerName, csrFor(t, adminConf), nodeCP1, PolicyOptions{RequesterUsers: []string{"system:node:cp-1"}}, ""},
		{"system:masters by an admin, --allow-system-masters", certv1.KubeAPIServerClientSignerName, csrFor(t, superAdmin), admin, PolicyOptions{AllowSystemMasters: true}, ""},
		// What --force is for: a subject certctl does not know, by anyone.
		{"an ordinary subject by a node", certv1.KubeAPIServerClientSignerName, mallory("devs"), nodeCP1, PolicyOptions{}, ""},
	} {
		t.Run(c.name, func(t *testing.T) {
			csr := apiCSR("r", c.signerName, c.req, clientUsages, false)
			csr.Spec.Username, csr.Spec.Groups = c.requester[0].(string), c.requester[1].([]string)
			client := fake.NewClientset(csr.DeepCopy())
			connect := func() (kubernetes.Interface, error) { return client, nil }
			load := func() (*config.Cluster, error) { t.Fatal("the node's settings read with --force"); return nil, nil }
			var out, errOut strings.Builder
			o := ApproveOptions{Force: true, Now: func() time.Time { return testNow }}
			err := ApproveWith(context.Background(), connect, load, NodeRules{PolicyOptions: c.rules}, o, Batch{Names: []string{"r"}, Out: &out, ErrOut: &errOut}, &errOut)
			var v *policy.Violation
			switch {
			case c.want == "" && err != nil:
				t.Fatalf("approve --force: %v, want it approved", err)
			case c.want == "":
				if conds := conditions(t, client, "r"); len(conds) != 1 || conds[0].Type != certv1.CertificateApproved {
					t.Fatalf("approve --force: conditions %+v, want Approved", conds)
				}
				return
			case !errors.As(err, &v) || v.Reason != c.want:
				t.Fatalf("approve --force: %v, want it refused with reason %s", err, c.want)
			case strings.Contains(err.Error(), "\n") || !strings.Contains(err.Error(), "--force does not skip") || !strings.Contains(err.Error(), "certctl deny r"):
				t.Errorf("approve --force: %q, want one line saying --force does not skip it and how to deny it", err)
			}
			if conds := conditions(t, client, "r"); len(conds) != 0 {
				t.Errorf("refused approval wrote conditions %+v", conds)
			}

			// The one policy: the same reason from the other paths.
			rules := c.rules.Rules()
			if got := rules.CheckRequest(requestOf(csr, c.req, clientUsages)); !errors.As(got, &v) || v.Reason != c.want {
				t.Errorf("policy.Rules.CheckRequest: %v, want reason %s", got, c.want)
			}
			if !IsCertctlName(c.signerName) {
				return // sign refuses a kubernetes.io name whatever it asks
			}
			pol := testPolicy(t, c.rules)
			if _, err := Approve(t.Context(), fake.NewClientset(csr.DeepCopy()), "r", ApproveOptions{Policy: pol, Now: func() time.Time { return testNow }}); !errors.As(err, &v) || v.Reason != c.want {
				t.Errorf("approve: %v, want reason %s", err, c.want)
			}
			approved := apiCSR("r", c.signerName, c.req, clientUsages, true)
			approved.Spec.Username, approved.Spec.Groups = csr.Spec.Username, csr.Spec.Groups
			_, err = Sign(t.Context(), fake.NewClientset(approved), "r", SignOptions{CA: newTestCA(t, "kubernetes", testNow.Add(365*24*time.Hour)), Now: func() time.Time { return testNow },
				Rules: rules, ControlPlane: func(context.Context) (*Policy, error) { return pol, nil }})
			if !errors.As(err, &v) || v.Reason != c.want {
				t.Errorf("sign: %v, want reason %s", err, c.want)
			}
		})
	}
}
