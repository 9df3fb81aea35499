package signer

import (
	"context"
	"slices"
	"strings"
	"time"

	certv1 "k8s.io/api/certificates/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"

	"github.com/certctl/certctl/internal/bounded"
)

// CompletionTimeout bounds the API request behind a completion of CSR
// names: the shell waits for it, and a server that is down or slow must
// leave the person typing with no names, not with a hung <TAB>.
const CompletionTimeout = 2 * time.Second

// completionLimit bounds the CSRs listed for a completion: a cluster of
// many kubelets keeps thousands, whose names a shell would not show anyway.
const completionLimit = 500

// CSRCompletions completes the CSR names of approve and deny (state
// "Pending") or sign ("Approved": not yet issued), as kubectl completes
// resource names from the API server: the CSRs in that State whose name
// starts with prefix, sorted, except those already given. Any failure
// (no kubeconfig, the server down, refused, slower than
// CompletionTimeout, an exec credential plugin that hangs) gives no
// names and says nothing: a completion has nowhere to say it.
func CSRCompletions(ctx context.Context, connect func() (kubernetes.Interface, error), state string, given []string, prefix string) []string {
	if ctx == nil {
		ctx = context.Background()
	}
	client, err := connect()
	if err != nil {
		return nil
	}
	ctx, cancel := context.WithTimeout(ctx, CompletionTimeout)
	defer cancel()
	// bounded.Call: client-go runs the kubeconfig's exec credential plugin
	// without the request's context, and a plugin that hangs must not
	// hang the <TAB> either.
	list, err := bounded.Call(ctx, func(ctx context.Context) (*certv1.CertificateSigningRequestList, error) {
		return client.CertificatesV1().CertificateSigningRequests().List(ctx, metav1.ListOptions{Limit: completionLimit})
	})
	if err != nil {
		return nil
	}
	var names []string
	for i := range list.Items {
		csr := &list.Items[i]
		if State(csr) == state && strings.HasPrefix(csr.Name, prefix) && !slices.Contains(given, csr.Name) {
			names = append(names, csr.Name)
		}
	}
	slices.Sort(names)
	return names
}
