package signer

import (
	"crypto/rand"
	"testing"
	"time"

	"github.com/certctl/certctl/internal/treetest"
	"github.com/certctl/certctl/pki"
)

// TestCustomSignerRefusesNodeCAKey: docs/signer.md, "certctl's signer
// names": a custom signer's CA may not be one of the node's, nor be made
// on a node CA's key. A self-signed certificate for the key was refused
// (its key signed it), but one that another CA issued for the cluster CA's
// key passed: signer run and sign then signed, with the cluster CA's key
// and without the control-plane profile, whatever the custom name was
// approved for. Refused now, from the CAs signer run holds and from the
// certificate folder (certctl sign).
func TestCustomSignerRefusesNodeCAKey(t *testing.T) {
	later := testNow.Add(365 * 24 * time.Hour)
	cluster := newTestCA(t, "kubernetes", later)
	root := newTestCA(t, "unrelated root", later)
	cert, err := pki.Sign(rand.Reader, pki.Profile{Name: "example CA", CommonName: "example CA", IsCA: true}, cluster.Key.Public(), root.Cert, root.Key,
		pki.Validity{NotBefore: testNow.Add(-time.Hour), NotAfter: later})
	if err != nil {
		t.Fatal(err)
	}
	custom := CustomSigner{Name: "example.com/serving", CA: &CA{Cert: cert, Key: cluster.Key}}
	certDir := pki.Store{Dir: t.TempDir()}
	writePair(t, certDir, cluster)

	// signer run: the CAs it holds
	err = checkCustomCA(custom, map[string]CAProvider{pki.CAName: cluster}, "")
	treetest.ErrMentions(t, err, custom.Name, `"example CA"`, "key", "ca", `"kubernetes"`)
	// certctl sign, and signer run with --cert-dir: the certificate folder
	err = checkCustomCA(custom, nil, certDir.Dir)
	treetest.ErrMentions(t, err, custom.Name, `"example CA"`, "key", certDir.CertPath("ca"))

	// A CA of its own key, which the same root issued, signs.
	own := intermediateCA(t, root, "example CA", later)
	if err := checkCustomCA(CustomSigner{Name: custom.Name, CA: own}, map[string]CAProvider{pki.CAName: cluster}, certDir.Dir); err != nil {
		t.Errorf("a CA of its own key: %v", err)
	}
}
