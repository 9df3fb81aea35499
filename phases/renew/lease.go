package renew

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"sync"
	"time"

	coordv1 "k8s.io/api/coordination/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	utilruntime "k8s.io/apimachinery/pkg/util/runtime"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/client-go/kubernetes"
	"k8s.io/utils/ptr"

	"github.com/certctl/certctl/manifests/staticpods"
)

// RestartLeasePrefix names the Lease in kube-system that serialises the
// restarts of one component across the control-plane nodes:
// certctl-restart-kube-apiserver, certctl-restart-etcd, ...
const RestartLeasePrefix = "certctl-restart-"

// DryRunLeases says, for a dry run, which Leases the restarts of
// components (in the real run's order) would wait for and take
// (RestartGates), and that the dry run takes none: renew's and ca rotate's
// dry runs print it.
func DryRunLeases(components []string) string {
	leases := make([]string, len(components))
	for i, c := range components {
		leases[i] = RestartLeasePrefix + c
	}
	return fmt.Sprintf("Each restart would first wait for and take its component's Lease in %s (%s), so that one control-plane node at a time restarts it; etcd's also takes kube-apiserver's on a node that runs one. This dry run reads and takes no Lease", metav1.NamespaceSystem, strings.Join(leases, ", "))
}

// Lease defaults.
const (
	// DefaultLeaseDuration is how long other nodes wait on a holder that
	// stopped renewing its Lease (killed, or its API server unreachable for
	// that long): long enough for kube-apiserver to come back on the
	// holder's own node, which its renewals may go through.
	DefaultLeaseDuration = 60 * time.Second
	// DefaultLeaseWait bounds the wait for the other nodes' restarts.
	DefaultLeaseWait = 15 * time.Minute
)

// restartLease is a coordination/v1 Lease per component, taken with
// optimistic concurrency (the update carries the resourceVersion read), so
// that one node at a time restarts that component; the holder renews it
// while its component restarts and frees it once the component serves its
// new certificate. client-go's leaderelection is made for a leader that
// keeps leading; here each node holds the lease for one restart and hands
// it on at once, and a holder whose restart failed keeps it until it
// expires, so that the next node waits before taking a second member down.
type restartLease struct {
	client    kubernetes.Interface
	namespace string
	identity  string // "NODE_RANDOM": unique per run
	// node is NODE: a Lease held by another run of this node ("NODE_...")
	// is taken over at once, as that run is over (see earlierRun).
	node     string
	duration time.Duration
	wait     time.Duration
	poll     time.Duration
	every    time.Duration // between two progress lines
	now      func() time.Time
	// sleep waits d or until ctx ends: Sleep when nil. It and now are the
	// clock of every wait, deadline and progress line.
	sleep func(ctx context.Context, d time.Duration) error
	out   io.Writer
	// warn receives each warning, without "[warning] ": printed on out
	// when nil.
	warn func(msg string)
}

// warning reports msg by l.warn, or on out.
func (l *restartLease) warning(format string, args ...any) {
	msg := fmt.Sprintf(format, args...)
	if l.warn != nil {
		l.warn(msg)
		return
	}
	fmt.Fprintf(l.out, "[warning] %s\n", msg)
}

func (l *restartLease) name(component string) string { return RestartLeasePrefix + component }

// pause waits d by l's clock, or until ctx ends.
func (l *restartLease) pause(ctx context.Context, d time.Duration) error {
	if l.sleep == nil {
		return staticpods.Sleep(ctx, d)
	}
	return l.sleep(ctx, d)
}

// leaseFailedAnnotation is set, by a holder whose restart failed, on the
// Lease it leaves to expire, to what it restarted: the nodes that wait
// then say so, not that it restarts. Taking the Lease clears it.
const leaseFailedAnnotation = "certctl.io/restart-failed"

