package clusterview

import (
	"bytes"
	"context"
	"strings"
	"testing"
	"time"

	"k8s.io/client-go/kubernetes/fake"

	"github.com/certctl/certctl/internal/exitcode"
	"github.com/certctl/certctl/internal/pkitest"
)

// TestServedNotYetValid: a node whose clock ran ahead issued the
// certificates it serves (or this host's clock is behind): they are not
// valid yet, and every client rejects them. Each row says so, naming the
// address and the clocks to check, and the exit status is 3. Before, the
// rows were all well and the exit status 0.
func TestServedNotYetValid(t *testing.T) {
	f := newFixture(t)
	at := pkitest.Made.Add(-2 * time.Hour) // before every certificate's NotBefore
	o := Options{Client: fake.NewClientset(cpNode("cp-1", "127.0.0.1"), mirrorPod("kube-apiserver", "cp-1", APIServerEndpointAnnotation, f.apiserver),
		mirrorPod("etcd", "cp-1", EtcdClientURLsAnnotation, "https://"+f.etcd)), CertDir: f.node.CertDir(), Now: at}
	info, err := Check(context.Background(), o)
	if err != nil {
		t.Fatal(err)
	}
	if len(info.Nodes) != 1 || len(info.Nodes[0].Endpoints) != 3 {
		t.Fatalf("nodes %+v, want cp-1 with 3 endpoints", info.Nodes)
	}
	for _, e := range info.Nodes[0].Endpoints {
		if len(e.Problems) != 1 || e.Problems[0].Type != NotYetValid || !strings.Contains(e.Problems[0].Message, e.Address) ||
			!strings.Contains(e.Problems[0].Message, "clock") {
			t.Errorf("%s: problems %+v, want one not-yet-valid naming %s and the clocks", e.Component, e.Problems, e.Address)
		}
		if !e.SignedByCA {
			t.Errorf("%s: not signed by the CA, which signed it", e.Component)
		}
	}
	for _, format := range []string{"text", "json"} {
		err := Report(context.Background(), o, format, &bytes.Buffer{})
		if got := exitcode.Of(err); got != exitcode.Problems {
			t.Errorf("-o %s: exit %d (%v), want %d", format, got, err, exitcode.Problems)
		}
	}
}
