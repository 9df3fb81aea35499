package copycerts

import (
	"bytes"
	"context"
	"crypto/rand"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/kubernetes/fake"
	k8stesting "k8s.io/client-go/testing"

	"github.com/certctl/certctl/internal/pkitest"
)

// TestDryRuns: upload --dry-run sends every create as a server-side dry
// run (the fake client, which would store them, refuses any other), and
// download --dry-run names the files it would write and writes none.
func TestDryRuns(t *testing.T) {
	n := pkitest.NewNode(t, nil)
	key := testKey(t)

	dry := fake.NewClientset()
	var creates int
	dry.PrependReactor("create", "*", func(a k8stesting.Action) (bool, runtime.Object, error) {
		creates++
		c := a.(k8stesting.CreateActionImpl)
		if !slices.Equal(c.CreateOptions.DryRun, []string{metav1.DryRunAll}) {
			t.Errorf("create %s without dryRun=All", c.GetResource().Resource)
		}
		return true, c.GetObject(), nil // answered, stored nowhere
	})
	var out bytes.Buffer
	if _, err := Upload(context.Background(), dry, Options{CertDir: n.CertDir(), Key: key, Now: func() time.Time { return uploaded }, Rand: rand.Reader, Out: &out, DryRun: true}); err != nil {
		t.Fatalf("Upload --dry-run: %v\n%s", err, out.String())
	}
	if creates != 4 { // the token, the Secret, the Role, the RoleBinding
		t.Errorf("%d creates, want 4", creates)
	}

	cs := fake.NewClientset()
	upload(t, cs, n.CertDir(), key)
	dst := filepath.Join(t.TempDir(), "pki")
	out.Reset()
	if err := Download(context.Background(), cs, Options{Now: downloaded, CertDir: dst, Key: key, Rand: rand.Reader, Out: &out, ErrOut: &out, DryRun: true}); err != nil {
		t.Fatalf("Download --dry-run: %v\n%s", err, out.String())
	}
	if _, err := os.Stat(dst); !os.IsNotExist(err) {
		t.Errorf("download --dry-run created %s (%v)", dst, err)
	}
	for _, name := range shared {
		if !strings.Contains(out.String(), "[dry-run] would write "+filepath.Join(dst, name)+"\n") {
			t.Errorf("download --dry-run does not name %s:\n%s", name, out.String())
		}
	}
}
