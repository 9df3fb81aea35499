package expiration

import (
	"bytes"
	"encoding/json"
	"testing"
	"time"
)

// TestMetricsPathNotUTF8: a folder whose name is not valid UTF-8 (a node
// set up under a Latin-1 locale) gave `check-expiration -o prometheus`
// and --textfile a Go panic from the Prometheus client ("label file:
// value ... is not valid UTF-8"), exit status 2, which monitoring reads as
// "a certificate expires within --warn-within". The file label is now
// written as the JSON report writes the path (each invalid byte as
// U+FFFD), and the metrics parse.
func TestMetricsPathNotUTF8(t *testing.T) {
	exp := time.Date(2027, 3, 1, 10, 0, 0, 0, time.UTC)
	file := "/etc/kubernetes\xe9\xe8/admin.conf"
	info := &Info{
		Kind: Kind, APIVersion: APIVersion, CheckedAt: exp.Add(-time.Hour),
		Certificates: []Certificate{{
			Name: "admin.conf", File: file, CAName: "ca", ExpirationDate: &exp, ResidualTimeSeconds: 3600,
			Problems: []Problem{{Type: KeyPermissions, Message: "m"}},
		}},
		CertificateAuthorities: []Certificate{{Name: "ca", File: "/etc/kubernetes\xe9/pki/ca.crt", ExpirationDate: &exp, Problems: []Problem{}}},
		RestartsOwed:           []RestartOwed{{Component: "kube-apiserver\xff", Since: exp}},
	}
	var buf bytes.Buffer
	func() {
		defer func() {
			if r := recover(); r != nil {
				t.Fatalf("WriteMetrics panicked: %v", r)
			}
		}()
		if err := WriteMetrics(&buf, info); err != nil {
			t.Fatal(err)
		}
	}()
	mfs := parseMetrics(t, buf.Bytes())
	var asJSON string
	b, _ := json.Marshal(file)
	_ = json.Unmarshal(b, &asJSON)
	if v, ok := value(mfs, MetricExpiry, map[string]string{"name": "admin.conf", "file": asJSON}); !ok || v != float64(exp.Unix()) {
		t.Errorf("%s{file=%q} = %v, %v; want %d\n%s", MetricExpiry, asJSON, v, ok, exp.Unix(), buf.Bytes())
	}
	if _, ok := value(mfs, MetricProblem, map[string]string{"name": "admin.conf", "type": string(KeyPermissions)}); !ok {
		t.Errorf("no %s series for admin.conf\n%s", MetricProblem, buf.Bytes())
	}
	if _, ok := value(mfs, MetricRestartOwed, map[string]string{}); !ok {
		t.Errorf("no %s series\n%s", MetricRestartOwed, buf.Bytes())
	}
}
