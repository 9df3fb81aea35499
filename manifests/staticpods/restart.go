package staticpods

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"io"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/certctl/certctl/manifests"
	"github.com/certctl/certctl/pki"
)

// DefaultTimeout bounds the wait for each component when Options.Timeout
// is zero: the kubelet notices a changed manifest within seconds (20 s at
// most, its file check period), stops the old pod within its grace period
// and starts the new one; kube-apiserver may need a minute to be ready.
const DefaultTimeout = 5 * time.Minute

// Options configure Restart.
type Options struct {
	// Timeout bounds the wait for each component; DefaultTimeout when 0.
	Timeout time.Duration
	// Poll is the interval between checks; 500ms when 0.
	Poll time.Duration
	// Now gives the annotation's value and names the backup folder;
	// time.Now when nil.
	Now func() time.Time
	// Clock and Sleep time the wait for each component: Clock's time
	// measures Timeout, ProgressEvery, ReadyFor and Result.Waited, and
	// Sleep waits Poll between two checks, or until ctx ends. The wall
	// clock and a timer when nil; give both or neither (a Clock that moves
	// only when Sleep is called never reaches the timeout with a timer).
	// They are apart from Now so that a fixed Now, which makes the
	// annotation and the backup folder's name reproducible, still lets
	// the wait end.
	Clock func() time.Time
	Sleep func(ctx context.Context, d time.Duration) error
	// Out receives one line per action; io.Discard when nil.
	Out io.Writer
	// ListenerPID returns the process listening on a TCP port at host
	// ("": any address), 0 when none; the /proc lookup of `ss -ltnp` when
	// nil.
	ListenerPID func(host string, port int) (int, error)
	// Processes returns the processes whose command line is argv (the
	// manifest's command and args), to see a new process that exits
	// before it listens; the /proc scan of processesRunning when nil.
	Processes func(argv []string) ([]int, error)
	// Done, when set, is called with each component's result before the
	// next component starts, so that the caller can record at once what
	// is still owed (Pending).
	Done func(Result)
	// Coordinate, when set, is called before a component's manifest is
	// changed and returns once this node may restart it (phases/renew's
	// Lease: one node of the cluster at a time); release is called with
	// whether the component came back. kube-apiserver must then also answer
	// /readyz before it counts as back: the next node's restart takes
	// another one down.
	Coordinate func(ctx context.Context, component string) (release func(ok bool), err error)
	// APIServer is where this node's kube-apiserver serves
	// (Set.APIServerAddress), "" when the folder has none. With Coordinate,
	// etcd then counts as back only once that kube-apiserver answers /readyz
	// again for ReadyFor: kubeadm's kube-apiserver uses its own node's etcd
	// member only (--etcd-servers=https://127.0.0.1:2379), so it is not
	// ready while the member restarts, and the next node must not take
	// another kube-apiserver down before it is.
	APIServer string
	// EtcdQuorum, when set, is checked after Coordinate and before etcd's
	// manifest is changed: etcd is not restarted while the other members
	// would not keep a quorum without it (EtcdQuorum.check).
	EtcdQuorum *EtcdQuorum
	// APIServers, when set, is checked after Coordinate (and EtcdQuorum)
	// and before the manifest of kube-apiserver, or of etcd on a node with
	// a kube-apiserver (APIServer), is changed: neither is restarted while
	// no other node's kube-apiserver would be ready without this node's
	// (APIServers.check).
	APIServers *APIServers
	// ProgressEvery is the least time between two lines saying what a
	// component is waited for; 10 s when 0.
	ProgressEvery time.Duration
	// ReadyFor is, with Coordinate, how long kube-apiserver's /readyz must
	// keep answering ok before it counts as back: just after it first
	// answers ok it can still fail a check for a moment, and the next
	// node must not go down then. 2 s when 0.
	ReadyFor time.Duration

	// backupAt names the run's backup folder (manifests.BackupDir).
	backupAt time.Time
}

