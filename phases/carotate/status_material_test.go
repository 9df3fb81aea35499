package carotate

import (
	"strings"
	"testing"

	"github.com/certctl/certctl/pki"
)

// TestStatusSeesChangedCAFiles: ca status showed no problem when the old
// or new CA files of a rotation in progress (ca.old.crt and its key at
// reissue, ca.new.crt and ca.new.key at trust) were not the record's CAs,
// while ca rotate, the next stage or --abort, refuses them. ca status must
// report what rotate refuses, naming the file, and not offer the next
// stage as the next step.
func TestStatusSeesChangedCAFiles(t *testing.T) {
	for _, tc := range []struct {
		stage  string
		stages int
		side   func(p paths) (string, string)
	}{
		{StageTrust, 1, func(p paths) (string, string) { return p.NewCert, p.NewKey }},
		{StageReissue, 2, func(p paths) (string, string) { return p.OldCert, p.OldKey }},
	} {
		t.Run(tc.stage, func(t *testing.T) {
			f := newFixture(t)
			for range tc.stages {
				f.rotate(t, pki.CAName, nil)
			}
			if st := statusOf(t, f, pki.CAName); len(st.Problems) > 0 {
				t.Fatalf("before the change: problems %q", st.Problems)
			}
			p := k(t, pki.CAName).paths(f.node.CertDir())
			cert, key := tc.side(p)
			replaceSide(t, cert, key)
			st := statusOf(t, f, pki.CAName)
			if len(st.Problems) == 0 || !strings.Contains(strings.Join(st.Problems, "\n"), cert) {
				t.Fatalf("ca status with %s changed at %s: problems %q, want one naming it", cert, tc.stage, st.Problems)
			}
			if want := rotateErr(t, f).Error(); !strings.Contains(strings.Join(st.Problems, "\n"), want) {
				t.Errorf("ca status's problems %q do not hold ca rotate's refusal %q", st.Problems, want)
			}
			if strings.HasPrefix(st.Next, "certctl ca rotate") {
				t.Errorf("NEXT %q offers the next stage, which is refused", st.Next)
			}
		})
	}
}
