package signer

import (
	"cmp"
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"slices"
	"sync"
	"time"

	"golang.org/x/time/rate"
	certv1 "k8s.io/api/certificates/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	utilruntime "k8s.io/apimachinery/pkg/util/runtime"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/kubernetes"
	certlisters "k8s.io/client-go/listers/certificates/v1"
	"k8s.io/client-go/tools/cache"
	"k8s.io/client-go/util/workqueue"

	"github.com/certctl/certctl/internal/bounded"
	"github.com/certctl/certctl/internal/kubeclient"
	"github.com/certctl/certctl/phases/config"
	"github.com/certctl/certctl/pki"
	"github.com/certctl/certctl/pki/policy"
)

// ControllerOptions configure a Controller.
type ControllerOptions struct {
	// Client reads CSRs (list, watch) and writes their status. Required.
	Client kubernetes.Interface
	// CAs holds the signing CAs by CA name (pki.CAName, pki.FrontProxyCAName,
	// pki.EtcdCAName): a *CA, or a *CASource that follows its files. Each
	// CSR is signed with what Current returns then. A signer name whose CA
	// is missing is left alone, for another signer to sign. At least one is
	// required.
	CAs map[string]CAProvider
	// Policy decides which requests fit: a *Policy, or a *NodeWatcher
	// that follows the cluster's control-plane nodes. Required.
	Policy PolicyProvider
	// Custom are signer names of the user's, each with its own CA, as the
	// seed's example.com/serving (ParseCustomSigner reads --signer). The
	// issuance policy (Policy.Rules) applies to them; the profile checks
	// of certctl's names do not.
	Custom []CustomSigner
	// MaxDuration caps a certificate's validity; spec.expirationSeconds
	// can only shorten it, and the CA's expiry caps it too. Zero means
	// kubeadm's certificate validity, one year.
	MaxDuration time.Duration
	// Workers is the number of CSRs handled at once. Zero means 8.
	Workers int
	// Now is the clock; time.Now when nil.
	Now func() time.Time
	// Rand is the source of serial numbers and signatures; crypto/rand when nil.
	Rand io.Reader
	// Log receives one line per CSR signed or failed and per error; nothing when nil.
	Log *slog.Logger
	// Metrics counts what the controller does; a new one when nil.
	Metrics *Metrics
	// UnsyncedWarning is how long Run waits for the first list of CSRs
	// before it asks the API server itself why, and logs the answer as a
	// warning (then again at doubling intervals up to two minutes while
	// the list is still missing). Zero means 10s, kube-controller-manager's
	// wait for its API server.
	UnsyncedWarning time.Duration
}

// A CAProvider gives the CA to sign with now. Workers call Current for
// every CSR, several at once.
type CAProvider interface {
	Current() *CA
}

// Controller signs the approved CSRs of certctl's signer names. It follows
// kube-controller-manager's certificate controller
// (pkg/controller/certificates/certificate_controller.go): an informer
// feeds a rate-limited work queue, workers sign, and a failed update
// (a conflict, an API error) is retried with backoff.
type Controller struct {
	o        ControllerOptions
	queue    workqueue.TypedRateLimitingInterface[string]
	factory  informers.SharedInformerFactory
	informer cache.SharedIndexInformer
	lister   certlisters.CertificateSigningRequestLister
	custom   map[string]CustomSigner
}

