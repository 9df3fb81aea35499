package staticpods

import (
	"bytes"
	"context"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/certctl/certctl/internal/treetest"
	"github.com/certctl/certctl/pki"
)

// TestPendingRoundTrip: what is owed survives a save and a load, in Order;
// a failure keeps its reason and the first process seen with the old
// files; a verified restart is forgotten, and the file goes with the last.
func TestPendingRoundTrip(t *testing.T) {
	set, err := Load(kubeadmDir(t))
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), PendingFileName)
	p, err := LoadPending(path)
	if err != nil || p.Len() != 0 {
		t.Fatalf("no file: %v, %d owed", err, p.Len())
	}
	if err := p.Save(); err != nil {
		t.Fatalf("save with nothing owed and no file: %v", err)
	}
	now := time.Date(2026, 3, 1, 10, 0, 0, 0, time.UTC)
	affected := set.Affected([]string{"/etc/kubernetes/scheduler.conf", "/etc/kubernetes/pki/etcd/server.crt"})
	p.Owe(affected[1], now) // kube-scheduler first: the file keeps Order anyway
	p.Owe(affected[0], now)
	p.Owe(set.Affected([]string{"/etc/kubernetes/pki/etcd/peer.crt"})[0], now.Add(time.Hour))
	if err := p.Save(); err != nil {
		t.Fatal(err)
	}
	if st, err := os.Stat(path); err != nil || st.Mode().Perm() != 0o600 {
		t.Fatalf("file: %v, %v", st, err)
	}
	q, err := LoadPending(path)
	if err != nil {
		t.Fatal(err)
	}
	if got := []string{q.Components[0].Component, q.Components[1].Component}; !slices.Equal(got, []string{pki.Etcd, pki.KubeScheduler}) {
		t.Fatalf("components %q", got)
	}
	etcd := q.Get(pki.Etcd)
	if !etcd.Since.Equal(now) || !slices.Equal(etcd.Files, []string{"/etc/kubernetes/pki/etcd/server.crt", "/etc/kubernetes/pki/etcd/peer.crt"}) || etcd.Manifest != affected[0].Path {
		t.Errorf("etcd owed %+v", etcd)
	}
	q.Record(Result{Component: pki.Etcd, Status: Unreachable, Message: "etcd is not reachable", OldPID: 1022})
	q.Record(Result{Component: pki.Etcd, Status: NotRestarted, Message: "etcd was not restarted", OldPID: 5000})
	q.Record(Result{Component: pki.KubeScheduler, Status: Restarted})
	if err := q.Save(); err != nil {
		t.Fatal(err)
	}
	r, err := LoadPending(path)
	if err != nil {
		t.Fatal(err)
	}
	if r.Len() != 1 || r.Get(pki.Etcd).OldPID != 1022 || r.Get(pki.Etcd).Reason != "etcd was not restarted" {
		t.Errorf("after the restarts: %+v", r.Components)
	}
	r.Record(Result{Component: pki.Etcd, Status: ServingNew})
	if err := r.Save(); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(path); !os.IsNotExist(err) {
		t.Errorf("the file stays with nothing owed: %v", err)
	}
	os.WriteFile(path, []byte("{not json"), 0o600)
	_, err = LoadPending(path)
	treetest.ErrMentions(t, err, path, "remove the file")
}

// TestAffectedWithPending: a component owed a restart is restarted with the
// new ones, for its owed files only; an owed component whose manifest is
// gone is dropped, for the caller to report.
func TestAffectedWithPending(t *testing.T) {
	dir := kubeadmDir(t)
	os.Remove(filepath.Join(dir, "kube-controller-manager.yaml"))
	set, err := Load(dir)
	if err != nil {
		t.Fatal(err)
	}
	p, _ := LoadPending(filepath.Join(t.TempDir(), PendingFileName))
	p.Components = []PendingComponent{
		{Component: pki.Etcd, Files: []string{"/etc/kubernetes/pki/etcd/server.crt"}, OldPID: 1022},
		{Component: pki.KubeControllerManager, Files: []string{"/etc/kubernetes/controller-manager.conf"}},
	}
	affected, dropped := set.AffectedWithPending([]string{"/etc/kubernetes/scheduler.conf"}, p)
	var names []string
	for _, a := range affected {
		names = append(names, a.Component)
	}
	if !slices.Equal(names, []string{pki.Etcd, pki.KubeScheduler}) {
		t.Fatalf("affected %q, want etcd (owed) and kube-scheduler (changed)", names)
	}
	if affected[0].OldPID != 1022 || !slices.Equal(affected[0].ChangedFiles(), []string{"/etc/kubernetes/pki/etcd/server.crt"}) || len(affected[0].Endpoints) != 1 {
		t.Errorf("etcd: %+v", affected[0])
	}
	if affected[1].OldPID != 0 {
		t.Errorf("kube-scheduler has an old PID: %d", affected[1].OldPID)
	}
	if len(dropped) != 1 || dropped[0].Component != pki.KubeControllerManager {
		t.Errorf("dropped %+v", dropped)
	}
	// Renewed again: the process seen before the first renewal may have
	// been restarted since, but not since this one.
	affected, _ = set.AffectedWithPending([]string{"/etc/kubernetes/pki/etcd/peer.crt"}, p)
	if affected[0].Component != pki.Etcd || affected[0].OldPID != 0 || len(affected[0].ChangedFiles()) != 2 {
		t.Errorf("etcd renewed again: %+v", affected[0])
	}
	p.Owe(affected[0], time.Now())
	if p.Get(pki.Etcd).OldPID != 0 {
		t.Errorf("the old PID stays after a new renewal: %d", p.Get(pki.Etcd).OldPID)
	}
}

