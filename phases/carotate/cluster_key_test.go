package carotate

import (
	"strings"
	"testing"

	"k8s.io/client-go/kubernetes/fake"
)

// TestBadCertificateKeyChangesNothing: a --certificate-key that is no key
// (a script that passes the one of trust to every stage, mistyped) is
// refused before any stage, whatever the stage: reissue went through and
// then failed on the key when it wrote the cluster record.
func TestBadCertificateKeyChangesNothing(t *testing.T) {
	cs := fake.NewClientset()
	a := clusterNode{fixture: newFixture(t), name: "cp-1", cs: cs}
	b := clusterNode{fixture: cloneFixture(t, a.fixture), name: "cp-2", cs: cs}
	const ca = "front-proxy-ca"
	key := keyLine.FindStringSubmatch(a.rotate(t, ca, nil))[1]
	b.rotate(t, ca, func(o *Options, c *ClusterOptions) { c.CertificateKey = key })
	b.try(t, ca, nil) // records cp-2's restarts
	for _, bad := range []string{"abc", strings.Repeat("zz", 32), key[:62]} {
		a.refused(t, ca, func(o *Options, c *ClusterOptions) { c.CertificateKey = bad }, "invalid certificate key")
		if got := clusterRecord(t, cs, ca).Nodes["cp-1"].Stage; got != StageTrust {
			t.Fatalf("with --certificate-key %q cp-1 went to stage %s", bad, got)
		}
	}
	a.rotate(t, ca, func(o *Options, c *ClusterOptions) { c.CertificateKey = key })
}
