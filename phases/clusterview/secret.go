package clusterview

import (
	"maps"
	"slices"
	"time"

	corev1 "k8s.io/api/core/v1"

	"github.com/certctl/certctl/phases/expiration"
)

// kubeadmCerts describes the kubeadm-certs Secret without decrypting it:
// its files, its age and when it goes (its owner bootstrap token's
// expiration, after which the garbage collector deletes it).
func kubeadmCerts(s *corev1.Secret, tokenExpiry string, now time.Time) *KubeadmCerts {
	k := &KubeadmCerts{Namespace: s.Namespace, Name: s.Name, Created: s.CreationTimestamp.UTC(),
		Files: append([]string{}, slices.Sorted(maps.Keys(s.Data))...)}
	k.AgeSeconds = int64(expiration.CheckedAt(now).Sub(k.Created) / time.Second) // checkedAt - created
	// The API server records when each manager last wrote the object: a
	// second upload (certctl's or kubeadm's) updates it in place.
	for _, f := range s.ManagedFields {
		if f.Time == nil {
			continue
		}
		if t := f.Time.UTC(); t.Sub(k.Created) >= time.Second && (k.Updated == nil || t.After(*k.Updated)) {
			k.Updated = &t
		}
	}
	for _, o := range s.OwnerReferences {
		k.Owner = o.Kind + "/" + o.Name
		break
	}
	if t, err := time.Parse(time.RFC3339, tokenExpiry); err == nil {
		t = t.UTC()
		k.ExpirationDate = &t
		k.Expired = !t.After(now)
	}
	return k
}
