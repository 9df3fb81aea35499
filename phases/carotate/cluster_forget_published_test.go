package carotate

import (
	"path/filepath"
	"strings"
	"testing"

	"k8s.io/client-go/kubernetes/fake"
)

// TestForgetDryRunReadsPublished: --forget-node --dry-run of the last node
// of a rotation that no node finished said it would remove the new CA from
// cluster-info and extension-apiserver-authentication whether or not it
// was still there, and the real run found a prune it must refuse (the new
// CA the last one left there) only after it had deleted the record, whose
// error said the next `certctl ca rotate` tries again, though none was
// left to. The dry run now reads both ConfigMaps: it names where the new
// CA is, and where it is not; and both runs refuse the prune before
// anything changes.
func TestForgetDryRunReadsPublished(t *testing.T) {
	const ca, key = "ca", "client-ca-file"
	cs := fake.NewClientset()
	a := clusterNode{fixture: newFixture(t), name: "cp-1", cs: cs}
	b := clusterNode{fixture: cloneFixture(t, a.fixture), name: "cp-2", cs: cs}
	oldCA := readCA(t, filepath.Join(a.node.CertDir(), "ca.crt"))
	other := otherCA(t)
	// No kube-apiserver merged the new CA into extension-apiserver-authentication.
	publishExtensionAuth(t, cs, key, other, oldCA)
	publishClusterInfo(t, cs, oldCA)
	b.rotate(t, ca, nil)
	newCA := readCA(t, filepath.Join(b.node.CertDir(), "ca.new.crt"))
	forget := func(dryRun bool) func(o *Options, cc *ClusterOptions) {
		return func(o *Options, cc *ClusterOptions) { o.Restarted, o.DryRun, cc.ForgetNode = false, dryRun, "cp-2" }
	}

	out := a.rotate(t, ca, forget(true))
	for _, want := range []string{
		"would then remove the new CA sha256 " + short([]string{fingerprint(newCA)}) + " from ConfigMap kube-public/cluster-info, as the last node's abort does",
		"is not in ConfigMap kube-system/extension-apiserver-authentication (client-ca-file) (removed already, or never published there): nothing to remove there",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("--forget-node --dry-run does not say %q:\n%s", want, out)
		}
	}
	if strings.Contains(out, "cluster-info and ConfigMap kube-system/extension-apiserver-authentication") {
		t.Errorf("--forget-node --dry-run says it would remove the new CA from extension-apiserver-authentication, which does not hold it:\n%s", out)
	}

	// The new CA alone in client-ca-file: the prune would leave it empty.
	publishExtensionAuth(t, cs, key, newCA)
	for _, dryRun := range []bool{true, false} {
		a.refused(t, ca, forget(dryRun), "--forget-node cp-2", "holds only the CA this rotation dropped", "nothing was changed")
		if rec := clusterRecord(t, cs, ca); rec == nil || rec.Nodes["cp-2"].Stage != StageTrust {
			t.Fatalf("dry run %v: the refused forget changed the record: %+v", dryRun, rec)
		}
		if got := clusterInfoCAs(t, cs); !equalCerts(got, oldCA, newCA) {
			t.Fatalf("dry run %v: the refused forget changed cluster-info", dryRun)
		}
	}
}
