package signer

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/leaderelection"
	"k8s.io/client-go/tools/leaderelection/resourcelock"
)

// LeaderElection configures a Lease-based leader election: of the signers
// that share Namespace/Name, one signs at a time.
type LeaderElection struct {
	Namespace string // of the Lease; "kube-system" when empty
	Name      string // of the Lease; "certctl-signer" when empty
	Identity  string // of this instance, unique; required
	// LeaseDuration, RenewDeadline and RetryPeriod are client-go's
	// (and kube-controller-manager's) 15s, 10s and 2s when zero.
	LeaseDuration, RenewDeadline, RetryPeriod time.Duration
}

// withDefaults fills in the zero fields.
func (le LeaderElection) withDefaults() LeaderElection {
	le.Namespace = cmp.Or(le.Namespace, "kube-system")
	le.Name = cmp.Or(le.Name, "certctl-signer")
	le.LeaseDuration = cmp.Or(le.LeaseDuration, 15*time.Second)
	le.RenewDeadline = cmp.Or(le.RenewDeadline, 10*time.Second)
	le.RetryPeriod = cmp.Or(le.RetryPeriod, 2*time.Second)
	return le
}

// Validate checks, with the defaults of the zero fields, what client-go's
// leader election requires of the three durations, so that `signer run
// --leader-elect` refuses them at start, naming its flags, rather than
// after it said it signs: the lease outlasts the renew deadline, which
// outlasts the retry period with its jitter (leaderelection.JitterFactor).
func (le LeaderElection) Validate() error {
	le = le.withDefaults()
	switch {
	case le.LeaseDuration < 0 || le.RenewDeadline < 0 || le.RetryPeriod < 0:
		return fmt.Errorf("signer: --leader-elect-lease-duration %s, --leader-elect-renew-deadline %s and --leader-elect-retry-period %s must not be negative (0: the default)", le.LeaseDuration, le.RenewDeadline, le.RetryPeriod)
	case le.LeaseDuration <= le.RenewDeadline:
		return fmt.Errorf("signer: --leader-elect-lease-duration %s must be longer than --leader-elect-renew-deadline %s: give a longer lease or a shorter deadline (defaults 15s and 10s)", le.LeaseDuration, le.RenewDeadline)
	case le.RenewDeadline <= time.Duration(leaderelection.JitterFactor*float64(le.RetryPeriod)):
		return fmt.Errorf("signer: --leader-elect-renew-deadline %s must be longer than %.1f times --leader-elect-retry-period %s: give a longer deadline or a shorter period (defaults 10s and 2s)", le.RenewDeadline, leaderelection.JitterFactor, le.RetryPeriod)
	}
	return nil
}

// ErrLostLease is returned by RunLeading when this instance stops leading
// while ctx is still alive: the process should exit and start again as a
// follower, as kube-controller-manager does.
var ErrLostLease = errors.New("signer: lost the leader lease")

// RunLeading runs lead while this instance holds the Lease, and returns when
// ctx ends (after releasing the Lease) or when the Lease is lost, once lead
// has returned.
// healthCheck, when not nil, receives a check that fails if this instance
// believes it leads but could not renew the Lease for 20s past its expiry.
func RunLeading(ctx context.Context, client kubernetes.Interface, le LeaderElection, metrics *Metrics, log *slog.Logger, lead func(context.Context), healthCheck func(func() error)) error {
	if le.Identity == "" {
		return fmt.Errorf("signer: leader election needs an identity")
	}
	le = le.withDefaults()
	if err := le.Validate(); err != nil {
		return err
	}
	log = cmp.Or(log, slog.New(slog.DiscardHandler))
	lock, err := resourcelock.New(resourcelock.LeasesResourceLock, le.Namespace, le.Name,
		client.CoreV1(), client.CoordinationV1(), resourcelock.ResourceLockConfig{Identity: le.Identity})
	if err != nil {
		return fmt.Errorf("signer: leader lock %s/%s: %w", le.Namespace, le.Name, err)
	}
	watchdog := leaderelection.NewLeaderHealthzAdaptor(20 * time.Second)
	// The elector runs OnStartedLeading in a goroutine and does not wait
	// for it: RunLeading waits for leadDone, so that it returns once lead
	// has (the status writes in flight are done). A goroutine that starts
	// after elector.Run returned (stopped) does not lead.
	var (
		mu       sync.Mutex
		stopped  bool
		leadDone chan struct{}
	)
	elector, err := leaderelection.NewLeaderElector(leaderelection.LeaderElectionConfig{
		Lock:            lock,
		Name:            le.Name,
		LeaseDuration:   le.LeaseDuration,
		RenewDeadline:   le.RenewDeadline,
		RetryPeriod:     le.RetryPeriod,
		ReleaseOnCancel: true,
		WatchDog:        watchdog,
		Callbacks: leaderelection.LeaderCallbacks{
			OnStartedLeading: func(ctx context.Context) {
				mu.Lock()
				if stopped {
					mu.Unlock()
					return
				}
				leadDone = make(chan struct{})
				defer close(leadDone)
				mu.Unlock()
				log.Info("leading", "lease", le.Namespace+"/"+le.Name, "identity", le.Identity)
				metrics.SetLeader(true)
				lead(ctx)
			},
			OnStoppedLeading: func() {
				metrics.SetLeader(false)
				log.Info("stopped leading", "lease", le.Namespace+"/"+le.Name)
			},
			OnNewLeader: func(id string) {
				if id != le.Identity {
					log.Info("following", "leader", id)
				}
			},
		},
	})
	if err != nil {
		return fmt.Errorf("signer: leader election: %w", err)
	}
	if healthCheck != nil {
		healthCheck(func() error { return watchdog.Check(nil) })
	}
	elector.Run(ctx) // returns when ctx ends or the lease is lost
	mu.Lock()
	stopped = true
	done := leadDone
	mu.Unlock()
	if done != nil {
		<-done
	}
	if ctx.Err() == nil {
		return ErrLostLease
	}
	return nil
}
