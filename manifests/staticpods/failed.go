package staticpods

import (
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"
)

// timeout sets the status and message of a component whose wait ended
// after d.
func (r *Result) timeout(a Affected, d time.Duration) error {
	hint := fmt.Sprintf("check that the kubelet runs and picked up %s (journalctl -u kubelet; crictl ps --name %s)", a.Path, a.Component)
	switch s := r.startedLine(a); {
	case s != "":
		hint = s
	case r.Restarted != nil && r.NewPID == 0:
		// A component that exits as it starts (a file it reads refused, a
		// flag it no longer takes) never listens: unless a check saw its
		// process run (Options.Processes), which startedLine says, its
		// crash loop is seen only as nothing on the port.
		hint = fmt.Sprintf("check that the kubelet runs and picked up %s (journalctl -u kubelet), and whether %s exits as it starts (crictl ps -a --name %s shows its restarts; crictl logs CONTAINER)", a.Path, a.Component, a.Component)
	}
	switch e := failing(r.Endpoints); {
	case e != nil && e.ServedSerial == "":
		r.Status, r.Message = Unreachable, fmt.Sprintf("%s is not reachable on its %s %s after %s (%s): %s", a.Component, e.Name, e.Address, d, e.Error, hint)
	case e != nil:
		r.Status, r.Message = ServingOld, fmt.Sprintf("%s still serves the old certificate on its %s %s after %s: serial %s, want %s from %s; %s", a.Component, e.Name, e.Address, d, e.ServedSerial, e.WantSerial, e.CertFile, hint)
	case r.NewPID == 0:
		r.Status, r.Message = NotRestarted, fmt.Sprintf("%s is not running: nothing listens on port %d after %s; %s", a.Component, a.Port, d, hint)
	default:
		r.Status, r.Message = NotRestarted, fmt.Sprintf("%s was not restarted: the same process (pid %d) listens on port %d after %s, with the old client certificates; %s", a.Component, r.NewPID, a.Port, d, hint)
	}
	return errors.New(r.Message)
}

// notReady fails the restart of kube-apiserver a, which is a new process
// serving its new certificate but whose /readyz still fails (why) when the
// wait ends. It counted as restarted, and cron's run exited 0 with the
// restart no longer owed: a kube-apiserver that the renewal left unable to
// serve (its etcd client certificate refused, say) went unnoticed, and the
// Lease was freed for the next node to take its own down. Now the run
// fails (exit 1), the Lease is left to expire, and the restart stays owed:
// the next run restarts it again and waits for it to be ready, as the
// process seen is a new one with the new files, which restartedSince would
// take for a restart made since and drop (Pending.Record).
func (r *Result) notReady(a Affected, why string) error {
	r.Status = NotReady
	hint := fmt.Sprintf("find out why it is not ready (crictl ps -a --name %s; crictl logs CONTAINER)", a.Component)
	if s := r.startedLine(a); s != "" {
		hint = s
	}
	r.Message = fmt.Sprintf("%s serves its new certificate (pid %d, was %d) but is not ready after %s (%s): the restart stays owed and the next run restarts it again; %s",
		a.Component, r.NewPID, r.OldPID, r.waited(), why, hint)
	return errors.New(r.Message)
}

// startedLine says, for a failed wait, that a's new process kept exiting:
// a new process seen (on its port, or running its manifest's command line)
// is gone.
// "" otherwise. The wait does not end early for it: the kubelet restarts
// a container that exits (after 10 s, doubling: its CrashLoopBackOff), a
// kube-controller-manager or kube-scheduler exits by design when it loses
// its leader lease while a kube-apiserver restarts, and a kube-apiserver
// may exit once while its etcd comes back, so an exit is no proof that
// waiting is vain; and ending early would only hand the Lease on sooner,
// to a node whose restart the gates (EtcdQuorum, APIServers) must then
// stop. What certctl cannot see is the kubelet's own account (the mirror
// pod's restartCount and CrashLoopBackOff, in the API that may be the one
// restarting): the line sends the SRE to it.
func (r *Result) startedLine(a Affected) string {
	if len(r.exited()) == 0 {
		return ""
	}
	running := r.alive(r.started[len(r.started)-1])
	pids := make([]string, len(r.started))
	for i, p := range r.started {
		pids[i] = strconv.Itoa(p)
	}
	what := fmt.Sprintf("%d new processes started meanwhile (pid %s), and none of them runs now", len(r.started), strings.Join(pids, ", "))
	switch {
	case len(r.started) == 1:
		what = fmt.Sprintf("a new process started meanwhile (pid %s) and exited", pids[0])
	case running:
		what = fmt.Sprintf("%d new processes started meanwhile (pid %s), and only the last one runs now", len(r.started), strings.Join(pids, ", "))
	}
	return fmt.Sprintf("it keeps exiting: %s: see why in its log (crictl ps -a --name %s shows its restarts; crictl logs CONTAINER)", what, a.Component)
}

// exitedLine says, while the wait goes on, that a's new processes exited,
// with their pids, one that exits before it listens included, which only
// Options.Processes sees: the wait goes on (see
// startedLine), and the kubelet starts it again after its back-off, but the
// SRE can look now rather than when the wait ends. "" when none exited or
// the last one started runs.
func (r *Result) exitedLine(a Affected) string {
	exited := r.exited()
	if len(exited) == 0 || r.alive(r.started[len(r.started)-1]) {
		return ""
	}
	pids := make([]string, len(exited))
	for i, p := range exited {
		pids[i] = strconv.Itoa(p)
	}
	return fmt.Sprintf("pid %s exited after the restart, and nothing listens on port %d; the kubelet starts it again after its back-off: see why in its log (crictl ps -a --name %s; crictl logs CONTAINER)", strings.Join(pids, ", "), a.Port, a.Component)
}

// exited returns the new processes seen that no longer run: neither on the
// port nor, where the processes can be listed, among them.
func (r *Result) exited() []int {
	var gone []int
	for _, p := range r.started {
		if !r.alive(p) {
			gone = append(gone, p)
		}
	}
	return gone
}

// alive reports whether new process pid ran at the last check: on the port,
// or among the processes running the manifest's command line.
func (r *Result) alive(pid int) bool {
	return pid == r.NewPID || slices.Contains(r.running, pid)
}
