package testcluster

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/util/wait"

	"github.com/certctl/certctl/manifests"
)

// KubeletPollInterval is how often the harness Kubelet reads each manifest. The kubelet watches
// its static pod folder with inotify and acts within about a second; polling keeps this simple.
const KubeletPollInterval = 100 * time.Millisecond

// kubeletBackoff is the first wait before the Kubelet starts a component again whose restart
// failed while its manifest stays the same; it doubles up to kubeletMaxBackoff, as the
// kubelet's CrashLoopBackOff does (10s, doubling, at most 5 min).
const (
	kubeletBackoff    = 10 * time.Second
	kubeletMaxBackoff = 5 * time.Minute
)

// Kubelet runs a node's components from the static pod manifests in ManifestDir, as the kubelet
// runs static pods: when a manifest's pod changes (the kubelet compares a hash of the decoded
// pod, so a comment or whitespace edit changes nothing), it restarts that component with the
// manifest's command line, so a flag certctl edits takes effect. See StartKubelet.
type Kubelet struct {
	c      *Cluster
	cancel context.CancelFunc
	wg     sync.WaitGroup

	mu     sync.Mutex
	events []KubeletEvent
}

// KubeletEvent is one thing the Kubelet did or refused to do.
type KubeletEvent struct {
	At        time.Time
	Component string
	// Action is "restarted" (its pod changed: stopped, started with the manifest's flags, healthy;
	// or started again after a crash), "crashed" (its process exited by itself; Err says how),
	// "stopped" (its manifest was removed), "rejected" (the manifest is not a pod the Kubelet can
	// run; the component keeps running as it was) or "failed" (the restart failed; Err says why).
	Action string
	PID    int   // the new process after "restarted"
	Err    error // why, for "rejected" and "failed"
}

func (e KubeletEvent) String() string {
	s := fmt.Sprintf("%s %s %s", e.At.Format("15:04:05.000"), e.Component, e.Action)
	if e.PID != 0 {
		s += fmt.Sprintf(" (pid %d)", e.PID)
	}
	if e.Err != nil {
		s += ": " + e.Err.Error()
	}
	return s
}

// podState is what the Kubelet knows of one component's manifest.
type podState struct {
	name    string
	hash    string // of the pod last run; "" when none (not read yet, or removed)
	badHash string // of the file content last rejected, to report it once
	retryAt time.Time
	backoff time.Duration
	// lastCrash is when the component last exited by itself; zero if never.
	lastCrash time.Time
}

// StartKubelet writes the manifests that do not exist yet (WriteManifests), reads each, and from
// then on runs the components as the manifests say, until ctx ends or Stop (or the cluster's
// Stop) is called:
//   - at start, a component whose running flags differ from its manifest's is restarted;
//   - when a manifest's pod changes, that component is stopped and started with the manifest's
//     command (its paths mapped to the host through the pod's hostPath volumes) and waited for
//     until healthy; later starts (Restart, StartComponent) use these flags too;
//   - a removed manifest stops its component; a manifest put back starts it;
//   - a manifest that does not parse, has no container for its component, or runs another
//     binary is rejected (an event, and a log line): the component keeps running;
//   - a restart that fails is retried, while the manifest stays the same, after 10 s, then
//     doubling up to 5 min;
//   - a component whose process exits by itself (kube-controller-manager and kube-scheduler
//     exit when they lose their leader lease, e.g. while their kube-apiserver restarts) is
//     started again, at once the first time, then after 10 s doubling up to 5 min while it keeps
//     crashing within 5 min, as the kubelet restarts a static pod's container.
//
// Only the files NAME.yaml of the cluster's components are read (the kubelet also ignores
// dot-files, where certctl stages its writes). Do not restart components by other means while
// a Kubelet runs: the two would race.
func (c *Cluster) StartKubelet(ctx context.Context) (*Kubelet, error) {
	if err := c.writeManifests(true); err != nil {
		return nil, err
	}
	ctx, cancel := context.WithCancel(ctx)
	k := &Kubelet{c: c, cancel: cancel}
	var states []*podState
	for _, name := range c.opts.Components {
		st := &podState{name: name}
		k.sync(ctx, st, true)
		states = append(states, st)
	}
	for _, st := range states {
		k.wg.Go(func() { every(ctx, KubeletPollInterval, false, func() { k.sync(ctx, st, false) }) })
	}
	c.mu.Lock()
	c.kubelets = append(c.kubelets, k)
	c.mu.Unlock()
	return k, nil
}

