package copycerts

import (
	"context"
	"errors"
	"fmt"
	"net"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
)

// unanswered adds what to do to err when the API server gave no answer
// (connection refused, no route, TLS handshake, timeout): the error names
// the request and its URL, not that the server in the kubeconfig is down
// or wrong. An answer of the API server (a status) and an interruption
// are returned as they are.
func unanswered(err error) error {
	var status apierrors.APIStatus
	var ne net.Error
	if err == nil || errors.As(err, &status) || errors.Is(err, context.Canceled) || !errors.As(err, &ne) {
		return err
	}
	return fmt.Errorf("%w: is the API server up and reachable? Check the server of --kubeconfig; nothing was changed", err)
}
