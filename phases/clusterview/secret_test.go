package clusterview

import (
	"context"
	"encoding/json"
	"net"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/kubernetes/fake"

	"github.com/certctl/certctl/phases/copycerts"
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
	s := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: "kube-system", Name: "kubeadm-certs",
		CreationTimestamp: metav1.NewTime(created),
		ManagedFields: []metav1.ManagedFieldsEntry{
			{Manager: "kubeadm", Operation: metav1.ManagedFieldsOperationUpdate, Time: ptrTime(created)},
			{Manager: "certctl", Operation: metav1.ManagedFieldsOperationUpdate, Time: ptrTime(again)},
		}},
		Data: map[string][]byte{"ca.crt": nil}}
	k := kubeadmCerts(s, nil, now)
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
	k = kubeadmCerts(s, nil, now)
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
	line := secretLine(&Info{CheckedAt: now, KubeadmCerts: kubeadmCerts(s, nil, now)})
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
	line := secretLine(&Info{CheckedAt: now, KubeadmCerts: kubeadmCerts(s, nil, now)})
	if want := "no owner: it is never deleted; once no node is joining with it, delete it (kubectl -n kube-system delete secret kubeadm-certs)"; !strings.Contains(line, want) {
		t.Errorf("line does not say %q:\n%s", want, line)
	}
	if strings.Contains(line, "expiry unknown") {
		t.Errorf("line says expiry unknown:\n%s", line)
	}
}

