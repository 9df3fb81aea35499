package clusterview

import (
	"maps"
	"slices"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"

	"github.com/certctl/certctl/phases/expiration"
)

// kubeadmCerts describes the kubeadm-certs Secret without decrypting it:
// its files, its age and when it goes. The garbage collector deletes it
// once every one of its owners is gone
// (https://kubernetes.io/docs/concepts/architecture/garbage-collection/):
// its owner bootstrap tokens are deleted when they expire, so it goes at
// the last owner's expiration; with every owner gone already, at once.
func kubeadmCerts(s *corev1.Secret, owners []ownerToken, now time.Time) *KubeadmCerts {
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
	var refs []string
	for _, o := range s.OwnerReferences {
		refs = append(refs, o.Kind+"/"+o.Name)
	}
	k.Owner = strings.Join(refs, ", ")
	if len(owners) == 0 {
		return k
	}
	var last *time.Time
	unknown := false
	k.OwnersGone = true
	for _, o := range owners {
		if o.gone {
			continue
		}
		k.OwnersGone = false
		if o.known && o.expiration == "" {
			// A token without an expiration (kubeadm token create --ttl 0)
			// is never deleted by the token cleaner, nor this Secret.
			k.NoExpiry = true
			k.noExpiryOwners = append(k.noExpiryOwners, o.ref)
			continue
		}
		t, err := time.Parse(time.RFC3339, o.expiration)
		if !o.known || err != nil { // unread, or an expiration not RFC 3339
			unknown = true
			continue
		}
		if t = t.UTC(); last == nil || t.After(*last) {
			last = &t
		}
	}
	if last != nil && !unknown && !k.NoExpiry {
		k.ExpirationDate = last
		k.Expired = !last.After(now)
	}
	return k
}
