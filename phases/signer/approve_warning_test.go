package signer

import (
	"context"
	"strings"
	"testing"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/kubernetes/fake"
	k8stesting "k8s.io/client-go/testing"

	"github.com/certctl/certctl/phases/config"
	"github.com/certctl/certctl/pki"
)

// TestApproveWarningExitStatus: approve warns when it cannot learn the
// cluster's control-plane nodes (Nodes not listable, or none listed), and
// then judges by this node's certificates alone. The warning never hides
// a CSR left unapproved: a CSR for another node's certificate is refused
// with an error (exit status 1), one for this node's is approved (0).
func TestApproveWarningExitStatus(t *testing.T) {
	cp2 := node("cp-2", "198.51.100.20")
	var api2 pki.Profile
	for _, p := range certificates(t, cp2) {
		if p.Name == "apiserver" {
			api2 = p
		}
	}
	api1 := profile(t, "apiserver")
	for _, c := range []struct {
		name      string
		forbidden bool // Nodes cannot be listed; else none is listed
		prof      pki.Profile
		warning   string
		wantErr   string // "": approved
	}{
		{"Nodes forbidden, another node's CSR", true, api2, "only this node's certificates (cp-1=198.51.100.10) fit", "SANs"},
		{"Nodes forbidden, this node's CSR", true, api1, "only this node's certificates (cp-1=198.51.100.10) fit", ""},
		{"no Node listed, another node's CSR", false, api2, "the cluster lists no control-plane Node", "SANs"},
	} {
		t.Run(c.name, func(t *testing.T) {
			client := fake.NewClientset(apiCSR("r", KubeAPIServerServing, csrFor(t, c.prof), usagesOf(c.prof), false))
			if c.forbidden {
				client.PrependReactor("list", "nodes", func(k8stesting.Action) (bool, runtime.Object, error) {
					return true, nil, apierrors.NewForbidden(schema.GroupResource{Resource: "nodes"}, "", nil)
				})
			}
			connect := func() (kubernetes.Interface, error) { return client, nil }
			load := func() (*config.Cluster, error) { return node("cp-1", "198.51.100.10"), nil }
			var out, errOut strings.Builder
			err := ApproveWith(context.Background(), connect, load, NodeRules{}, ApproveOptions{Now: func() time.Time { return testNow }},
				Batch{Names: []string{"r"}, Out: &out, ErrOut: &errOut}, &errOut)
			if !strings.Contains(errOut.String(), "[warning] ") || !strings.Contains(errOut.String(), c.warning) {
				t.Errorf("stderr lacks the warning %q:\n%s", c.warning, errOut.String())
			}
			approved := len(conditions(t, client, "r")) == 1
			switch {
			case c.wantErr == "" && (err != nil || !approved):
				t.Errorf("approve: %v (approved %v), want it approved, exit status 0", err, approved)
			case c.wantErr != "" && (err == nil || !strings.Contains(err.Error(), c.wantErr) || approved):
				t.Errorf("approve: %v (approved %v), want an error naming %q, exit status 1, and no approval", err, approved, c.wantErr)
			}
		})
	}
}
