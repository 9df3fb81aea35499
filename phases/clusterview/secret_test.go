package clusterview

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// TestKubeadmCertsUploadedAgain: an upload run again (certctl's or
// kubeadm's) replaces kubeadm-certs in place, so its creation time stays
// the first upload's: the view said "created 3h ago" of a Secret uploaded
// ten minutes before and deleted in 110 minutes. The API server's
// managedFields say when it was last written: the view now gives that too
// (text and json), and says nothing more of a Secret written once.
func TestKubeadmCertsUploadedAgain(t *testing.T) {
	created := time.Date(2026, 12, 4, 7, 0, 0, 0, time.UTC)
	again := created.Add(170 * time.Minute)
	now := again.Add(10 * time.Minute)
	expiry := again.Add(2 * time.Hour).Format(time.RFC3339)
	s := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: "kube-system", Name: "kubeadm-certs",
		CreationTimestamp: metav1.NewTime(created),
		ManagedFields: []metav1.ManagedFieldsEntry{
			{Manager: "kubeadm", Operation: metav1.ManagedFieldsOperationUpdate, Time: ptrTime(created)},
			{Manager: "certctl", Operation: metav1.ManagedFieldsOperationUpdate, Time: ptrTime(again)},
		}},
		Data: map[string][]byte{"ca.crt": nil}}
	k := kubeadmCerts(s, expiry, now)
	if k.Updated == nil || !k.Updated.Equal(again) {
		t.Fatalf("updated %v, want %v", k.Updated, again)
	}
	line := secretLine(&Info{CheckedAt: now, KubeadmCerts: k})
	if !strings.Contains(line, "created 2026-12-04 07:00 (3h ago), last written 2026-12-04 09:50 (10m ago)") {
		t.Errorf("line does not say when it was uploaded again:\n%s", line)
	}
	b, err := json.Marshal(k)
	if err != nil || !strings.Contains(string(b), `"updated":"2026-12-04T09:50:00Z"`) {
		t.Errorf("json %s (%v)", b, err)
	}

	// Written once: nothing more is said.
	s.ManagedFields = s.ManagedFields[:1]
	k = kubeadmCerts(s, expiry, now)
	if line := secretLine(&Info{CheckedAt: now, KubeadmCerts: k}); k.Updated != nil || strings.Contains(line, "last written") {
		t.Errorf("a Secret written once: updated %v, line %s", k.Updated, line)
	}
}

func ptrTime(t time.Time) *metav1.Time { m := metav1.NewTime(t); return &m }

// TestKubeadmCertsClockBehind: the API server stamps kubeadm-certs with
// its own clock; on a host whose clock is behind it, a Secret just
// uploaded (or written again) is created after the check: the line said
// "(<invalid> ago)". It now says by how much it is ahead of this host's
// clock, and to check the clocks.
func TestKubeadmCertsClockBehind(t *testing.T) {
	now := time.Date(2026, 12, 4, 7, 0, 0, 0, time.UTC)
	created := now.Add(3 * time.Minute)
	s := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: "kube-system", Name: "kubeadm-certs",
		CreationTimestamp: metav1.NewTime(created),
		ManagedFields: []metav1.ManagedFieldsEntry{
			{Manager: "kubeadm", Operation: metav1.ManagedFieldsOperationUpdate, Time: ptrTime(created.Add(time.Minute))},
		}},
		Data: map[string][]byte{"ca.crt": nil}}
	line := secretLine(&Info{CheckedAt: now, KubeadmCerts: kubeadmCerts(s, created.Add(2*time.Hour).Format(time.RFC3339), now)})
	for _, want := range []string{"created 2026-12-04 07:03 (3m after this host's clock: check this host's and the API server's clocks (timedatectl))", "last written 2026-12-04 07:04 (4m after this host's clock: check this host's and the API server's clocks (timedatectl))"} {
		if !strings.Contains(line, want) {
			t.Errorf("line does not say %q:\n%s", want, line)
		}
	}
	if strings.Contains(line, "invalid") {
		t.Errorf("line says invalid:\n%s", line)
	}
}

// TestKubeadmCertsWithoutOwner: kubeadm-certs holds the cluster's CA
// keys (encrypted with the certificate key) and is deleted with its
// owner, a bootstrap token that expires after two hours. One left behind
// without an owner (restored from a backup, its ownerReferences removed)
// is never deleted: the view said "expiry unknown". It now says that it
// stays, and how to delete it.
func TestKubeadmCertsWithoutOwner(t *testing.T) {
	now := time.Date(2026, 12, 4, 7, 0, 0, 0, time.UTC)
	s := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: "kube-system", Name: "kubeadm-certs",
		CreationTimestamp: metav1.NewTime(now.Add(-30 * 24 * time.Hour))}, Data: map[string][]byte{"ca.key": nil}}
	line := secretLine(&Info{CheckedAt: now, KubeadmCerts: kubeadmCerts(s, "", now)})
	if want := "no owner: it is never deleted; once no node is joining with it, delete it (kubectl -n kube-system delete secret kubeadm-certs)"; !strings.Contains(line, want) {
		t.Errorf("line does not say %q:\n%s", want, line)
	}
	if strings.Contains(line, "expiry unknown") {
		t.Errorf("line says expiry unknown:\n%s", line)
	}
}