// acquire waits until the Lease of component is free or expired and takes
// it for the restart of restarting: component itself, or one that takes
// component down with it (etcd takes this node's kube-apiserver down).
// The release it returns frees it when ok; otherwise it stops renewing
// and lets it expire.
func (l *restartLease) acquire(ctx context.Context, component, restarting string) (func(ok bool), error) {
	leases := l.client.CoordinationV1().Leases(l.namespace)
	name := l.name(component)
	start := l.now()
	nextProgress := start
	var seen sighting
	// progress prints a line at most every l.every.
	progress := func(format string, args ...any) {
		if now := l.now(); !now.Before(nextProgress) {
			fmt.Fprintf(l.out, format, args...)
			nextProgress = now.Add(l.every)
		}
	}
	for {
		cctx, cancel := context.WithTimeout(ctx, callTimeout)
		lease, err := leases.Get(cctx, name, metav1.GetOptions{})
		switch {
		case apierrors.IsNotFound(err):
			lease = &coordv1.Lease{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: l.namespace}}
			l.hold(lease)
			_, err = leases.Create(cctx, lease, metav1.CreateOptions{})
		case err == nil:
			holder, until := l.heldUntil(lease, &seen)
			earlier := l.earlierRun(holder)
			if holder == "" || holder == l.identity || earlier || !l.now().Before(until) {
				l.hold(lease)
				_, err = leases.Update(cctx, lease, metav1.UpdateOptions{})
				if err == nil && earlier {
					fmt.Fprintf(l.out, "[restart] %s: took over the Lease %s/%s from %s, an earlier run of this node, which stopped before it freed it: this run holds certctl's lock, which that run held, so it is over\n",
						restarting, l.namespace, name, holder)
				}
				break
			}
			err = &heldError{holder: holder}
			progress("%s", l.waitLine(lease, component, restarting, holder, until, seen))
		}
		cancel()
		if err == nil {
			return l.held(ctx, component, restarting), nil
		}
		var held *heldError
		if !errors.As(err, &held) && !apierrors.IsConflict(err) && !apierrors.IsAlreadyExists(err) {
			// Another node's restart of kube-apiserver may take the API
			// server away for a moment: retry until the wait ends.
			progress("[restart] %s: waiting for the Lease %s/%s: %v\n", restarting, l.namespace, name, err)
		}
		if l.now().Sub(start) > l.wait {
			return nil, fmt.Errorf("waited %s for the Lease %s/%s that serialises the restarts of %s across nodes (%v): the restart stays owed and the next run retries it; if no other node restarts it, delete the Lease", l.wait, l.namespace, name, component, err)
		}
		if err := l.pause(ctx, l.poll); err != nil {
			return nil, fmt.Errorf("wait for the Lease %s/%s: %w", l.namespace, name, err)
		}
	}
}

// waitLine says, for the restart of restarting, what the holder of
// component's Lease does while this node waits for it: its restart failed
// (leaseFailedAnnotation) and it leaves the Lease to expire at until; it
// stopped renewing it (not renewed for half its duration, which it renews
// every quarter); or it restarts its component. A renewTime ahead of this
// node's clock is said: the nodes' clocks differ.
func (l *restartLease) waitLine(lease *coordv1.Lease, component, restarting, holder string, until time.Time, seen sighting) string {
	name, expires := l.name(component), until.UTC().Format(time.RFC3339)
	now, half := l.now(), l.leaseDuration(lease)/2
	renewed := seen.at
	if rt := lease.Spec.RenewTime; rt != nil {
		renewed = rt.Time
	}
	skew := ""
	if ahead := renewed.Sub(now); ahead > time.Second {
		skew = fmt.Sprintf(" (its renewTime %s is %s ahead of this node's clock: the nodes' clocks differ, so this node counts the Lease's duration from when it last saw it change)",
			renewed.UTC().Format(time.RFC3339), ahead.Round(time.Second))
	}
	// Not renewed since this node first saw it, for half its duration; or,
	// until this node has seen it change, by the renewTime its holder
	// wrote, which a clock behind this node's can make look old.
	stopped := now.Sub(seen.at) > half || seen.changes == 0 && now.Sub(renewed) > half
	switch failed := lease.Annotations[leaseFailedAnnotation]; {
	case failed != "":
		return fmt.Sprintf("[restart] %s: waiting for the Lease %s/%s to expire at %s: %s's restart of its %s failed, and it left the Lease to expire so that no other node restarts its %s before then%s\n",
			restarting, l.namespace, name, expires, holder, failed, component, skew)
	case stopped:
		return fmt.Sprintf("[restart] %s: waiting for the Lease %s/%s, held by %s, which has not renewed it since %s (stopped, or cut off from the API server): it expires at %s%s\n",
			restarting, l.namespace, name, holder, renewed.UTC().Format(time.RFC3339), expires, skew)
	}
	return fmt.Sprintf("[restart] %s: waiting for %s, which restarts its %s (Lease %s/%s, until %s unless renewed)%s\n",
		restarting, holder, component, l.namespace, name, expires, skew)
}