// Status is what became of one component.
type Status string

// The statuses of Result, as the JSON summary names them.
const (
	// ServingNew: restarted (a new process, where certctl can see it) and
	// serving the new certificate on every endpoint that serves one.
	ServingNew Status = "serving-new-certificate"
	// Restarted: a new process; it serves none of the changed certificates.
	Restarted Status = "restarted"
	// NotVerified: the manifest was changed; certctl can see neither a
	// served certificate nor the process (not root, or not Linux).
	NotVerified Status = "restart-not-verified"
	// ServingOld: the wait ended with an endpoint still serving a
	// certificate that is not the new one.
	ServingOld Status = "serving-old-certificate"
	// NotRestarted: the wait ended with the old process still running.
	NotRestarted Status = "not-restarted"
	// Unreachable: the wait ended with no TLS handshake possible.
	Unreachable Status = "unreachable"
	// NotReady: kube-apiserver, with Coordinate, restarted and serves its
	// new certificate, but the wait ended with its /readyz failing.
	NotReady Status = "not-ready"
	// Skipped: not attempted, because a component before it failed.
	Skipped Status = "skipped"
	// Failed: the manifest could not be changed, or the wait was cut short.
	Failed Status = "failed"
)

// OK reports whether the status means the component uses its new files, as
// far as certctl can tell.
func (s Status) OK() bool { return s == ServingNew || s == Restarted || s == NotVerified }

// Result is what Restart did with one component.
type Result struct {
	Component string   `json:"component"`
	Manifest  string   `json:"manifest"`
	Files     []string `json:"files"` // the changed files it reads
	Status    Status   `json:"status"`
	// Restarted is whether the process on the component's port is a new
	// one; null when certctl cannot tell.
	Restarted *bool            `json:"restarted"`
	OldPID    int              `json:"oldPID,omitempty"`
	NewPID    int              `json:"newPID,omitempty"`
	Endpoints []EndpointResult `json:"endpoints"`
	Waited    time.Duration    `json:"-"`
	// WaitedSeconds is Waited, for the JSON summary.
	WaitedSeconds float64 `json:"waitedSeconds"`
	// Message says what went wrong and what to do; "" when Status.OK().
	Message string `json:"message,omitempty"`

	// started are the new processes seen, on the port or running the
	// manifest's command line (Options.Processes), in order: one gone
	// again is a component that keeps exiting, which the progress lines
	// and the messages of a failed wait say (exitedLine, startedLine).
	started []int
	// running are the new processes running the manifest's command line at
	// the last check; nil when they cannot be listed.
	running []int
}

// EndpointResult is what one endpoint served.
type EndpointResult struct {
	Endpoint
	// Serials, as `openssl x509 -serial` prints them: the certificate in
	// CertFile, what was served before the restart, and last.
	WantSerial   string `json:"wantSerial"`
	OldSerial    string `json:"oldSerial,omitempty"`
	ServedSerial string `json:"servedSerial,omitempty"`
	// Error is the last handshake's error, when it failed.
	Error string `json:"error,omitempty"`

	want *x509.Certificate
	ok   bool
}

