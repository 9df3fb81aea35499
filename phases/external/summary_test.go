package external

import (
	"encoding/json"
	"testing"
)

// TestSummaryRestartNeeded pins restartNeeded of the ImportSummary schema:
// each component to restart, in restart order, with the certificates it
// reads; none for an unchanged certificate or a dry run, and [] rather
// than null.
func TestSummaryRestartNeeded(t *testing.T) {
	r := &ImportSummary{Imported: []Imported{
		{Name: "apiserver", Restart: []string{"kube-apiserver"}},
		{Name: "etcd-server", Restart: []string{"etcd"}},
		{Name: "etcd-peer", Restart: []string{"etcd"}, Unchanged: true},
		{Name: "admin.conf"},
	}}
	for _, tt := range []struct {
		dryRun bool
		want   string
	}{
		{false, `[{"component":"etcd","certificates":["etcd-server"]},{"component":"kube-apiserver","certificates":["apiserver"]}]`},
		{true, `[]`},
	} {
		r.DryRun = tt.dryRun
		data, err := json.Marshal(r.Summary(nil))
		if err != nil {
			t.Fatal(err)
		}
		var s struct {
			RestartNeeded json.RawMessage `json:"restartNeeded"`
		}
		if err := json.Unmarshal(data, &s); err != nil || string(s.RestartNeeded) != tt.want {
			t.Errorf("dry run %v: restartNeeded %s (%v), want %s", tt.dryRun, s.RestartNeeded, err, tt.want)
		}
	}
}