// TestKubeadmCertsOwners: kubeadm-certs is deleted by the garbage
// collector once every one of its owners is gone, and its owners are
// bootstrap tokens deleted when they expire. With several owners the view
// named the first and gave the expiry of the last one listed, not the
// last to expire; with its owner token gone it said "expiry unknown" (and
// warned that the owner could not be read) of a Secret the garbage
// collector deletes at once, or never when it does not run.
func TestKubeadmCertsOwners(t *testing.T) {
	early, late := now.Add(30*time.Minute), now.Add(100*time.Minute)
	token := func(name, uid string, exp time.Time) *corev1.Secret {
		return &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: "kube-system", UID: types.UID(uid)},
			Data: map[string][]byte{"expiration": []byte(exp.Format(time.RFC3339))}}
	}
	noExpiry := func(name, uid string) *corev1.Secret { // as kubeadm makes a token of --ttl 0
		return &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: "kube-system", UID: types.UID(uid)},
			Data: map[string][]byte{"token-id": []byte(strings.TrimPrefix(name, "bootstrap-token-"))}}
	}
	ref := func(name, uid string) metav1.OwnerReference {
		return metav1.OwnerReference{APIVersion: "v1", Kind: "Secret", Name: name, UID: types.UID(uid)}
	}
	for _, tc := range []struct {
		name     string
		owners   []metav1.OwnerReference
		tokens   []runtime.Object
		want     string // in the line
		expiry   *time.Time
		gone     bool
		noExpiry bool
	}{{
		name:   "two owners, the last to expire listed first",
		owners: []metav1.OwnerReference{ref("bootstrap-token-aaaaaa", "a"), ref("bootstrap-token-bbbbbb", "b")},
		tokens: []runtime.Object{token("bootstrap-token-aaaaaa", "a", late), token("bootstrap-token-bbbbbb", "b", early)},
		want:   "owners Secret/bootstrap-token-aaaaaa, Secret/bootstrap-token-bbbbbb, deleted at " + late.Format("2006-01-02 15:04") + " (in 100m)",
		expiry: &late,
	}, {
		name:   "two owners, one gone",
		owners: []metav1.OwnerReference{ref("bootstrap-token-aaaaaa", "a"), ref("bootstrap-token-bbbbbb", "b")},
		tokens: []runtime.Object{token("bootstrap-token-bbbbbb", "b", early)},
		want:   "deleted at " + early.Format("2006-01-02 15:04") + " (in 30m)",
		expiry: &early,
	}, {
		name:   "its owner gone",
		owners: []metav1.OwnerReference{ref("bootstrap-token-aaaaaa", "a")},
		want:   "owner Secret/bootstrap-token-aaaaaa, its owner is gone: the garbage collector deletes it at once; if it stays, kube-controller-manager's garbage collector is not running: once no node is joining with it, delete it (kubectl -n kube-system delete secret kubeadm-certs)",
		gone:   true,
	}, {
		name:   "its owner token made again under the same name",
		owners: []metav1.OwnerReference{ref("bootstrap-token-aaaaaa", "a")},
		tokens: []runtime.Object{token("bootstrap-token-aaaaaa", "other", late)},
		want:   "its owner is gone: the garbage collector deletes it at once",
		gone:   true,
	}, {
		name:   "every owner gone",
		owners: []metav1.OwnerReference{ref("bootstrap-token-aaaaaa", "a"), ref("bootstrap-token-bbbbbb", "b")},
		want:   "its owners are all gone: the garbage collector deletes it at once",
		gone:   true,
	}, {
		// kubeadm token create --ttl 0: the token cleaner never deletes
		// it, so the garbage collector never deletes the Secret. The
		// line said "expiry unknown", and json and yaml only a null
		// expirationDate, as for an owner that could not be read.
		name:     "its owner token never expires",
		owners:   []metav1.OwnerReference{ref("bootstrap-token-aaaaaa", "a")},
		tokens:   []runtime.Object{noExpiry("bootstrap-token-aaaaaa", "a")},
		want:     "owner Secret/bootstrap-token-aaaaaa, no expiry: its owner token Secret/bootstrap-token-aaaaaa never expires, so it is never deleted; once no node is joining with it, delete the token (kubeadm token delete aaaaaa)",
		noExpiry: true,
	}, {
		name:     "two owners, one never expires",
		owners:   []metav1.OwnerReference{ref("bootstrap-token-aaaaaa", "a"), ref("bootstrap-token-bbbbbb", "b")},
		tokens:   []runtime.Object{token("bootstrap-token-aaaaaa", "a", early), noExpiry("bootstrap-token-bbbbbb", "b")},
		want:     "no expiry: its owner token Secret/bootstrap-token-bbbbbb never expires, so it is never deleted; once no node is joining with it, delete the token (kubeadm token delete bbbbbb)",
		noExpiry: true,
	}} {
		t.Run(tc.name, func(t *testing.T) {
			f := newFixture(t)
			s := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: copycerts.SecretName, Namespace: "kube-system",
				CreationTimestamp: metav1.NewTime(now.Add(-10 * time.Minute)), OwnerReferences: tc.owners},
				Data: map[string][]byte{"ca.key": nil}}
			objs := append([]runtime.Object{cpNode("cp-1", "127.0.0.1"), mirrorPod("kube-apiserver", "cp-1", APIServerEndpointAnnotation, f.apiserver),
				mirrorPod("etcd", "cp-1", EtcdClientURLsAnnotation, "https://"+f.etcd), s}, tc.tokens...)
			info, err := Check(context.Background(), Options{Client: fake.NewClientset(objs...), CertDir: f.node.CertDir(), Now: now, LocalIPs: []net.IP{}})
			if err != nil {
				t.Fatal(err)
			}
			k := info.KubeadmCerts
			if line := secretLine(info); !strings.Contains(line, tc.want) || strings.Contains(line, "expiry unknown") {
				t.Errorf("line does not say %q:\n%s", tc.want, line)
			}
			if k.OwnersGone != tc.gone || (k.ExpirationDate == nil) != (tc.expiry == nil) || tc.expiry != nil && !k.ExpirationDate.Equal(*tc.expiry) {
				t.Errorf("ownersGone %v, expirationDate %v; want %v, %v", k.OwnersGone, k.ExpirationDate, tc.gone, tc.expiry)
			}
			b, err := json.Marshal(k)
			if err != nil {
				t.Fatal(err)
			}
			if got := strings.Contains(string(b), `"noExpiry":true`); got != tc.noExpiry {
				t.Errorf("json says noExpiry %v, want %v: %s", got, tc.noExpiry, b)
			}
			if w := strings.Join(info.Warnings, "\n"); strings.Contains(w, "bootstrap-token") {
				t.Errorf("an owner that is gone is warned of as unread:\n%s", w)
			}
		})
	}
}
