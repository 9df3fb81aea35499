package cli

import (
	"encoding/json"
	"strings"
	"testing"
)

// TestRestoreJSONRestartNeeded: `restore -o json` says which components
// must be restarted to use the restored files, in `restartNeeded`, as
// `renew -o json` does (the components, in restart order; [] when none),
// in a dry run too. Before, RestoreSummary had no such field, while the
// text output of the same restore named them.
func TestRestoreJSONRestartNeeded(t *testing.T) {
	bin := certctlBin(t)
	n := makeNode(t, bin, "ECDSA-P256")
	restartNeeded := func(args ...string) string {
		t.Helper()
		out := runOut(t, bin, append(append([]string{"restore", "latest", "-o", "json"}, args...), n.flags()...)...)
		var s struct {
			RestartNeeded json.RawMessage `json:"restartNeeded"`
		}
		if err := json.Unmarshal([]byte(out), &s); err != nil {
			t.Fatalf("restore -o json: %v\n%s", err, out)
		}
		return strings.Join(strings.Fields(string(s.RestartNeeded)), "")
	}
	run(t, bin, append([]string{"renew", "etcd-server", "scheduler.conf"}, n.flags()...)...)
	want := `["etcd","kube-scheduler"]`
	if got := restartNeeded("--dry-run"); got != want {
		t.Errorf("restore --dry-run -o json: restartNeeded %s, want %s", got, want)
	}
	if got := restartNeeded(); got != want {
		t.Errorf("restore -o json: restartNeeded %s, want %s", got, want)
	}
	run(t, bin, append([]string{"renew", "admin.conf"}, n.flags()...)...)
	if got := restartNeeded(); got != "[]" {
		t.Errorf("restore of admin.conf -o json: restartNeeded %s, want []", got)
	}
}