// TestRestartedSince: a component an earlier run saw with the old files
// (OldPID) that another process now serves with the files on disk was
// restarted since: it is verified without being restarted again. When the
// process is the same, it is restarted as usual. Done sees every result,
// and a skipped component's process is recorded.
func TestRestartedSince(t *testing.T) {
	newCert := newCert(t, 2002)
	n := newNode(t, newCert) // serves the certificate on disk already
	set, err := Load(n.manifestDir)
	if err != nil {
		t.Fatal(err)
	}
	manifest := filepath.Join(n.manifestDir, "kube-apiserver.yaml")
	before, _ := os.ReadFile(manifest)
	_, portText, _ := net.SplitHostPort(n.srv.addr)
	port, _ := strconv.Atoi(portText)
	k := &kubelet{pids: map[int]int{port: 200, 10259: 300}}
	affected := set.Affected([]string{filepath.Join(n.certDir, "apiserver.crt"), "/etc/kubernetes/scheduler.conf"})
	affected[0].OldPID = 100
	var out bytes.Buffer
	var done []Result
	o := Options{Timeout: 300 * time.Millisecond, Poll: 20 * time.Millisecond, Now: fixedNow, Out: &out, ListenerPID: k.listenerPID,
		Done: func(r Result) { done = append(done, r) }}
	// kube-scheduler still runs its old process: it is restarted, and,
	// with no kubelet here, fails.
	results, err := Restart(context.Background(), affected, o)
	if results[0].Status != ServingNew || results[0].OldPID != 100 || results[0].NewPID != 200 || results[0].Restarted == nil || !*results[0].Restarted {
		t.Errorf("kube-apiserver: %+v\n%s", results[0], out.String())
	}
	if after, _ := os.ReadFile(manifest); !bytes.Equal(before, after) {
		t.Error("kube-apiserver, restarted since, was restarted again")
	}
	if !bytes.Contains(out.Bytes(), []byte("kube-apiserver: restarted since an earlier run saw it with the old files (pid 200, was 100): not restarted again")) {
		t.Errorf("output:\n%s", out.String())
	}
	if err == nil || results[1].Status != NotRestarted || len(done) != 2 || done[1].Component != pki.KubeScheduler {
		t.Errorf("kube-scheduler: %v, %+v, done %d", err, results[1], len(done))
	}
	// The same process as the earlier run saw: restarted as usual.
	affected[0].OldPID = 200
	affected = affected[:1]
	results, _ = Restart(context.Background(), append(affected, affected...), o)
	if after, _ := os.ReadFile(manifest); bytes.Equal(before, after) || results[0].Status != NotRestarted {
		t.Errorf("same process: %+v", results[0])
	}
	if results[1].Status != Skipped || results[1].OldPID != 200 {
		t.Errorf("skipped: %+v, want its process (200) recorded", results[1])
	}
}

// TestLoadPendingFIFO: a FIFO in place of the file of owed restarts is
// refused at once, naming it, as every file certctl reads; os.ReadFile
// waited for a writer, and renew hung until it was killed.
func TestLoadPendingFIFO(t *testing.T) {
	path := filepath.Join(t.TempDir(), PendingFileName)
	if err := syscall.Mkfifo(path, 0o600); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { _, err := LoadPending(path); done <- err }()
	select {
	case err := <-done:
		if err == nil || !strings.Contains(err.Error(), path) || !strings.Contains(err.Error(), "FIFO") {
			t.Errorf("LoadPending of a FIFO: %v, want an error naming it", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("LoadPending blocked on a FIFO")
	}
}
