package e2e

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/certctl/certctl/internal/testcluster"
)

// localEtcdAPIServer is a node's kube-apiserver as kubeadm runs it with stacked etcd: its
// --etcd-servers names its own node's etcd member only (kubeadm writes
// https://127.0.0.1:2379), so that it is not ready while that member restarts. The harness's
// kube-apiserver lists every member and fails over; this one takes its place, with the
// harness's other flags, read from its /proc/PID/cmdline.
type localEtcdAPIServer struct {
	c    *testcluster.Cluster
	bin  string
	args []string
	http *http.Client

	mu   sync.Mutex
	cmd  *exec.Cmd
	done chan struct{}
}

// useLocalEtcd replaces node c's kube-apiserver by a localEtcdAPIServer and waits until it is
// ready. It is stopped when the test ends.
func useLocalEtcd(t *testing.T, ctx context.Context, c *testcluster.Cluster) *localEtcdAPIServer {
	t.Helper()
	cmdline, err := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", c.PID(testcluster.APIServer)))
	if err != nil {
		t.Fatalf("read kube-apiserver's command line: %v", err)
	}
	args := strings.Split(strings.TrimRight(string(cmdline), "\x00"), "\x00")
	s := &localEtcdAPIServer{c: c, bin: args[0]}
	replaced := false
	for _, a := range args[1:] {
		if strings.HasPrefix(a, "--etcd-servers=") {
			a, replaced = "--etcd-servers="+c.URL(testcluster.Etcd), true
		}
		s.args = append(s.args, a)
	}
	if !replaced {
		t.Fatalf("kube-apiserver of %s has no --etcd-servers: %q", c.NodeName(), args)
	}
	if s.http, err = c.HTTPClient("admin.conf"); err != nil {
		t.Fatal(err)
	}
	s.http.Timeout = 5 * time.Second
	if err := c.StopComponent(ctx, testcluster.APIServer); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := s.stop(); err != nil {
			t.Errorf("%s: stop kube-apiserver: %v", c.NodeName(), err)
		}
	})
	if err := s.start(ctx); err != nil {
		t.Fatal(err)
	}
	return s
}

// start starts kube-apiserver, its output appended to the harness's log of it, and waits until
// it answers /readyz.
func (s *localEtcdAPIServer) start(ctx context.Context) error {
	log, err := os.OpenFile(s.c.LogPath(testcluster.APIServer), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return err
	}
	defer log.Close()
	fmt.Fprintf(log, "==== e2e %s: %s %s\n", time.Now().Format(time.RFC3339Nano), s.bin, strings.Join(s.args, " "))
	cmd := exec.Command(s.bin, s.args...)
	cmd.Stdout, cmd.Stderr = log, log
	cmd.Env = []string{"PATH=" + os.Getenv("PATH")}
	// Dies with the test process, as the harness's components do.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("%s: start kube-apiserver: %w", s.c.NodeName(), err)
	}
	done := make(chan struct{})
	go func() { _ = cmd.Wait(); close(done) }()
	s.mu.Lock()
	s.cmd, s.done = cmd, done
	s.mu.Unlock()
	deadline := time.Now().Add(90 * time.Second)
	for {
		err := get(s.http, s.c.URL(testcluster.APIServer)+"/readyz")
		if err == nil {
			return nil
		}
		select {
		case <-done:
			return fmt.Errorf("%s: kube-apiserver exited during start-up; see %s", s.c.NodeName(), s.c.LogPath(testcluster.APIServer))
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(100 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("%s: kube-apiserver not ready after 90s: %v", s.c.NodeName(), err)
		}
	}
}

// stop sends SIGTERM, then SIGKILL after 15 s, and waits for the exit.
func (s *localEtcdAPIServer) stop() error {
	s.mu.Lock()
	cmd, done := s.cmd, s.done
	s.cmd = nil
	s.mu.Unlock()
	if cmd == nil {
		return nil
	}
	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil && !errors.Is(err, os.ErrProcessDone) {
		return err
	}
	select {
	case <-done:
		return nil
	case <-time.After(15 * time.Second):
	}
	_ = cmd.Process.Kill()
	<-done
	return nil
}

// pid returns the running kube-apiserver's process ID, 0 if none.
func (s *localEtcdAPIServer) pid() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.cmd == nil {
		return 0
	}
	return s.cmd.Process.Pid
}

// restart is the fake kubelet's restart of component name on this node: kube-apiserver is
// this one, etcd the harness's.
func (s *localEtcdAPIServer) restart(ctx context.Context, name string) error {
	if name != testcluster.APIServer {
		return s.c.Restart(ctx, name)
	}
	if err := s.stop(); err != nil {
		return err
	}
	return s.start(ctx)
}