// earlierRun reports whether holder is another run of this node
// ("NODE_RANDOM" with this node's NODE). The callers of RestartGates hold
// certctl's lock beside the certificate folder while they restart (renew,
// restore, ca rotate), as that run did: it is over (killed mid-restart),
// and its Lease is this node's to take over at once. Another node's
// Lease is waited for.
func (l *restartLease) earlierRun(holder string) bool {
	return l.node != "" && holder != l.identity && strings.HasPrefix(holder, l.node+"_")
}

// sighting is when this node first saw another node's Lease as it is now,
// by its own clock, and how often it saw it change before.
type sighting struct {
	record  string
	at      time.Time
	changes int
}

// heldUntil returns who holds lease ("" when no one does) and until when,
// by this node's clock: the Lease's duration after this node first saw its
// holder, renewTime and duration as they are (seen), as client-go's leader
// election judges a lease, and not after the renewTime the holder wrote by
// its own clock. A holder's clock ahead of this node's would block every
// node for the skew, past the wait of every run; one behind it would make
// the Lease of a holder that renews it look expired, and two nodes would
// restart etcd at once. So a holder killed mid-restart is waited for its
// duration from when this node first saw it, however long ago it stopped;
// a Lease without renewTime is held all the same.
func (l *restartLease) heldUntil(lease *coordv1.Lease, seen *sighting) (string, time.Time) {
	s := lease.Spec
	holder := ptr.Deref(s.HolderIdentity, "")
	if holder == "" {
		return "", time.Time{}
	}
	micro := func(t *metav1.MicroTime) string {
		if t == nil {
			return "-"
		}
		return t.UTC().Format(time.RFC3339Nano)
	}
	record := fmt.Sprintf("%s %s %s %d %d", holder, micro(s.RenewTime), micro(s.AcquireTime), ptr.Deref(s.LeaseTransitions, 0), ptr.Deref(s.LeaseDurationSeconds, 0))
	if record != seen.record {
		if seen.record != "" {
			seen.changes++
		}
		seen.record, seen.at = record, l.now()
	}
	return holder, seen.at.Add(l.leaseDuration(lease))
}

// leaseDuration is how long lease lasts unless renewed: its
// leaseDurationSeconds, or this node's own (DefaultLeaseDuration) when it
// has none or 0, which would make a holder that renews it look expired.
// A longer one is kept: its holder renews it every quarter of it only.
func (l *restartLease) leaseDuration(lease *coordv1.Lease) time.Duration {
	if d := time.Duration(ptr.Deref(lease.Spec.LeaseDurationSeconds, 0)) * time.Second; d > 0 {
		return d
	}
	return l.duration
}

// holderOf returns who holds lease and until when it is held unless
// renewed, by the renewTime its holder wrote: for this node's own Lease;
// another node's is judged by heldUntil.
func holderOf(lease *coordv1.Lease) (string, time.Time) {
	s := lease.Spec
	if s.HolderIdentity == nil || *s.HolderIdentity == "" || s.RenewTime == nil || s.LeaseDurationSeconds == nil {
		return "", time.Time{}
	}
	return *s.HolderIdentity, s.RenewTime.Add(time.Duration(*s.LeaseDurationSeconds) * time.Second)
}

// hold sets lease's spec to this run holding it from now.
func (l *restartLease) hold(lease *coordv1.Lease) {
	now := metav1.NewMicroTime(l.now())
	if h, _ := holderOf(lease); h != l.identity {
		lease.Spec.AcquireTime = &now
		lease.Spec.LeaseTransitions = ptr.To(ptr.Deref(lease.Spec.LeaseTransitions, 0) + 1)
	}
	delete(lease.Annotations, leaseFailedAnnotation)
	lease.Spec.HolderIdentity = ptr.To(l.identity)
	lease.Spec.LeaseDurationSeconds = ptr.To(max(1, int32(l.duration/time.Second)))
	lease.Spec.RenewTime = &now
}

