package carotate

import (
	"bytes"
	"context"
	"encoding/json"
	"strings"
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/kubernetes/fake"

	"github.com/certctl/certctl/internal/output"
)

// TestStatusShowsForgottenNodes: ca status did not show the nodes taken
// out of a rotation with --forget-node, which the ConfigMap keeps in key
// forgotten.json, also once no node is left in the record: an SRE could
// not tell which node was forgotten, when, nor that it must abort and
// join again should it still run. Each is now a row of the cluster
// table (stage forgotten) and an entry of the CA's cluster.forgotten in
// -o json, with its time and what to run there; with none, the output
// has neither.
func TestStatusShowsForgottenNodes(t *testing.T) {
	const ca = "ca"
	for _, othersLeft := range []bool{false, true} {
		name := "last node"
		if othersLeft {
			name = "a node left"
		}
		t.Run(name, func(t *testing.T) {
			cs := fake.NewClientset()
			a := clusterNode{fixture: newFixture(t), name: "cp-1", cs: cs}
			b := clusterNode{fixture: cloneFixture(t, a.fixture), name: "cp-2", cs: cs}
			if othersLeft {
				k := keyLine.FindStringSubmatch(a.rotate(t, ca, nil))[1]
				b.rotate(t, ca, func(o *Options, c *ClusterOptions) { c.CertificateKey = k })
			} else {
				b.rotate(t, ca, nil)
			}
			connect := func() (kubernetes.Interface, string, error) { return cs, "test", nil }
			status := func(format string) (string, *ClusterStatus) {
				t.Helper()
				report, err := Status(context.Background(), StatusOptions{CertDir: a.node.CertDir(), KubeconfigDir: a.node.Dir, Now: a.now, Connect: connect})
				if err != nil {
					t.Fatal(err)
				}
				f, err := output.Parse(format)
				if err != nil {
					t.Fatal(err)
				}
				var out bytes.Buffer
				if err := report.Print(&out, f); err != nil {
					t.Fatal(err)
				}
				for _, s := range report.CAs {
					if s.CA == ca {
						return out.String(), s.Cluster
					}
				}
				t.Fatalf("no %s in ca status:\n%s", ca, out.String())
				return "", nil
			}
			if out, _ := status("json"); strings.Contains(out, "forgotten") {
				t.Errorf("ca status -o json names forgotten nodes before any forget:\n%s", out)
			}
			if out, _ := status("text"); strings.Contains(out, "forgotten") {
				t.Errorf("ca status names forgotten nodes before any forget:\n%s", out)
			}

			forgotAt := a.now.UTC()
			a.rotate(t, ca, func(o *Options, cc *ClusterOptions) { o.Restarted, cc.ForgetNode = false, "cp-2" })

			text, c := status("text")
			wantNext := "taken out with --forget-node at " + forgotAt.Format("2006-01-02T15:04:05Z") + ": if it still runs, certctl ca rotate ca --abort there (twice from reissue), then kubeadm reset and kubeadm join; nothing once it is gone or joined again"
			if c == nil || len(c.Forgotten) != 1 || c.Forgotten[0].Name != "cp-2" || !c.Forgotten[0].ForgottenAt.Equal(forgotAt) || c.Forgotten[0].Next != wantNext {
				t.Fatalf("ca's cluster status after the forget of cp-2: %+v", c)
			}
			wantNodes := 0
			if othersLeft {
				wantNodes = 1 // cp-1, at trust
			}
			if len(c.Nodes) != wantNodes {
				t.Errorf("the cluster status has nodes %+v, want %d", c.Nodes, wantNodes)
			}
			for _, want := range []string{"cp-2  forgotten  -          " + wantNext} {
				if !strings.Contains(text, want) {
					t.Errorf("ca status does not say %q:\n%s", want, text)
				}
			}
			if left := strings.Contains(text, "no node is left in the rotation"); left == othersLeft {
				t.Errorf("ca status says whether a node is left (%v) wrongly:\n%s", left, text)
			}

			js, _ := status("json")
			var report struct {
				CAs []struct {
					CA      string `json:"ca"`
					Cluster struct {
						Forgotten []map[string]string `json:"forgotten"`
					} `json:"cluster"`
				} `json:"cas"`
			}
			if err := json.Unmarshal([]byte(js), &report); err != nil {
				t.Fatal(err)
			}
			found := false
			for _, s := range report.CAs {
				if s.CA == ca && len(s.Cluster.Forgotten) == 1 {
					f := s.Cluster.Forgotten[0]
					found = f["name"] == "cp-2" && f["forgottenAt"] == forgotAt.Format("2006-01-02T15:04:05Z") && f["next"] == wantNext
				}
			}
			if !found {
				t.Errorf("ca status -o json has no forgotten cp-2:\n%s", js)
			}

			// Its abort takes its name out: ca status no longer shows it.
			b.rotate(t, ca, func(o *Options, c *ClusterOptions) { o.Abort = true })
			if out, _ := status("json"); strings.Contains(out, "forgotten") {
				t.Errorf("ca status -o json names forgotten nodes after cp-2's abort:\n%s", out)
			}
		})
	}
}

