package expiration

import (
	"os"
	"testing"

	"github.com/certctl/certctl/internal/pkitest"
)

// TestKubeletRowExternallyManaged: the kubelet.conf row says whether its
// CA's key is on the node, as every other row signed by ca does: on an
// external-CA node (no ca.key) it showed "no" while the others said "yes".
func TestKubeletRowExternallyManaged(t *testing.T) {
	n := pkitest.NewNode(t, nil)
	if row := kubeletRow(t, check(t, n, nil)); row.ExternallyManaged {
		t.Errorf("kubelet row with ca.key on the node: externally managed %v, want false", row.ExternallyManaged)
	}
	if err := os.Remove(n.Path("pki/ca.key")); err != nil {
		t.Fatal(err)
	}
	info := check(t, n, nil)
	if row := kubeletRow(t, info); !row.ExternallyManaged {
		t.Errorf("kubelet row without ca.key: externally managed %v, want true as %s's", row.ExternallyManaged, "apiserver")
	}
	for _, c := range info.Certificates {
		if c.Name == "apiserver" && !c.ExternallyManaged {
			t.Errorf("apiserver row without ca.key: externally managed false")
		}
	}
}