// held starts renewing the Lease and returns its release.
func (l *restartLease) held(ctx context.Context, component, restarting string) func(ok bool) {
	if restarting == component {
		fmt.Fprintf(l.out, "[restart] %s: took the Lease %s/%s: no other node restarts its %s until this one serves its new certificate\n", component, l.namespace, l.name(component), component)
	} else {
		fmt.Fprintf(l.out, "[restart] %s: took the Lease %s/%s too: this node's %s is not ready while its %s restarts, so no other node restarts its %s until it is ready again\n",
			restarting, l.namespace, l.name(component), component, restarting, component)
	}
	rctx, stop := context.WithCancel(ctx)
	var wg sync.WaitGroup
	// lost is who took the Lease over, read after wg.Wait.
	var lost *notHolderError
	wg.Go(func() {
		defer utilruntime.HandleCrash()
		_ = wait.PollUntilContextCancel(rctx, l.duration/4, false, func(ctx context.Context) (bool, error) {
			// Errors are expected while this node's own kube-apiserver
			// restarts: the Lease lasts longer than that.
			err := l.update(ctx, component, func(lease *coordv1.Lease) { l.hold(lease) })
			return errors.As(err, &lost), nil
		})
	})
	var once sync.Once
	return func(ok bool) {
		once.Do(func() {
			stop()
			wg.Wait()
			var err error
			switch {
			case lost != nil:
			case !ok:
				// Best effort: without it, the others see the Lease
				// not renewed any more.
				err = l.update(ctx, component, func(lease *coordv1.Lease) {
					metav1.SetMetaDataAnnotation(&lease.ObjectMeta, leaseFailedAnnotation, restarting)
				})
			default:
				err = l.free(ctx, component)
			}
			// Taken over between the last renewal and the release.
			if lost == nil && errors.As(err, &lost) && lost.holder == "" {
				lost, err = nil, nil // freed by someone else: no one restarts
			}
			switch {
			case lost != nil:
				l.warning("%s: %s took the Lease %s/%s over while this node restarted its %s, as this node could not renew it (cut off from the API server): %s may have restarted its %s at the same time",
					restarting, lost.holder, l.namespace, l.name(component), restarting, lost.holder, component)
			case !ok:
				fmt.Fprintf(l.out, "[restart] %s: the Lease %s/%s is left to expire (%s): the other nodes wait before restarting theirs\n", component, l.namespace, l.name(component), l.duration)
			case err != nil:
				l.warning("free the Lease %s/%s: %v: the other nodes wait until it expires (%s)", l.namespace, l.name(component), err, l.duration)
			}
		})
	}
}

// free clears the holder, retrying while the API server comes back.
func (l *restartLease) free(ctx context.Context, component string) error {
	deadline := l.now().Add(l.duration)
	for {
		err := l.update(ctx, component, func(lease *coordv1.Lease) { lease.Spec.HolderIdentity = nil })
		var taken *notHolderError
		if err == nil || errors.As(err, &taken) || l.now().After(deadline) {
			return err
		}
		if err := l.pause(ctx, l.poll); err != nil {
			return err
		}
	}
}

// notHolderError is update's error when this run no longer holds the
// Lease: holder holds it now ("" when no one does).
type notHolderError struct{ holder string }

func (e *notHolderError) Error() string {
	return "held by " + cmp.Or(e.holder, "no one") + " now, not by this run"
}

// heldError is the wait's error while another node's run holds the Lease:
// the error of a wait that ends names it.
type heldError struct{ holder string }

func (e *heldError) Error() string { return "held by " + e.holder + ", another node's run" }

// callTimeout bounds one request to the API server, which may be one
// that is restarting.
const callTimeout = 10 * time.Second

// update applies change to the Lease if this run still holds it.
func (l *restartLease) update(ctx context.Context, component string, change func(*coordv1.Lease)) error {
	ctx, cancel := context.WithTimeout(ctx, callTimeout)
	defer cancel()
	leases := l.client.CoordinationV1().Leases(l.namespace)
	lease, err := leases.Get(ctx, l.name(component), metav1.GetOptions{})
	if err != nil {
		return err
	}
	if h := ptr.Deref(lease.Spec.HolderIdentity, ""); h != l.identity {
		return &notHolderError{holder: h}
	}
	change(lease)
	_, err = leases.Update(ctx, lease, metav1.UpdateOptions{})
	return err
}
