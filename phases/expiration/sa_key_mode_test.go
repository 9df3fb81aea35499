package expiration

import (
	"bytes"
	"os"
	"slices"
	"strings"
	"testing"

	"github.com/certctl/certctl/internal/pkitest"
)

// TestServiceAccountKeyMode: sa.key, which signs every service-account
// token, at a mode group or others may read is check-expiration's
// key-permissions problem, as ca.key at that mode is (and as certs list
// reports it): in the problems, the JSON (keyPairs, absent when none has a
// problem) and the metrics. It was not reported at all.
func TestServiceAccountKeyMode(t *testing.T) {
	n := pkitest.NewNode(t, nil)
	key := n.Path("pki/sa.key")
	if err := os.Chmod(key, 0o644); err != nil {
		t.Fatal(err)
	}
	info := check(t, n, nil)
	want := "sa: " + key + " holds a private key but is mode 0644: make it readable by its owner only: chmod 600 " + key
	if !slices.Contains(info.Problems(), want) {
		t.Errorf("problems %q, want %q", info.Problems(), want)
	}
	var js, metrics bytes.Buffer
	if err := Write(&js, info, "json"); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(js.String(), `"keyPairs"`) || !strings.Contains(js.String(), `"type": "key-permissions"`) {
		t.Errorf("JSON lacks sa.key's key-permissions problem:\n%s", js.String())
	}
	if err := WriteMetrics(&metrics, info); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(metrics.String(), `name="sa"`) || !strings.Contains(metrics.String(), `type="key-permissions"`) {
		t.Errorf("metrics lack sa.key's key-permissions problem:\n%s", metrics.String())
	}
	if err := os.Chmod(key, 0o600); err != nil {
		t.Fatal(err)
	}
	info = check(t, n, nil)
	if len(info.Problems()) != 0 {
		t.Errorf("sa.key 0600: problems %q, want none", info.Problems())
	}
	js.Reset()
	if err := Write(&js, info, "json"); err != nil {
		t.Fatal(err)
	}
	if strings.Contains(js.String(), `"keyPairs"`) {
		t.Errorf("sa.key 0600: JSON has keyPairs:\n%s", js.String())
	}
}