// TestStatusWarnsUnreadableForgotten: a key forgotten.json that does not
// parse counts as no node forgotten, so a forgotten node's next stage is
// no longer refused; ca status said nothing of it. It now warns in one
// line naming the key and the ConfigMap and how to fix it, also when the
// ConfigMap holds that key alone; a key that parses, or none, gives no
// warning.
func TestStatusWarnsUnreadableForgotten(t *testing.T) {
	ctx := context.Background()
	for _, tc := range []struct {
		name, value string
		record      bool
		warn        bool
	}{
		{"no key", "", true, false},
		{"a key that parses", `{"id":"x","nodes":{"cp-2":"2026-03-02T10:00:00Z"}}`, true, false},
		{"unparsable, beside the record", "{not json", true, true},
		{"unparsable, alone", "{not json", false, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cs := fake.NewClientset()
			a := clusterNode{fixture: newFixture(t), name: "cp-1", cs: cs}
			a.rotate(t, "ca", nil) // trust: the ConfigMap holds the record
			cms := cs.CoreV1().ConfigMaps("kube-system")
			cm, err := cms.Get(ctx, ClusterPrefix+"ca", metav1.GetOptions{})
			if err != nil {
				t.Fatal(err)
			}
			if tc.value != "" {
				cm.Data[forgottenKey] = tc.value
			}
			if !tc.record {
				cm.Data = map[string]string{forgottenKey: tc.value}
			}
			if _, err := cms.Update(ctx, cm, metav1.UpdateOptions{}); err != nil {
				t.Fatal(err)
			}
			var errOut bytes.Buffer
			connect := func() (kubernetes.Interface, string, error) { return cs, "test", nil }
			report, err := Status(ctx, StatusOptions{CertDir: a.node.CertDir(), KubeconfigDir: a.node.Dir, Now: a.now, Connect: connect, ErrOut: &errOut})
			if err != nil || report.ClusterNotRead != "" {
				t.Fatalf("ca status: %v, cluster not read: %q", err, report.ClusterNotRead)
			}
			got := errOut.String()
			if !tc.warn {
				if got != "" {
					t.Errorf("ca status warns:\n%s", got)
				}
				return
			}
			want := "[warning] key forgotten.json of ConfigMap kube-system/certctl-ca-rotation-ca does not parse ("
			fix := "no node taken out of the rotation with --forget-node is refused its next stage; write it again as {\"id\":\"NEW CA SHA256\",\"nodes\":{\"NODE\":\"RFC 3339 TIME\"}}, or delete it if no node was forgotten (kubectl -n kube-system edit configmap certctl-ca-rotation-ca)\n"
			if !strings.HasPrefix(got, want) || !strings.HasSuffix(got, fix) || strings.Count(got, "\n") != 1 {
				t.Errorf("ca status warns %q, want one line %q...%q", got, want, fix)
			}
		})
	}
}
