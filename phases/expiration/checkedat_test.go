package expiration

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"testing"
	"time"

	"github.com/certctl/certctl/internal/pkitest"
)

// TestCheckedAtWholeSeconds: checkedAt had the clock's nanoseconds
// ("2026-12-07T11:56:10.517211916Z") where every expirationDate has whole
// seconds, which jq's fromdateiso8601 ("%Y-%m-%dT%H:%M:%SZ") refuses, so
// `jq '.checkedAt | fromdateiso8601'` failed, and expirationDate -
// checkedAt was not residualTime. checkedAt is now the next whole second,
// in one format with the other times, from which every residualTime (the
// whole seconds left, as before) is measured exactly.
func TestCheckedAtWholeSeconds(t *testing.T) {
	n := pkitest.NewNode(t, nil)
	// renew --restart-control-plane records when a restart became owed
	// with the clock's nanoseconds.
	pending := `{"version": 1, "components": [{"component": "kube-apiserver", "manifest": "/etc/kubernetes/manifests/kube-apiserver.yaml",
		"files": ["` + n.Path("pki/apiserver.crt") + `"], "since": "2026-06-09T09:00:00.123456789Z"}]}`
	if err := os.WriteFile(filepath.Join(n.Dir, ".certctl-restarts.json"), []byte(pending), 0o600); err != nil {
		t.Fatal(err)
	}
	info := check(t, n, func(o *Options) { o.Now = checkAt.Add(517211916 * time.Nanosecond) })
	var out bytes.Buffer
	if err := Write(&out, info, "json"); err != nil {
		t.Fatal(err)
	}
	var doc struct {
		CheckedAt    string `json:"checkedAt"`
		Certificates []struct {
			Name           string `json:"name"`
			ExpirationDate string `json:"expirationDate"`
			ResidualTime   int64  `json:"residualTime"`
		} `json:"certificates"`
		RestartsOwed []struct {
			Since string `json:"since"`
		} `json:"restartsOwed"`
	}
	if err := json.Unmarshal(out.Bytes(), &doc); err != nil {
		t.Fatal(err)
	}
	// jq's fromdateiso8601 takes exactly this; Go's time.Parse would also
	// take fractional seconds.
	jqFormat := regexp.MustCompile(`^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$`)
	if !jqFormat.MatchString(doc.CheckedAt) {
		t.Fatalf("checkedAt %q is not in expirationDate's format, YYYY-MM-DDTHH:MM:SSZ", doc.CheckedAt)
	}
	if len(doc.RestartsOwed) != 1 || !jqFormat.MatchString(doc.RestartsOwed[0].Since) {
		t.Errorf("restartsOwed %+v: want one, since in expirationDate's format", doc.RestartsOwed)
	}
	checked, _ := time.Parse(time.RFC3339, doc.CheckedAt)
	for _, c := range doc.Certificates {
		exp, err := time.Parse(time.RFC3339, c.ExpirationDate)
		if err != nil || !jqFormat.MatchString(c.ExpirationDate) {
			t.Fatalf("%s: expirationDate %q: %v", c.Name, c.ExpirationDate, err)
		}
		if got := int64(exp.Sub(checked) / time.Second); got != c.ResidualTime {
			t.Errorf("%s: expirationDate - checkedAt = %d s, residualTime %d", c.Name, got, c.ResidualTime)
		}
	}
}
