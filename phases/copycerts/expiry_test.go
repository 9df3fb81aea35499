package copycerts

import (
	"context"
	"crypto/rand"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/kubernetes/fake"
	k8stesting "k8s.io/client-go/testing"

	"github.com/certctl/certctl/internal/pkitest"
	"github.com/certctl/certctl/internal/treetest"
)

// TestDownloadRefusesExpiredSecret: the Secret's TTL is the bootstrap
// token that owns it; after the token expires, the token cleaner and the
// garbage collector delete both, but until they have run the Secret is
// still there, and kubeadm's download-certs reads it. certctl refuses it,
// saying to upload again, and writes nothing: when the token has expired,
// is deleted, has an unparseable expiration (expired to the token cleaner),
// or, when the token cannot be read (a joining node's bootstrap token may
// get the Secret alone), when the Secret was last written more than
// TokenTTL ago. Within the TTL it downloads.
func TestDownloadRefusesExpiredSecret(t *testing.T) {
	n := pkitest.NewNode(t, nil)
	key := testKey(t)
	ctx := context.Background()
	// owner edits the token that owns the Secret of cs.
	owner := func(t *testing.T, cs *fake.Clientset, edit func(name string)) {
		t.Helper()
		s, err := cs.CoreV1().Secrets(Namespace).Get(ctx, SecretName, metav1.GetOptions{})
		if err != nil {
			t.Fatal(err)
		}
		edit(metav1.GetControllerOf(s).Name)
	}
	setExpiration := func(t *testing.T, cs *fake.Clientset, v string) {
		owner(t, cs, func(name string) {
			tok, err := cs.CoreV1().Secrets(Namespace).Get(ctx, name, metav1.GetOptions{})
			if err != nil {
				t.Fatal(err)
			}
			tok.Data["expiration"] = []byte(v)
			if _, err := cs.CoreV1().Secrets(Namespace).Update(ctx, tok, metav1.UpdateOptions{}); err != nil {
				t.Fatal(err)
			}
		})
	}
	// tokenForbidden lets the Secret be read and nothing else, as kubeadm's
	// Role lets a joining node's bootstrap token, and says the Secret was
	// last written at written (the fake clientset records its own clock).
	tokenForbidden := func(written time.Time) func(t *testing.T, cs *fake.Clientset) {
		return func(t *testing.T, cs *fake.Clientset) {
			cs.PrependReactor("get", "secrets", func(a k8stesting.Action) (bool, runtime.Object, error) {
				name := a.(k8stesting.GetAction).GetName()
				if name != SecretName {
					return true, nil, apierrors.NewForbidden(schema.GroupResource{Resource: "secrets"}, name, nil)
				}
				obj, err := cs.Tracker().Get(a.GetResource(), Namespace, name)
				if err != nil {
					return true, nil, err
				}
				s := obj.(*corev1.Secret).DeepCopy()
				if len(s.ManagedFields) == 0 {
					t.Fatal("the fake clientset records no managedFields")
				}
				for i := range s.ManagedFields {
					s.ManagedFields[i].Time = &metav1.Time{Time: written}
				}
				return true, s, nil
			})
		}
	}
	expiry := uploaded.Add(TokenTTL)
	tests := []struct {
		name    string
		prepare func(t *testing.T, cs *fake.Clientset)
		now     time.Time
		want    []string // nil: downloaded
	}{
		{"within the TTL", nil, expiry.Add(-time.Second), nil},
		{"token expired", nil, expiry, []string{"its bootstrap token bootstrap-token-", "expired at 2026-03-02T11:30:00Z"}},
		{"token deleted", func(t *testing.T, cs *fake.Clientset) {
			owner(t, cs, func(name string) {
				if err := cs.CoreV1().Secrets(Namespace).Delete(ctx, name, metav1.DeleteOptions{}); err != nil {
					t.Fatal(err)
				}
			})
		}, uploaded.Add(time.Minute), []string{"the bootstrap token bootstrap-token-", "is deleted"}},
		{"token expiration unparseable", func(t *testing.T, cs *fake.Clientset) { setExpiration(t, cs, "tomorrow") }, uploaded.Add(time.Minute), []string{`expiration "tomorrow"`, "token cleaner takes as expired"}},
		{"token without expiration", func(t *testing.T, cs *fake.Clientset) { setExpiration(t, cs, "") }, expiry.Add(time.Hour), nil},
		{"token forbidden, written within the TTL", tokenForbidden(uploaded), expiry.Add(-time.Second), nil},
		{"token forbidden, written before the TTL", tokenForbidden(uploaded), expiry, []string{"uploaded at 2026-03-02T09:30:00Z, more than 2h0m0s ago"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cs := fake.NewClientset()
			upload(t, cs, n.CertDir(), key)
			if tt.prepare != nil {
				tt.prepare(t, cs)
			}
			parent := t.TempDir()
			dir := filepath.Join(parent, "pki")
			before := treetest.Snapshot(t, parent)
			var out strings.Builder
			err := Download(ctx, cs, Options{CertDir: dir, Key: key, Now: func() time.Time { return tt.now }, Rand: rand.Reader, Out: &out, ErrOut: &out})
			if tt.want == nil {
				if err != nil {
					t.Fatalf("download: %v\n%s", err, out.String())
				}
				if _, err := os.Stat(filepath.Join(dir, "ca.key")); err != nil {
					t.Error(err)
				}
				return
			}
			treetest.ErrMentions(t, err, append(tt.want, "secret kube-system/kubeadm-certs has expired", "`certctl certs upload --certificate-key KEY`", "then download again")...)
			treetest.AssertSame(t, before, treetest.Snapshot(t, parent))
		})
	}
}
