package signer

import (
	"bytes"
	"context"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/certctl/certctl/pki"
)

// lockedBuffer is a bytes.Buffer for a logger written from goroutines.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// TestRunSaysWhyUnsynced: a controller whose API server does not answer
// (a wrong --kubeconfig, the API server down) logs, after
// UnsyncedWarning, a warning with the request's error and what to do, and
// goes on trying. client-go's informer retries such an API server without
// a word below -v 2: signer run printed "Signing for ..." and then nothing,
// ever, while it signed nothing.
func TestRunSaysWhyUnsynced(t *testing.T) {
	var log lockedBuffer
	c, err := NewController(ControllerOptions{
		Client: unreachableClient(t), CAs: map[string]CAProvider{pki.CAName: newTestCA(t, "kubernetes", testNow.Add(time.Hour))},
		Policy: testPolicy(t, PolicyOptions{}), Log: slog.New(slog.NewTextHandler(&log, nil)), UnsyncedWarning: 100 * time.Millisecond,
	})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	done := make(chan error, 1)
	go func() { done <- c.Run(ctx) }()
	for !strings.Contains(log.String(), "cannot list the CSRs") && ctx.Err() == nil {
		time.Sleep(50 * time.Millisecond)
	}
	cancel()
	<-done
	out := log.String()
	if !strings.Contains(out, "level=WARN") || !strings.Contains(out, "connection refused") || !strings.Contains(out, "is the API server up and reachable") || !strings.Contains(out, "--kubeconfig") {
		t.Errorf("Run against an API server that does not answer logged:\n%s\nwant a warning with the error and what to do", out)
	}
}
