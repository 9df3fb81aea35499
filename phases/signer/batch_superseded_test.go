package signer

import (
	"context"
	"strings"
	"testing"
	"time"

	certv1 "k8s.io/api/certificates/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/kubernetes/fake"
)

// TestApproveAllFromNodeSuperseded: `certctl renew NAME --use-api
// --new-request` (or a new key algorithm) replaces the node's pending key
// and leaves the CSR of the old key pending. approve --all-from-node
// approves, of the node's pending CSRs for one certificate, only the newest
// (the one of the key the node keeps), and says of each older one that it
// is left alone and why; CSRs for one certificate created in the same
// second are all left alone (the exit status is then 1). Before, it
// approved them all, and the signer issued certificates for keys thrown
// away.
func TestApproveAllFromNodeSuperseded(t *testing.T) {
	t0 := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	sched := profile(t, "scheduler")
	mk := func(name, target string, created time.Time) *certv1.CertificateSigningRequest {
		c := apiCSR(name, KubeAPIServerClient, csrFor(t, sched), usagesOf(sched), false)
		c.CreationTimestamp = metav1.NewTime(created)
		c.Labels = map[string]string{"target": target}
		return c
	}
	of := func(c *certv1.CertificateSigningRequest) (string, error) {
		if strings.HasPrefix(c.Name, "certctl-cp-1-") {
			return c.Labels["target"], nil
		}
		return "", nil
	}
	for _, tc := range []struct {
		name     string
		csrs     []*certv1.CertificateSigningRequest
		approved []string
		lines    []string // in stderr
		wantErr  string
	}{
		{"older replaced", []*certv1.CertificateSigningRequest{
			mk("certctl-cp-1-scheduler.conf-aaaaaaaaaaaa", "scheduler.conf", t0.Add(time.Minute)),
			mk("certctl-cp-1-scheduler.conf-bbbbbbbbbbbb", "scheduler.conf", t0),
			mk("certctl-cp-1-scheduler.conf-cccccccccccc", "scheduler.conf", t0.Add(-time.Hour)),
			mk("certctl-cp-1-admin.conf-dddddddddddd", "admin.conf", t0),
			mk("certctl-cp-2-scheduler.conf-eeeeeeeeeeee", "scheduler.conf", t0.Add(time.Hour)),
		}, []string{"certctl-cp-1-admin.conf-dddddddddddd", "certctl-cp-1-scheduler.conf-aaaaaaaaaaaa"}, []string{
			"[approve] CSR certctl-cp-1-scheduler.conf-bbbbbbbbbbbb left alone: CSR certctl-cp-1-scheduler.conf-aaaaaaaaaaaa, created later on node cp-1 for the same certificate scheduler.conf, replaces it",
			"[approve] CSR certctl-cp-1-scheduler.conf-cccccccccccc left alone: CSR certctl-cp-1-scheduler.conf-aaaaaaaaaaaa, created later",
			"deny it (certctl deny certctl-cp-1-scheduler.conf-cccccccccccc --reason Superseded)",
		}, ""},
		{"same second", []*certv1.CertificateSigningRequest{
			mk("certctl-cp-1-scheduler.conf-aaaaaaaaaaaa", "scheduler.conf", t0),
			mk("certctl-cp-1-scheduler.conf-bbbbbbbbbbbb", "scheduler.conf", t0),
			mk("certctl-cp-1-admin.conf-dddddddddddd", "admin.conf", t0),
		}, []string{"certctl-cp-1-admin.conf-dddddddddddd"}, []string{
			"[approve] CSR certctl-cp-1-scheduler.conf-aaaaaaaaaaaa left alone: CSRs certctl-cp-1-scheduler.conf-aaaaaaaaaaaa, certctl-cp-1-scheduler.conf-bbbbbbbbbbbb of node cp-1, all for its certificate scheduler.conf, were created in the same second",
		}, "2 CSR(s) named as node cp-1's left alone"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			objs := make([]runtime.Object, len(tc.csrs))
			for i, c := range tc.csrs {
				objs[i] = c
			}
			client := fake.NewClientset(objs...)
			var out, errOut strings.Builder
			err := ApproveAll(context.Background(), client, ApproveOptions{Force: true},
				Batch{FromNode: "cp-1", Of: of, Out: &out, ErrOut: &errOut})
			if (err == nil) != (tc.wantErr == "") || err != nil && !strings.Contains(err.Error(), tc.wantErr) {
				t.Errorf("error %v, want %q", err, tc.wantErr)
			}
			list, lerr := client.CertificatesV1().CertificateSigningRequests().List(context.Background(), metav1.ListOptions{})
			if lerr != nil {
				t.Fatal(lerr)
			}
			var approved []string
			for _, c := range list.Items {
				if IsApproved(&c) {
					approved = append(approved, c.Name)
				}
			}
			if strings.Join(approved, " ") != strings.Join(tc.approved, " ") {
				t.Errorf("approved %q, want %q\nstdout:\n%s\nstderr:\n%s", approved, tc.approved, out.String(), errOut.String())
			}
			for _, l := range tc.lines {
				if !strings.Contains(errOut.String(), l) {
					t.Errorf("stderr lacks %q:\n%s", l, errOut.String())
				}
			}
		})
	}
}
