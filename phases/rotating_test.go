package phases

import (
	"fmt"
	"os"
	"strings"
	"testing"

	"github.com/certctl/certctl/internal/treetest"
)

// TestTrustFileOfARotationNotMadeAgain: during a rotation of a CA (certctl
// ca rotate) its ca.crt holds both CAs, the one ca.key matches first; for
// sa, sa.pub both public keys. With that file gone (removed by mistake),
// `init-phase certs` made a new self-signed CA certificate for ca.key, or
// wrote sa.pub from sa.key alone: the other CA, or the old key whose
// tokens pods still hold at reissue, was no longer trusted, and the new
// file was none of the rotation's. It must refuse, name the rotation and
// say how to put the file back, and change nothing.
func TestTrustFileOfARotationNotMadeAgain(t *testing.T) {
	tests := []struct {
		name, phase, stage, trust string
		copies                    map[string]string // rotation files, made from these
		want                      string
	}{
		{name: "ca", phase: "ca", stage: "trust", trust: "ca.crt",
			copies: map[string]string{"ca.old.crt": "ca.crt", "ca.new.crt": "ca.crt", "ca.new.key": "ca.key"},
			want:   "cat PKI/ca.old.crt PKI/ca.new.crt > PKI/ca.crt"},
		{name: "etcd-ca", phase: "etcd-ca", stage: "reissue", trust: "etcd/ca.crt",
			copies: map[string]string{"etcd/ca.old.crt": "etcd/ca.crt", "etcd/ca.new.crt": "etcd/ca.crt", "etcd/ca.old.key": "etcd/ca.key"},
			want:   "cat PKI/etcd/ca.new.crt PKI/etcd/ca.old.crt > PKI/etcd/ca.crt"},
		{name: "sa", phase: "sa", stage: "reissue", trust: "sa.pub",
			copies: map[string]string{"sa.old.key": "sa.key"},
			want:   "(openssl pkey -in PKI/sa.key -pubout; openssl pkey -in PKI/sa.old.key -pubout) > PKI/sa.pub"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newTestEnv(t)
			e.mustRun(t, "certs", "all")
			for to, from := range tt.copies {
				data, err := os.ReadFile(e.pki(from))
				if err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(e.pki(to), data, 0o600); err != nil {
					t.Fatal(err)
				}
			}
			rec := fmt.Sprintf(`{"version": 1, "ca": %q, "stage": %q, "oldCA": "a", "newCA": "b", "restarted": true}`, tt.name, tt.stage)
			if err := os.WriteFile(e.pki(".certctl-rotation-"+tt.name+".json"), []byte(rec), 0o600); err != nil {
				t.Fatal(err)
			}
			removeAll(t, e.pki(tt.trust))
			before := snapshot(t, e.dir)
			for _, phase := range []string{tt.phase, "all"} {
				err := e.run(t, "certs", phase)
				treetest.ErrMentions(t, err, e.pki(tt.trust)+" is missing, but a rotation of "+tt.name+" is at stage "+tt.stage,
					strings.ReplaceAll(tt.want, "PKI/", e.pki("")+"/"))
				assertSameTree(t, before, snapshot(t, e.dir))
			}
		})
	}
}
