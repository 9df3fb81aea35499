package signer

import (
	"bytes"
	"context"
	"errors"
	"io"
	"log/slog"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"k8s.io/client-go/kubernetes"

	"github.com/certctl/certctl/phases/config"
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

// TestServeRefusesBadLeaseTimings: signer run --leader-elect with durations
// client-go's leader election refuses (a renew deadline not shorter than
// the lease, a retry period too long for the deadline, a negative one), or
// a negative --workers, fails before it reads a CA or connects, naming the
// flags. Before, it connected, printed "Signing for ...", then failed with
// client-go's "leaseDuration must be greater than renewDeadline", which
// names no flag; a negative --workers silently meant 8.
func TestServeRefusesBadLeaseTimings(t *testing.T) {
	for _, c := range []struct {
		name  string
		o     ServeOptions
		flags []string
	}{
		{"deadline past lease", ServeOptions{LeaderElect: true, Lease: LeaderElection{RenewDeadline: 20 * time.Second}},
			[]string{"--leader-elect-lease-duration 15s", "--leader-elect-renew-deadline 20s"}},
		{"retry past deadline", ServeOptions{LeaderElect: true, Lease: LeaderElection{RetryPeriod: 9 * time.Second}},
			[]string{"--leader-elect-renew-deadline 10s", "--leader-elect-retry-period 9s"}},
		{"negative", ServeOptions{LeaderElect: true, Lease: LeaderElection{LeaseDuration: -time.Second}},
			[]string{"--leader-elect-lease-duration -1s", "negative"}},
		{"negative workers", ServeOptions{Workers: -1}, []string{"--workers -1"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			o := c.o
			o.Cluster = &config.Cluster{CertificatesDir: t.TempDir()}
			o.NewClient = func() (kubernetes.Interface, error) {
				t.Error("Serve connected before it checked its options")
				return nil, errors.New("no client")
			}
			o.Out, o.ErrOut = io.Discard, io.Discard
			err := Serve(t.Context(), o)
			if err == nil {
				t.Fatal("Serve accepted them")
			}
			for _, f := range c.flags {
				if !strings.Contains(err.Error(), f) {
					t.Errorf("error %q does not name %q", err, f)
				}
			}
		})
	}
	if err := (LeaderElection{}).Validate(); err != nil {
		t.Errorf("the defaults: %v", err)
	}
}

// TestServeRefusesBadCustomSignerAtOnce: a --signer whose name is not the
// user's (kubernetes.io/*, one of certctl's) or that is given twice fails
// before signer run connects, as the other --signer mistakes do ("a bad
// --signer fails at once"). Before, both were found by NewController,
// after the API server was asked for the control-plane nodes: up to 30s
// later, after "Control-plane nodes from the cluster ..." was printed.
func TestServeRefusesBadCustomSignerAtOnce(t *testing.T) {
	dir := t.TempDir()
	s := pki.Store{Dir: dir}
	writePair(t, s, newTestCA(t, "custom", time.Now().Add(24*time.Hour)))
	files := s.CertPath("ca") + "," + s.KeyPath("ca")
	for _, c := range []struct {
		name   string
		custom []string
		want   string
	}{
		{"certctl's name", []string{EtcdPeer + "=" + files}, "not certctl's"},
		{"kubernetes.io", []string{"kubernetes.io/kubelet-serving=" + files}, "not kubernetes.io/*"},
		{"twice", []string{"example.com/x=" + files, "example.com/x=" + files}, `"example.com/x" given twice`},
	} {
		t.Run(c.name, func(t *testing.T) {
			o := ServeOptions{Cluster: &config.Cluster{CertificatesDir: t.TempDir()}, Custom: c.custom, Out: io.Discard, ErrOut: io.Discard}
			o.NewClient = func() (kubernetes.Interface, error) {
				t.Error("Serve connected before it checked --signer")
				return nil, errors.New("no client")
			}
			if err := Serve(t.Context(), o); err == nil || !strings.Contains(err.Error(), c.want) {
				t.Errorf("Serve with --signer %q: %v, want an error with %q", c.custom, err, c.want)
			}
		})
	}
}

// TestServeRefusesBusyAddressAtOnce: a --listen-address in use (another
// signer run on the node: both default to 127.0.0.1:10290) fails before
// signer run connects, saying what to do. Before, it connected, waited up
// to 30s for the control-plane nodes, printed them, and only then failed
// with a bare "bind: address already in use".
func TestServeRefusesBusyAddressAtOnce(t *testing.T) {
	busy, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer busy.Close()
	dir := t.TempDir()
	writePair(t, pki.Store{Dir: dir}, newTestCA(t, "kubernetes", time.Now().Add(24*time.Hour)))
	o := ServeOptions{Cluster: &config.Cluster{CertificatesDir: dir}, ListenAddress: busy.Addr().String(), Out: io.Discard, ErrOut: io.Discard}
	o.NewClient = func() (kubernetes.Interface, error) {
		t.Error("Serve connected before it took --listen-address")
		return nil, errors.New("no client")
	}
	err = Serve(t.Context(), o)
	if err == nil || !strings.Contains(err.Error(), "--listen-address "+busy.Addr().String()) || !strings.Contains(err.Error(), "pass another --listen-address") {
		t.Errorf("Serve on a busy address: %v, want an error naming it and what to do", err)
	}
}