// StartKubelets starts a Kubelet on every node (see Cluster.StartKubelet).
func (h *HA) StartKubelets(ctx context.Context) ([]*Kubelet, error) {
	var ks []*Kubelet
	for _, c := range h.Nodes {
		k, err := c.StartKubelet(ctx)
		if err != nil {
			for _, k := range ks {
				k.Stop()
			}
			return nil, fmt.Errorf("%s: %w", c.nodeName, err)
		}
		ks = append(ks, k)
	}
	return ks, nil
}

// Stop stops watching and waits for a restart under way to end (a canceled restart kills the
// process at once and does not wait for it to be healthy). The components keep running.
func (k *Kubelet) Stop() {
	k.cancel()
	k.wg.Wait()
}

// Events returns what the Kubelet did, in order.
func (k *Kubelet) Events() []KubeletEvent {
	k.mu.Lock()
	defer k.mu.Unlock()
	return slices.Clone(k.events)
}

// Restarts returns how many times the Kubelet restarted component name.
func (k *Kubelet) Restarts(name string) int {
	n := 0
	for _, e := range k.Events() {
		if e.Component == name && e.Action == "restarted" {
			n++
		}
	}
	return n
}

func (k *Kubelet) record(e KubeletEvent) {
	e.At = time.Now()
	k.mu.Lock()
	k.events = append(k.events, e)
	k.mu.Unlock()
	k.c.opts.Logf("testcluster: kubelet: %s", e)
}

// every calls f every d until ctx ends: at once when now is set, else first after d. A call that
// takes longer than d delays the next.
func every(ctx context.Context, d time.Duration, now bool, f func()) {
	_ = wait.PollUntilContextCancel(ctx, d, now, func(context.Context) (bool, error) {
		f()
		return false, nil
	})
}

// sync reads st's manifest and acts on a change. initial is the first read at StartKubelet: the
// component is restarted then only if it runs with other flags than the manifest's.
func (k *Kubelet) sync(ctx context.Context, st *podState, initial bool) {
	c := k.c
	path := c.ManifestPath(st.name)
	data, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		if st.hash != "" {
			st.hash, st.retryAt = "", time.Time{}
			if err := c.StopComponent(ctx, st.name); err != nil {
				k.record(KubeletEvent{Component: st.name, Action: "failed", Err: fmt.Errorf("stop after %s was removed: %w", path, err)})
				return
			}
			k.record(KubeletEvent{Component: st.name, Action: "stopped"})
		}
		return
	}
	if err != nil {
		k.reject(st, []byte(err.Error()), fmt.Errorf("read manifest %s: %w", path, err))
		return
	}
	pod, args, err := podCommand(data, st.name)
	if err != nil {
		k.reject(st, data, fmt.Errorf("manifest %s: %w", path, err))
		k.keepRunning(ctx, st)
		return
	}
	st.badHash = ""
	hash, err := podHash(pod)
	if err != nil {
		k.reject(st, data, fmt.Errorf("manifest %s: %w", path, err))
		return
	}
	if hash == st.hash {
		k.keepRunning(ctx, st)
		return
	}
	st.hash, st.retryAt, st.backoff = hash, time.Time{}, 0
	c.setManifestArgs(st.name, args)
	if initial {
		if p := c.proc(st.name); p == nil || slices.Equal(p.args, args) {
			return
		}
	}
	k.restart(ctx, st)
}

// keepRunning keeps the pod last run going while its manifest stays the same (or cannot be read):
// it retries a failed restart when its backoff has passed, and starts a crashed component again.
func (k *Kubelet) keepRunning(ctx context.Context, st *podState) {
	if st.hash == "" {
		return // nothing run yet, or its manifest was removed
	}
	switch {
	case !st.retryAt.IsZero():
		if time.Now().After(st.retryAt) {
			k.restart(ctx, st)
		}
	case k.c.crashed(st.name):
		k.record(KubeletEvent{Component: st.name, Action: "crashed", Err: k.c.StopComponent(ctx, st.name)})
		// The kubelet restarts a crashed container at once the first time, then backs off.
		if time.Since(st.lastCrash) < kubeletMaxBackoff {
			st.backoff = min(max(2*st.backoff, kubeletBackoff), kubeletMaxBackoff)
			st.retryAt = time.Now().Add(st.backoff)
		} else {
			st.backoff = 0
			k.restart(ctx, st)
		}
		st.lastCrash = time.Now()
	}
}

