package expiration

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"strings"
	"testing"

	"github.com/certctl/certctl/internal/pkitest"
	"github.com/certctl/certctl/manifests/staticpods"
)

// TestRestartHintCarriesTheFolders: with restarts owed on a node checked
// with --cert-dir and --kubeconfig-dir, and manifests outside
// /etc/kubernetes/manifests, the retry command printed (in the table and
// in the error) named no folder: run as printed, it acted on
// /etc/kubernetes. It now carries the folder flags given and the manifest
// folder of the owed restarts; on the default layout it is as before.
func TestRestartHintCarriesTheFolders(t *testing.T) {
	n := pkitest.NewNode(t, nil)
	path, err := staticpods.PendingPath(n.CertDir())
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		name, flags, manifest, want string
	}{
		{"flags and manifest folder", " --cert-dir " + n.CertDir() + " --kubeconfig-dir " + n.Dir, n.Path("my manifests/etcd.yaml"),
			"`certctl renew all --if-expires-within 720h --restart-control-plane --cert-dir " + n.CertDir() + " --kubeconfig-dir " + n.Dir + " --manifest-dir '" + n.Path("my manifests") + "'`"},
		{"defaults", "", staticpods.DefaultManifestDir + "/etcd.yaml", "`certctl renew all --if-expires-within 720h --restart-control-plane` (it retries"},
	} {
		data, err := json.Marshal(staticpods.Pending{Version: 1, Components: []staticpods.PendingComponent{
			{Component: "etcd", Manifest: tt.manifest, Files: []string{n.Path("pki/etcd/server.crt")}, Since: checkAt}}})
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, data, 0o600); err != nil {
			t.Fatal(err)
		}
		var out, errOut bytes.Buffer
		err = Report(context.Background(), Options{CertDir: n.CertDir(), KubeconfigDir: n.Dir, Now: checkAt, FolderFlags: tt.flags}, "text", &out, &errOut)
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s: error %v, want it to say %s", tt.name, err, tt.want)
		}
		if !strings.Contains(out.String(), tt.want) {
			t.Errorf("%s: the table's RESTARTS OWED does not say %s:\n%s", tt.name, tt.want, out.String())
		}
	}
}
