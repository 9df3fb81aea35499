package expiration

import (
	"os"
	"strings"
	"testing"

	"github.com/certctl/certctl/internal/pkitest"
)

// TestCAKeyLinkToNothing: a CA key that is a symbolic link to a file that
// does not exist (an offline key on a volume not mounted) is not an
// external CA, which renew skips: renew refuses it, and check-expiration
// reported nothing but "externally managed". It is the CA's key-missing
// problem, saying to mount the volume.
func TestCAKeyLinkToNothing(t *testing.T) {
	n := pkitest.NewNode(t, nil)
	key := n.Path("pki/front-proxy-ca.key")
	if err := os.Remove(key); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink("/mnt/offline/front-proxy-ca.key", key); err != nil {
		t.Fatal(err)
	}
	info := check(t, n, nil)
	for _, c := range info.CertificateAuthorities {
		if c.Name != "front-proxy-ca" {
			if len(c.Problems) > 0 {
				t.Errorf("%s: problems %v, want none", c.Name, c.Problems)
			}
			continue
		}
		if len(c.Problems) != 1 || c.Problems[0].Type != KeyMissing ||
			!strings.Contains(c.Problems[0].Message, key+" is a symbolic link to /mnt/offline/front-proxy-ca.key, which does not exist") ||
			!strings.Contains(c.Problems[0].Message, "mount the volume that holds it") {
			t.Errorf("front-proxy-ca: problems %+v, want one key-missing that names the link and says to mount its volume", c.Problems)
		}
	}
}