// NewController checks o and sets up the informer and the queue. It
// starts nothing.
func NewController(o ControllerOptions) (*Controller, error) {
	if o.Client == nil || o.Policy == nil || len(o.CAs)+len(o.Custom) == 0 {
		return nil, fmt.Errorf("signer: the controller needs a client, a policy and at least one CA")
	}
	custom := map[string]CustomSigner{}
	for _, cs := range o.Custom {
		if err := checkCustomName(cs.Name); err != nil {
			return nil, err
		}
		switch {
		case cs.CA == nil:
			return nil, fmt.Errorf("signer: custom signer %q has no CA", cs.Name)
		case custom[cs.Name].CA != nil:
			return nil, fmt.Errorf("signer: custom signer %q given twice", cs.Name)
		}
		custom[cs.Name] = cs
	}
	if o.MaxDuration <= 0 {
		o.MaxDuration = config.DefaultCertificateValidity
	}
	if err := policy.Validity("signer: maximum validity", o.MaxDuration); err != nil {
		return nil, err
	}
	if o.Workers <= 0 {
		o.Workers = 8
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	o.UnsyncedWarning = cmp.Or(o.UnsyncedWarning, 10*time.Second)
	o.Rand = cmp.Or(o.Rand, rand.Reader)
	o.Log = cmp.Or(o.Log, slog.New(slog.DiscardHandler))
	if o.Metrics == nil {
		o.Metrics = NewMetrics()
	}
	c := &Controller{o: o, custom: custom}
	// The limits of kube-controller-manager's certificate controller: per
	// CSR 200ms doubling to 1000s, and at most 10 retries a second overall.
	c.queue = workqueue.NewTypedRateLimitingQueueWithConfig(
		workqueue.NewTypedMaxOfRateLimiter(
			workqueue.NewTypedItemExponentialFailureRateLimiter[string](200*time.Millisecond, 1000*time.Second),
			&workqueue.TypedBucketRateLimiter[string]{Limiter: rate.NewLimiter(rate.Limit(10), 100)},
		),
		workqueue.TypedRateLimitingQueueConfig[string]{Name: "certctl-signer"},
	)
	queueLen := c.queue.Len
	o.Metrics.queueLen.Store(&queueLen)
	c.factory = informers.NewSharedInformerFactoryWithOptions(o.Client, 0,
		informers.WithTransform(func(obj any) (any, error) {
			// The cache only needs spec and status; managed fields double its size.
			if m, ok := obj.(metav1.Object); ok {
				m.SetManagedFields(nil)
			}
			return obj, nil
		}))
	csrs := c.factory.Certificates().V1().CertificateSigningRequests()
	c.informer, c.lister = csrs.Informer(), csrs.Lister()
	_, err := c.informer.AddEventHandler(cache.ResourceEventHandlerFuncs{
		AddFunc:    c.enqueue,
		UpdateFunc: func(_, obj any) { c.enqueue(obj) },
	})
	if err != nil {
		return nil, fmt.Errorf("signer: watch CSRs: %w", err)
	}
	return c, nil
}

// enqueue queues a CSR this controller has work on.
func (c *Controller) enqueue(obj any) {
	csr, ok := obj.(*certv1.CertificateSigningRequest)
	if ok && c.wants(csr) {
		c.queue.Add(csr.Name)
	}
}

// wants reports whether csr is approved, not failed, unsigned, and of a
// signer name whose CA this controller holds.
func (c *Controller) wants(csr *certv1.CertificateSigningRequest) bool {
	_, custom := c.custom[csr.Spec.SignerName]
	ours := custom || IsCertctlName(csr.Spec.SignerName) && c.o.CAs[CAFor(csr.Spec.SignerName)] != nil
	if len(csr.Status.Certificate) > 0 || !ours {
		return false
	}
	return IsApproved(csr) && !IsFailed(csr)
}

// Start starts the informer; it returns at once, and does nothing once
// started (the factory starts each informer once). Followers of a leader
// election start it too, so that a new leader has a warm cache.
func (c *Controller) Start(ctx context.Context) { c.factory.Start(ctx.Done()) }

// HasSynced reports whether the informer has listed every CSR.
func (c *Controller) HasSynced() bool { return c.informer.HasSynced() }

// Run starts the informer if needed, waits for it to sync and runs the
// workers until ctx ends; then it drains the queue's workers and returns.
func (c *Controller) Run(ctx context.Context) error {
	c.Start(ctx)
	wctx, synced := context.WithCancel(ctx)
	go c.warnUnsynced(wctx)
	ok := cache.WaitForCacheSync(ctx.Done(), c.informer.HasSynced)
	synced()
	if !ok {
		return fmt.Errorf("signer: list CSRs: %w", context.Cause(ctx))
	}
	// Re-queue what the informer delivered before this instance led.
	for _, obj := range c.informer.GetStore().List() {
		c.enqueue(obj)
	}
	c.o.Log.Info("signing", "workers", c.o.Workers, "signers", append(namesWithCA(c.o.CAs), slices.Collect(maps.Keys(c.custom))...))
	var wg sync.WaitGroup
	for range c.o.Workers {
		wg.Go(func() {
			defer utilruntime.HandleCrash()
			for c.processNext(ctx) {
			}
		})
	}
	<-ctx.Done()
	c.queue.ShutDown()
	wg.Wait()
	return nil
}

// warnUnsynced says why nothing is signed while the informer has not
// listed the CSRs: client-go's informer retries an API server that does
// not answer (connection refused, a timeout) without a word below -v 2,
// so the signer would run silent, signing nothing, with a wrong
// --kubeconfig or the API server down. It lists one CSR itself and logs
// what went wrong, with what to do, until ctx ends (the informer synced).
func (c *Controller) warnUnsynced(ctx context.Context) {
	defer utilruntime.HandleCrash() // as every goroutine of certctl's: a panic exits 1
	wait := c.o.UnsyncedWarning
	for ; ; wait = min(2*wait, 2*time.Minute) {
		select {
		case <-ctx.Done():
			return
		case <-time.After(wait):
		}
		lctx, cancel := context.WithTimeout(ctx, 10*time.Second)
		// bounded.Call: a kubeconfig's exec credential plugin that hangs
		// (client-go runs it without the request's context) held this
		// list, and the warning, as long as it hung.
		_, err := bounded.Call(lctx, func(ctx context.Context) (*certv1.CertificateSigningRequestList, error) {
			return c.o.Client.CertificatesV1().CertificateSigningRequests().List(ctx, metav1.ListOptions{Limit: 1})
		})
		cancel()
		if ctx.Err() != nil {
			return
		}
		if err == nil {
			continue // the API server answers: the informer's list is on its way
		}
		c.o.Log.Warn("cannot list the CSRs yet: nothing is signed until the API server answers; still trying",
			"err", APIHint(kubeclient.Unanswered(err, ""), "signer"))
	}
}

// namesWithCA are certctl's signer names whose CA is in cas.
func namesWithCA(cas map[string]CAProvider) []string {
	return slices.DeleteFunc(Names(), func(n string) bool { return cas[CAFor(n)] == nil })
}

func (c *Controller) processNext(ctx context.Context) bool {
	key, quit := c.queue.Get()
	if quit {
		return false
	}
	defer c.queue.Done(key)
	// A shut-down queue still hands out what it holds: once stopped, take
	// no more CSRs, and leave them, approved, to the next signer.
	if ctx.Err() != nil {
		return false
	}
	if err := c.sync(ctx, key); err != nil {
		c.o.Metrics.retries.Inc()
		c.o.Log.Warn("retrying", "csr", key, "err", err)
		c.queue.AddRateLimited(key)
		return true
	}
	c.queue.Forget(key)
	return true
}

// sync signs one CSR, or marks it Failed when it does not fit the policy.
// An error means "retry later".
func (c *Controller) sync(ctx context.Context, name string) error {
	cached, err := c.lister.Get(name)
	if apierrors.IsNotFound(err) {
		return nil
	}
	if err != nil {
		return err
	}
	if !c.wants(cached) {
		return nil
	}
	csr := cached.DeepCopy() // the cache's copy is shared
	req, err := ParseRequest(csr)
	if err != nil {
		return c.fail(ctx, csr, policy.ReasonInvalidRequest, err.Error())
	}
	cs, custom := c.custom[csr.Spec.SignerName]
	usages, limit := cs.Profile.apply(csr.Spec.Usages, c.o.MaxDuration)
	pol := c.o.Policy.Current() // once: the nodes may change meanwhile
	q := requestOf(csr, req, usages)
	as := issueAs{keyIDs: custom}
	if !custom {
		var prof pki.Profile
		prof, err = pol.Judge(q)
		q.ControlPlane, as.fits = prof.Name, &prof // CheckSign checks its requester too
	}
	if err == nil {
		err = pol.Rules().CheckSign(q)
	}
	if err != nil {
		var v *policy.Violation
		if errors.As(err, &v) {
			return c.fail(ctx, csr, v.Reason, v.Message)
		}
		return err
	}
	provider := c.o.CAs[CAFor(csr.Spec.SignerName)]
	if custom {
		provider = cs.CA
	}
	ca, err := signingCA(provider) // once: validity and signature from the same CA
	if err != nil {
		return fmt.Errorf("sign CSR %s: %w", name, err) // waits, retried, for the CA files to be fixed
	}
	v, err := ValidityFor(c.o.Now(), csr.Spec.ExpirationSeconds, limit, ca.Cert)
	if err != nil {
		return fmt.Errorf("sign CSR %s: %w", name, err)
	}
	certPEM, err := issue(c.o.Rand, ca, req, usages, v, as)
	if err != nil {
		return fmt.Errorf("sign CSR %s: %w", name, err)
	}
	csr.Status.Certificate = certPEM
	wctx, cancel := writeContext(ctx)
	defer cancel()
	if _, err := c.o.Client.CertificatesV1().CertificateSigningRequests().UpdateStatus(wctx, csr, metav1.UpdateOptions{}); err != nil {
		if apierrors.IsNotFound(err) {
			return nil
		}
		return fmt.Errorf("write certificate of CSR %s: %w", name, err)
	}
	c.o.Metrics.signed.WithLabelValues(csr.Spec.SignerName).Inc()
	c.o.Log.Info("signed", "csr", name, "signer", csr.Spec.SignerName, "subject", req.Subject.String(), "notAfter", v.NotAfter.Format(time.RFC3339))
	return nil
}

// writeContext is the context of a CSR's status write: ctx's values, and
// its end delayed by writeGrace, so that a stop (SIGTERM, a lost lease)
// lets the write in flight finish rather than throw away a certificate
// just signed, as docs/exit-codes.md promises, and signer run still exits
// within internal/interrupt's Grace (700ms), with time left to release
// the lease. The resourceVersion the write carries keeps a new leader and
// this one from both writing a certificate.
func writeContext(ctx context.Context) (context.Context, context.CancelFunc) {
	wctx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	stop := context.AfterFunc(ctx, func() {
		t := time.NewTimer(writeGrace)
		defer t.Stop()
		select {
		case <-t.C:
			cancel()
		case <-wctx.Done():
		}
	})
	return wctx, func() { stop(); cancel() }
}

// writeGrace is how long a status write in flight may go on once the
// controller is stopped.
const writeGrace = 300 * time.Millisecond

// signingCA is the CA p signs with now: a CASource's Signing (an error
// while its files hold a refused CA), else Current.
func signingCA(p CAProvider) (*CA, error) {
	if s, ok := p.(interface{ Signing() (*CA, error) }); ok {
		return s.Signing()
	}
	return p.Current(), nil
}

// fail adds a Failed condition, as kube-controller-manager's signer does
// for a request it will never sign.
func (c *Controller) fail(ctx context.Context, csr *certv1.CertificateSigningRequest, reason, msg string) error {
	csr.Status.Conditions = append(csr.Status.Conditions, condition(certv1.CertificateFailed, reason, msg, c.o.Now()))
	wctx, cancel := writeContext(ctx)
	defer cancel()
	if _, err := c.o.Client.CertificatesV1().CertificateSigningRequests().UpdateStatus(wctx, csr, metav1.UpdateOptions{}); err != nil {
		if apierrors.IsNotFound(err) {
			return nil
		}
		return fmt.Errorf("mark CSR %s failed (%s): %w", csr.Name, reason, err)
	}
	c.o.Metrics.failed.WithLabelValues(csr.Spec.SignerName, reason).Inc()
	c.o.Log.Warn("failed", "csr", csr.Name, "signer", csr.Spec.SignerName, "reason", reason, "message", msg)
	return nil
}
