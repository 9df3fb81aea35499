package copycerts

import (
	"context"
	"fmt"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"

	"github.com/certctl/certctl/internal/kubeclient"
)

// checkNotExpired refuses the kubeadm-certs Secret s once its TTL is over.
// kubeadm's copycerts reads any Secret it finds: the TTL is only the
// bootstrap token that owns s, which kube-controller-manager's token
// cleaner deletes when it expires, and the garbage collector then deletes
// s. Until both have run, an expired Secret is still there, holding the
// cluster's CA keys past the time its uploader gave them.
//
// The owner token says when s expires (its "expiration", read as the token
// cleaner reads it: unparseable is expired). A token that is gone, or
// another of the same name, is an owner deleted. A joining node's bootstrap
// token may get s alone (kubeadm's Role): then the last write of s
// (managedFields) is the upload's, which made its token just before, for
// TokenTTL (kubeadm's DefaultCertTokenDuration, fixed), so the token
// expired by TokenTTL after it. A Secret with no owner token, or none of
// these, is read as kubeadm reads it.
func checkNotExpired(ctx context.Context, client kubernetes.Interface, s *corev1.Secret, now time.Time) error {
	owner := metav1.GetControllerOf(s)
	if owner == nil || owner.APIVersion != "v1" || owner.Kind != "Secret" {
		return nil
	}
	expired := func(why string) error {
		return fmt.Errorf("secret %s/%s has expired (%s; the garbage collector deletes it next): run `certctl certs upload --certificate-key KEY` (or `kubeadm init phase upload-certs --upload-certs`) on a control-plane node, then download again", Namespace, SecretName, why)
	}
	tok, err := client.CoreV1().Secrets(Namespace).Get(ctx, owner.Name, metav1.GetOptions{})
	switch {
	case apierrors.IsNotFound(err) || err == nil && owner.UID != "" && tok.UID != owner.UID:
		return expired(fmt.Sprintf("the bootstrap token %s that owns it is deleted", owner.Name))
	case apierrors.IsForbidden(err):
		if at, ok := lastWrite(s); ok && !now.Before(at.Add(TokenTTL)) {
			return expired(fmt.Sprintf("uploaded at %s, more than %v ago, and its bootstrap token lives %v", at.UTC().Format(time.RFC3339), TokenTTL, TokenTTL))
		}
		return nil
	case err != nil:
		return fmt.Errorf("get bootstrap token %s/%s that owns %s, to check that it has not expired: %w", Namespace, owner.Name, SecretName, kubeclient.Unanswered(err, "; nothing was changed"))
	}
	exp, ok := tok.Data["expiration"]
	if !ok || len(exp) == 0 {
		return nil
	}
	at, err := time.Parse(time.RFC3339, string(exp))
	if err != nil {
		return expired(fmt.Sprintf("the expiration %q of its bootstrap token %s is not a time, which the token cleaner takes as expired", exp, owner.Name))
	}
	if !now.Before(at) {
		return expired(fmt.Sprintf("its bootstrap token %s expired at %s", owner.Name, at.UTC().Format(time.RFC3339)))
	}
	return nil
}

// lastWrite is the time of the last write of s that its managedFields
// record, and whether they record one.
func lastWrite(s *corev1.Secret) (time.Time, bool) {
	var last time.Time
	for _, f := range s.ManagedFields {
		if f.Time != nil && f.Time.After(last) {
			last = f.Time.Time
		}
	}
	return last, !last.IsZero()
}
