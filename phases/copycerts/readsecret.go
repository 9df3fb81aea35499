package copycerts

import (
	"context"
	"errors"
	"fmt"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"

	"github.com/certctl/certctl/internal/bounded"
)

// secretTimeout bounds Download's read of the Secret. client-go runs a
// kubeconfig's exec credential plugin (users[].user.exec) without the
// request's context, outside the answer timeout of kubeclient's
// transport (bounded.Call): a plugin that hangs held certs download
// forever, a join script with it. It is longer than what bounds the
// request once the plugin has answered (client-go's dial, 30 s, and TLS
// handshake, 10 s, and kubeclient.DefaultAnswerTimeout, 70 s), whose
// errors say more; what is left is the plugin's own time.
const secretTimeout = 3 * time.Minute

// noSecretAnswer is a read of the Secret that had no answer before its
// bound: Command.Download names the kubeconfig and its plugin.
type noSecretAnswer struct{ err error }

func (e *noSecretAnswer) Error() string {
	return fmt.Sprintf("get secret %s/%s: %v", Namespace, SecretName, e.err)
}
func (e *noSecretAnswer) Unwrap() error { return e.err }

// readSecret gets the kubeadm-certs Secret, waiting at most
// secretTimeout (or until ctx's deadline). Only the bound ends the wait
// early: an interruption (ctx canceled) reaches the request as any
// other's, which client-go fails at once, and Download stops before its
// commit anyway.
func readSecret(ctx context.Context, client kubernetes.Interface) (*corev1.Secret, error) {
	start := time.Now()
	ctx, cancel := context.WithTimeout(ctx, secretTimeout)
	defer cancel()
	deadline, _ := ctx.Deadline()
	bound, cancelBound := context.WithDeadline(context.WithoutCancel(ctx), deadline)
	defer cancelBound()
	s, err := bounded.Call(bound, func(context.Context) (*corev1.Secret, error) {
		return client.CoreV1().Secrets(Namespace).Get(ctx, SecretName, metav1.GetOptions{})
	})
	if errors.Is(err, context.DeadlineExceeded) {
		return nil, &noSecretAnswer{fmt.Errorf("waited %v: %w", time.Since(start).Round(time.Second), err)}
	}
	return s, err
}
