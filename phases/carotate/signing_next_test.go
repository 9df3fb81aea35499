package carotate

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/certctl/certctl/pki"
)

// TestSigningProblemNext: after `kubeadm upgrade` wrote
// kube-controller-manager's manifest with ca.crt at trust or reissue, ca
// status's NEXT said to put the files back as the stage wrote them, with
// `ca rotate --dry-run` to see what each must hold, which says nothing of
// the manifest. `certctl signer enable` writes the stage's flags: NEXT
// names it, with the manifest and the certificate folder, then the step
// after.
func TestSigningProblemNext(t *testing.T) {
	for _, tt := range []struct{ stage, then string }{
		{StageTrust, "certctl ca rotate ca --restarted"}, {StageReissue, "certctl ca rotate ca --restarted"},
	} {
		t.Run(tt.stage, func(t *testing.T) {
			f := newFixture(t)
			for range map[string]int{StageTrust: 1, StageReissue: 2}[tt.stage] {
				f.now = f.now.Add(time.Hour)
				f.rotate(t, pki.CAName, nil)
			}
			so := StatusOptions{CertDir: f.node.CertDir(), KubeconfigDir: f.node.Dir, ManifestDir: f.manifestDir, Now: f.now}
			before, err := Status(context.Background(), so)
			if err != nil {
				t.Fatal(err)
			}
			path := filepath.Join(f.manifestDir, "kube-controller-manager.yaml")
			data, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			signs := map[string]string{StageTrust: "ca.old.crt", StageReissue: "ca.new.crt"}[tt.stage]
			data = bytes.ReplaceAll(data, []byte("pki/"+signs+"\n"), []byte("pki/ca.crt\n"))
			if err := os.WriteFile(path, data, 0o600); err != nil {
				t.Fatal(err)
			}
			report, err := Status(context.Background(), so)
			if err != nil {
				t.Fatal(err)
			}
			st := report.CAs[0]
			want := "certctl signer enable --manifest " + path + " --cert-dir " + f.node.CertDir()
			then := before.CAs[0].Next
			if len(st.Problems) != 1 || !strings.HasPrefix(st.Next, want) || !strings.HasSuffix(st.Next, ", then "+then) || !strings.Contains(st.Next, tt.then) {
				t.Errorf("problems %q, next %q; want one problem, and next %q ... %q", st.Problems, st.Next, want, then)
			}
		})
	}
}