// Restart restarts the affected components one after the other, in the
// order given (Set.Affected returns Order), and waits for each before the
// next. After a failure the rest are skipped: kube-apiserver is not
// restarted while etcd is not back. It returns a result per component and,
// when one did not come back with its new files, an error naming it.
//
// A component that does not come back (a crash loop included: see
// startedLine for why the wait is not cut short) fails, stays owed
// (Pending.Record), and its turn is released as failed: the Lease of
// phases/renew is left to expire, so the next node goes on a minute later.
// The next node is not held back for good by a failed restart: the cause
// may be this node's alone (its kubelet stopped, its disk full), a hold
// would last until someone lifted it, and a node whose certificates
// expired must still be able to restart its components. What keeps a
// renewal that breaks a component on every node from taking the control
// plane down is checked on the cluster's state before each restart, not
// on the turn: that the other etcd members keep a quorum (EtcdQuorum), and
// that another kube-apiserver is ready (APIServers), so the last good one
// is left alone and the run fails, naming the others.
func Restart(ctx context.Context, affected []Affected, o Options) ([]Result, error) {
	if o.Timeout <= 0 {
		o.Timeout = DefaultTimeout
	}
	if o.Poll <= 0 {
		o.Poll = 500 * time.Millisecond
	}
	if o.ProgressEvery <= 0 {
		o.ProgressEvery = 10 * time.Second
	}
	if o.ReadyFor <= 0 {
		o.ReadyFor = 2 * time.Second
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Clock == nil {
		o.Clock = time.Now
	}
	if o.Sleep == nil {
		o.Sleep = Sleep
	}
	o.backupAt = o.Now()
	if o.Out == nil {
		o.Out = io.Discard
	}
	if o.ListenerPID == nil {
		o.ListenerPID = listenerPID
	}
	if o.Processes == nil {
		o.Processes = processesRunning
	}
	var results []Result
	var failed error
	for _, a := range affected {
		r := Result{Component: a.Component, Manifest: a.Path, Files: a.ChangedFiles(), Endpoints: []EndpointResult{}}
		if failed != nil {
			r.Status, r.Message = Skipped, "not restarted: a component before it did not come back"
			fmt.Fprintf(o.Out, "[restart] %s: skipped, because a component before it did not come back\n", a.Component)
			// The process that reads the old files, for the next run; not
			// after a signal, which certctl must obey within a second
			// (interrupt.Grace): each lookup reads /proc/net/tcp, which
			// on a node with many connections took long enough for the
			// watchdog to end certctl before it said what the run left.
			// Without it the next run restarts the component, unable to
			// tell whether it was restarted since.
			if a.Port > 0 && ctx.Err() == nil {
				r.OldPID, _ = o.ListenerPID(a.Host, a.Port)
			}
		} else if err := restartOne(ctx, a, o, &r); err != nil {
			failed = err
		}
		r.WaitedSeconds = r.waited().Seconds()
		results = append(results, r)
		if o.Done != nil {
			o.Done(r)
		}
	}
	return results, failed
}

func restartOne(ctx context.Context, a Affected, o Options, r *Result) error {
	fail := func(err error) error {
		r.Status, r.Message = Failed, err.Error()
		return err
	}
	for _, e := range a.Endpoints {
		want, _, err := pki.ReadCertFile(e.CertFile)
		if err != nil {
			return fail(fmt.Errorf("%s: %w", a.Component, err))
		}
		er := EndpointResult{Endpoint: e, WantSerial: Serial(want), want: want}
		if old, err := served(ctx, e.Address); err == nil {
			er.OldSerial = Serial(old)
		}
		r.Endpoints = append(r.Endpoints, er)
	}
	pidKnown := false
	if a.Port > 0 {
		pid, err := o.ListenerPID(a.Host, a.Port)
		pidKnown, r.OldPID = err == nil, pid
	}
	if pidKnown && restartedSince(ctx, a, o, r) {
		return r.succeed(o.Out, true, "restarted since an earlier run saw it with the old files")
	}
	release := func(bool) {}
	if o.Coordinate != nil {
		var err error
		if release, err = o.Coordinate(ctx, a.Component); err != nil {
			return fail(fmt.Errorf("restart %s: %w", a.Component, err))
		}
	}
	{
		var err error
		if release, err = restartGated(ctx, a, o, release); err != nil {
			return fail(fmt.Errorf("restart %s: %w", a.Component, err))
		}
	}
	readyAt, readyWho, readyClient := readyCheck(ctx, a, o, r)
	// A run interrupted (SIGTERM, SIGINT) before the manifest is changed
	// changes none: the kubelet would restart the component with no one
	// waiting for it, and the Lease, no longer renewed, would let the
	// other nodes go on once it expires. Nothing was restarted: the turn
	// is handed on, and the restart stays owed.
	if err := ctx.Err(); err != nil {
		release(true)
		return fail(fmt.Errorf("restart %s: interrupted (%w) before its manifest %s was changed: not restarted, and the manifest was not changed; run certctl again", a.Component, err, a.Path))
	}
	// The process the restart replaces is the one on the port now: the
	// waits for the turn and for etcd's other members last minutes, and a
	// process started meanwhile (the kubelet's liveness probe) would be
	// taken for the restart at once, which would be reported done, and the
	// turn handed on, before the kubelet even stopped the pod.
	if pidKnown {
		if pid, err := o.ListenerPID(a.Host, a.Port); err == nil {
			r.OldPID = pid
		}
	}
	defer func() { release(r.Status.OK()) }()
	at := o.Now().UTC().Format(time.RFC3339Nano)
	backup, err := annotate(a.Path, at, manifests.BackupDir(a.Path, o.backupAt))
	if err != nil {
		return fail(fmt.Errorf("restart %s: %w", a.Component, err))
	}
	if !pidKnown && len(r.Endpoints) == 0 {
		r.Status = NotVerified
		fmt.Fprintf(o.Out, "[restart] %s: set %s=%s in %s (old one in %s); the kubelet restarts it (not verified: it serves none of the changed certificates and its process cannot be seen)\n", a.Component, RestartAnnotation, at, a.Path, backup)
		return nil
	}
	fmt.Fprintf(o.Out, "[restart] %s: set %s=%s in %s (old one in %s); waiting up to %s for the kubelet to restart it\n", a.Component, RestartAnnotation, at, a.Path, backup, o.Timeout)
	start := o.Clock()
	nextProgress := start.Add(o.ProgressEvery)
	readyWanted := readyAt != ""
	var readySince time.Time // since when /readyz answers ok (o.ReadyFor)
	for {
		restarted := checkOnce(ctx, a, o, r, pidKnown)
		now := o.Clock()
		r.Waited = now.Sub(start)
		back := (restarted || !pidKnown) && failing(r.Endpoints) == nil
		notReady := ""
		if back && readyWanted {
			notReady = readyz(ctx, readyAt, readyClient)
		}
		switch {
		case back && notReady == "" && (!readyWanted || !readySince.IsZero() && now.Sub(readySince) >= o.ReadyFor):
			return r.succeed(o.Out, pidKnown, "")
		case back && notReady == "" && readySince.IsZero():
			readySince = now
		case notReady != "":
			readySince = time.Time{}
		}
		if r.Waited >= o.Timeout {
			// The outcome: measured once (at least Timeout), printed and
			// reported as is.
			switch {
			case back && readyWho == "it":
				return r.notReady(a, notReady)
			case back:
				// etcd is back, serving its new certificate; this node's
				// kube-apiserver, ready before, is not ready again. What
				// keeps it is not etcd's restart to retry: restarting the
				// member again would not make it ready.
				fmt.Fprintf(o.Out, "[restart] %s: %s not ready after %s (%s); the other nodes go on\n", a.Component, readyWho, r.waited(), notReady)
				return r.succeed(o.Out, pidKnown, "")
			}
			return r.timeout(a, r.waited())
		}
		if !now.Before(nextProgress) {
			fmt.Fprintf(o.Out, "[restart] %s: %s (%s of %s)\n", a.Component, waitingFor(a, r, pidKnown, restarted, readyWho, notReady), r.Waited.Round(time.Second), o.Timeout)
			nextProgress = now.Add(o.ProgressEvery)
		}
		if err := o.Sleep(ctx, min(o.Poll, o.Timeout-r.Waited)); err != nil {
			r.Waited = o.Clock().Sub(start)
			return fail(fmt.Errorf("restart %s: stopped waiting: %w; its manifest %s is changed, so the kubelet restarts it anyway", a.Component, err, a.Path))
		}
	}
}

// Sleep waits d, or until ctx ends (its error): the real clock of the
// waits that take a Sleep (Options.Sleep, and renew's and carotate's).
func Sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// readyCheck returns the kube-apiserver that must answer /readyz for
// o.ReadyFor before a's restart counts as back, with Coordinate (the next
// node takes another one down then), and how to name it; "" when none:
// kube-apiserver itself, or for etcd the node's kube-apiserver that uses it
// (o.APIServer), if that one is ready now: one that is not does not come
// back with etcd, and is not waited for. client is what readyz presents to
// a kube-apiserver that refuses anonymous requests (apiServerClient).
func readyCheck(ctx context.Context, a Affected, o Options, r *Result) (addr, who string, client *tls.Certificate) {
	switch {
	case o.Coordinate == nil:
	case a.Component == pki.KubeAPIServer && len(r.Endpoints) > 0:
		return r.Endpoints[0].Address, "it", apiServerClient(filepath.Dir(a.Path))
	case a.Component == pki.Etcd && o.APIServer != "":
		client := apiServerClient(filepath.Dir(a.Path))
		if why := readyz(ctx, o.APIServer, client); why != "" {
			fmt.Fprintf(o.Out, "[restart] etcd: this node's kube-apiserver %s is not ready before the restart (%s): not waited for\n", o.APIServer, why)
			return "", "", nil
		}
		return o.APIServer, "this node's kube-apiserver " + o.APIServer, client
	}
	return "", "", nil
}

// waitingFor says what the wait for a's restart still waits for.
func waitingFor(a Affected, r *Result, pidKnown, restarted bool, readyWho, notReady string) string {
	switch {
	case pidKnown && !restarted && r.NewPID == 0:
		if s := r.exitedLine(a); s != "" {
			return "waiting for the new process: " + s
		}
		if len(r.running) > 0 {
			return fmt.Sprintf("waiting for the new process (pid %d) to listen on port %d", r.running[len(r.running)-1], a.Port)
		}
		return fmt.Sprintf("waiting for the new process: nothing listens on port %d yet", a.Port)
	case pidKnown && !restarted:
		return fmt.Sprintf("waiting for the new process: the old one (pid %d) still listens on port %d", r.NewPID, a.Port)
	}
	switch e := failing(r.Endpoints); {
	case e != nil && e.ServedSerial == "":
		return fmt.Sprintf("waiting for the served certificate: %s %s not reachable (%s)", e.Name, e.Address, e.Error)
	case e != nil:
		return fmt.Sprintf("waiting for the served certificate: %s %s serves serial %s, want %s", e.Name, e.Address, e.ServedSerial, e.WantSerial)
	}
	back := "serving the new certificate"
	if len(r.Endpoints) == 0 {
		back = "restarted"
	}
	if notReady == "" {
		return fmt.Sprintf("%s and %s is ready, making sure it stays ready", back, readyWho)
	}
	return fmt.Sprintf("%s, waiting for %s to be ready: %s", back, readyWho, notReady)
}

// checkOnce updates r with the process on the port and what each endpoint
// serves now; it reports whether the process is a new one.
func checkOnce(ctx context.Context, a Affected, o Options, r *Result, pidKnown bool) bool {
	restarted := false
	if pidKnown {
		if pid, err := o.ListenerPID(a.Host, a.Port); err == nil {
			r.NewPID = pid
			restarted = pid != 0 && pid != r.OldPID
			if restarted && !slices.Contains(r.started, pid) {
				r.started = append(r.started, pid)
			}
		}
		r.Restarted = &restarted
		// A new process that exits before it listens is never on the
		// port: it is seen by its command line while it runs.
		if pids, err := o.Processes(a.command()); err == nil {
			r.running = slices.DeleteFunc(pids, func(p int) bool { return p == r.OldPID })
			for _, p := range r.running {
				if !slices.Contains(r.started, p) {
					r.started = append(r.started, p)
				}
			}
		}
	}
	for i := range r.Endpoints {
		e := &r.Endpoints[i]
		got, err := served(ctx, e.Address)
		if err != nil {
			// Nothing is served now: a serial kept from an earlier
			// handshake (a new process that served for a moment, then
			// exited) made the failure read "still serves the old
			// certificate: serial S, want S".
			e.Error, e.ServedSerial, e.ok = err.Error(), "", false
			continue
		}
		e.Error, e.ServedSerial, e.ok = "", Serial(got), bytes.Equal(got.Raw, e.want.Raw)
	}
	return restarted
}

// failing returns the first endpoint that does not serve the new
// certificate, nil when all do.
func failing(eps []EndpointResult) *EndpointResult {
	for i := range eps {
		if !eps[i].ok {
			return &eps[i]
		}
	}
	return nil
}

// restartedSince reports whether a, which an earlier run saw reading the
// old files as process a.OldPID, was restarted since then: another process
// listens on its port now, and every endpoint serves the file on disk. It
// then leaves r as a verified restart, with no annotation and no wait.
func restartedSince(ctx context.Context, a Affected, o Options, r *Result) bool {
	now := r.OldPID
	if a.OldPID == 0 || now == 0 || now == a.OldPID {
		return false
	}
	r.OldPID = a.OldPID
	if checkOnce(ctx, a, o, r, true) && failing(r.Endpoints) == nil {
		return true
	}
	r.OldPID, r.NewPID, r.Restarted, r.started, r.running = now, 0, nil, nil, nil
	for i := range r.Endpoints {
		r.Endpoints[i].ServedSerial, r.Endpoints[i].Error = "", ""
	}
	return false
}

// succeed records a verified restart and prints it; how, when not "",
// says how it was seen ("restarted since ...").
func (r *Result) succeed(out io.Writer, pidKnown bool, how string) error {
	var parts []string
	switch {
	case how != "":
		parts = append(parts, fmt.Sprintf("%s (pid %d, was %d): not restarted again", how, r.NewPID, r.OldPID))
	case pidKnown:
		parts = append(parts, fmt.Sprintf("restarted (pid %d, was %d)", r.NewPID, r.OldPID))
	default:
		parts = append(parts, "restart not seen (its process cannot be seen)")
	}
	r.Status = Restarted
	if len(r.Endpoints) > 0 {
		r.Status = ServingNew
		var eps []string
		for _, e := range r.Endpoints {
			eps = append(eps, fmt.Sprintf("%s %s serial %s", e.Name, e.Address, e.ServedSerial))
		}
		parts = append(parts, "serving the new certificate: "+strings.Join(eps, ", "))
	}
	fmt.Fprintf(out, "[restart] %s: %s, after %s\n", r.Component, strings.Join(parts, ", "), r.waited())
	return nil
}

// waited is Waited as the lines print it and WaitedSeconds reports it.
func (r *Result) waited() time.Duration { return r.Waited.Round(100 * time.Millisecond) }

// annotate sets RestartAnnotation in the manifest at path with
// manifests.Replace: the old manifest is copied into backupDir, outside the
// manifest folder, and the new one written through a dot-named temporary
// file (which the kubelet ignores), keeping the file's mode. It returns the
// backup's path.
func annotate(path, value, backupDir string) (string, error) {
	data, err := pki.ReadFile(path)
	if err != nil {
		return "", fmt.Errorf("read manifest %s: %w", path, err)
	}
	out, err := manifests.SetAnnotation(data, RestartAnnotation, value)
	if err != nil {
		return "", fmt.Errorf("annotate manifest %s: %w", path, err)
	}
	return manifests.Replace(path, data, out, backupDir)
}
