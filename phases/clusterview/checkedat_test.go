package clusterview

import (
	"context"
	"encoding/json"
	"regexp"
	"testing"
	"time"

	"k8s.io/client-go/kubernetes/fake"

	"github.com/certctl/certctl/internal/pkitest"
)

// TestCheckedAtWholeSeconds: checkedAt had the clock's nanoseconds where
// every expirationDate has whole seconds, which jq's fromdateiso8601
// refuses. As check-expiration's (expiration.CheckedAt), it is the next
// whole second, from which the residual times are whole seconds.
func TestCheckedAtWholeSeconds(t *testing.T) {
	f := newFixture(t)
	o := Options{Client: fake.NewClientset(cpNode("cp-1", "127.0.0.1"), mirrorPod("kube-apiserver", "cp-1", APIServerEndpointAnnotation, f.apiserver),
		mirrorPod("etcd", "cp-1", EtcdClientURLsAnnotation, "https://"+f.etcd)), CertDir: f.node.CertDir(), Now: pkitest.Made.Add(time.Hour + 517211916*time.Nanosecond)}
	info, err := Check(context.Background(), o)
	if err != nil {
		t.Fatal(err)
	}
	b, err := json.Marshal(info)
	if err != nil {
		t.Fatal(err)
	}
	var doc struct {
		CheckedAt string `json:"checkedAt"`
	}
	if err := json.Unmarshal(b, &doc); err != nil {
		t.Fatal(err)
	}
	if !regexp.MustCompile(`^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$`).MatchString(doc.CheckedAt) {
		t.Errorf("checkedAt %q is not in expirationDate's format, YYYY-MM-DDTHH:MM:SSZ", doc.CheckedAt)
	}
	for _, e := range info.Nodes[0].Endpoints {
		if e.ExpirationDate == nil {
			t.Fatalf("%s: no expiry: %+v", e.Component, e.Problems)
		}
		if got := int64(e.ExpirationDate.Sub(info.CheckedAt) / time.Second); got != e.ResidualTimeSeconds {
			t.Errorf("%s: expirationDate - checkedAt = %d s, residualTime %d", e.Component, got, e.ResidualTimeSeconds)
		}
	}
}