func (k *Kubelet) restart(ctx context.Context, st *podState) {
	// A component that exited by itself just before (kube-controller-manager and kube-scheduler exit
	// when they lose their leader Lease while kube-apiserver restarts) crashed, as the real kubelet
	// would see it; the new pod starts all the same, which is not a failed restart.
	if k.c.crashed(st.name) {
		k.record(KubeletEvent{Component: st.name, Action: "crashed", Err: k.c.StopComponent(ctx, st.name)})
	}
	if err := k.c.Restart(ctx, st.name); err != nil {
		if ctx.Err() != nil {
			return // stopping
		}
		st.backoff = min(max(2*st.backoff, kubeletBackoff), kubeletMaxBackoff)
		st.retryAt = time.Now().Add(st.backoff)
		k.record(KubeletEvent{Component: st.name, Action: "failed", Err: fmt.Errorf("%w; retrying in %v", err, st.backoff)})
		return
	}
	st.retryAt = time.Time{}
	if st.lastCrash.IsZero() {
		st.backoff = 0
	}
	k.record(KubeletEvent{Component: st.name, Action: "restarted", PID: k.c.PID(st.name)})
}

// reject reports a manifest the Kubelet cannot run, once per content.
func (k *Kubelet) reject(st *podState, data []byte, err error) {
	sum := sha256.Sum256(data)
	h := hex.EncodeToString(sum[:])
	if h == st.badHash {
		return
	}
	st.badHash = h
	k.record(KubeletEvent{Component: st.name, Action: "rejected", Err: fmt.Errorf("%w; %s keeps running as it was", err, st.name)})
}

// podCommand decodes a manifest (strictly, with the project's manifests package) and returns
// the pod and the flags of component name's container: its command after the binary, then its
// args, with paths mapped to the host through the pod's hostPath mounts.
func podCommand(data []byte, name string) (*corev1.Pod, []string, error) {
	pod, err := manifests.Parse(data)
	if err != nil {
		return nil, nil, err
	}
	ctr, err := manifests.FindComponent(pod, name)
	if err != nil {
		return nil, nil, fmt.Errorf("find container %s: %w", name, err)
	}
	if len(ctr.Command) == 0 {
		return nil, nil, fmt.Errorf("container %s has no command; the harness runs the command's binary", name)
	}
	if bin := filepath.Base(ctr.Command[0]); bin != name {
		return nil, nil, fmt.Errorf("container %s runs %q, want %s", name, ctr.Command[0], name)
	}
	args := append(slices.Clone(ctr.Command[1:]), ctr.Args...)
	return pod, hostArgs(args, func(p string) (string, bool) { return manifests.HostPath(pod, ctr, p) }), nil
}

// podHash identifies a pod as the kubelet does a static pod (its UID is a hash of the decoded
// pod, pkg/kubelet/config/common.go): any change to the pod counts, formatting does not.
func podHash(pod *corev1.Pod) (string, error) {
	data, err := json.Marshal(pod)
	if err != nil {
		return "", fmt.Errorf("encode pod: %w", err)
	}
	sum := sha256.Sum256(data)
	return hex.EncodeToString(sum[:]), nil
}

// crashed reports whether component name's process exited without the harness stopping it.
func (c *Cluster) crashed(name string) bool {
	p := c.proc(name)
	if p == nil || p.stopping.Load() {
		return false
	}
	done, _ := p.exited()
	return done
}

// stopKubelets stops every Kubelet StartKubelet started on c.
func (c *Cluster) stopKubelets() {
	c.mu.Lock()
	ks := c.kubelets
	c.kubelets = nil
	c.mu.Unlock()
	for _, k := range ks {
		k.Stop()
	}
}
