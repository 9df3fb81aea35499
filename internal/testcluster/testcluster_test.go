package testcluster

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

func TestLastLines(t *testing.T) {
	tests := []struct {
		name string
		in   string
		n    int
		want string
	}{
		{"empty", "", 3, ""},
		{"fewer lines than n", "a\nb\n", 3, "a\nb"},
		{"exactly n", "a\nb\nc", 3, "a\nb\nc"},
		{"more than n", "a\nb\nc\nd\n", 2, "c\nd"},
		{"trailing blank lines", "a\nb\n\n\n", 1, "b"},
		{"zero", "a\nb", 0, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := lastLines([]byte(tt.in), tt.n); got != tt.want {
				t.Errorf("lastLines(%q, %d) = %q, want %q", tt.in, tt.n, got, tt.want)
			}
		})
	}
}

func TestTailFileReadsOnlyTheEnd(t *testing.T) {
	path := filepath.Join(t.TempDir(), "big.log")
	var b strings.Builder
	for i := range 50000 {
		b.WriteString("line ")
		b.WriteString(strings.Repeat("x", i%40))
		b.WriteString("\n")
	}
	b.WriteString("second to last\nlast\n")
	if err := os.WriteFile(path, []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	got, err := tailFile(path, 2)
	if err != nil {
		t.Fatal(err)
	}
	if got != "second to last\nlast" {
		t.Errorf("tailFile = %q", got)
	}
	if _, err := tailFile(filepath.Join(t.TempDir(), "none"), 2); err == nil {
		t.Error("tailFile of a missing file: no error")
	}
}

func TestParseProcStat(t *testing.T) {
	// Field 2 may hold spaces and parentheses; start time is field 22.
	line := "4242 (kube (api) server) S 1 4242 4242 0 -1 4194560 100 0 0 0 5 6 0 0 20 0 12 0 987654 123456 789 18446744073709551615"
	state, ticks, err := parseProcStat(line)
	if err != nil || state != "S" || ticks != 987654 {
		t.Errorf("parseProcStat = %q, %d, %v; want S, 987654, nil", state, ticks, err)
	}
	for _, bad := range []string{"", "1 (x) S 1 2", "1 (x) S 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 nan"} {
		if _, _, err := parseProcStat(bad); err == nil {
			t.Errorf("parseProcStat(%q): no error", bad)
		}
	}
	// Our own process is alive; a recorded start time that differs means a reused PID.
	self := os.Getpid()
	_, ticks, err = procStat(self)
	if err != nil {
		t.Fatal(err)
	}
	if !alive(ProcessState{PID: self, StartTicks: ticks}) {
		t.Error("alive(self) = false")
	}
	if alive(ProcessState{PID: self, StartTicks: ticks + 1}) {
		t.Error("alive(self with another start time) = true: a reused PID would be signalled")
	}
}

func TestValidate(t *testing.T) {
	tests := []struct {
		name    string
		opts    Options
		wantErr string
	}{
		{"defaults", Options{Dir: "d"}, ""},
		{"etcd only", Options{Dir: "d", Components: []string{Etcd}}, ""},
		{"etcd and apiserver", Options{Dir: "d", Components: []string{Etcd, APIServer}}, ""},
		{"no dir", Options{}, "Dir is empty"},
		{"apiserver without etcd", Options{Dir: "d", Components: []string{APIServer}}, "prefix"},
		{"wrong order", Options{Dir: "d", Components: []string{Etcd, ControllerManager}}, "prefix"},
		{"extra args for unknown", Options{Dir: "d", ExtraArgs: map[string][]string{"kube-proxy": {"-v=2"}}}, "unknown component"},
		{"scheduler", Options{Dir: "d", Components: []string{Etcd, APIServer, ControllerManager, Scheduler}}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.opts.withDefaults().validate()
			if tt.wantErr == "" && err != nil {
				t.Fatalf("validate: %v", err)
			}
			if tt.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tt.wantErr)) {
				t.Fatalf("validate = %v, want an error with %q", err, tt.wantErr)
			}
		})
	}
}

func TestChildEnvDropsWhatChangesComponents(t *testing.T) {
	got := childEnv([]string{"PATH=/bin", "ETCD_DATA_DIR=/var/lib/etcd", "KUBECONFIG=/x", "HTTPS_PROXY=http://p", "HOME=/root"})
	if want := []string{"PATH=/bin", "HOME=/root"}; !slices.Equal(got, want) {
		t.Errorf("childEnv = %q, want %q", got, want)
	}
}

// TestArgs checks the flags that tie each component to certctl's files, and that ExtraArgs come
// last so that they override.
func TestArgs(t *testing.T) {
	c := &Cluster{
		opts:     Options{Dir: "/c", ExtraArgs: map[string][]string{APIServer: {"--v=4"}}}.withDefaults(),
		port:     map[string]int{Etcd: 1001, etcdPeer: 1002, APIServer: 1003, ControllerManager: 1004},
		nodeName: NodeName,
		host:     Host,
	}
	want := map[string][]string{
		Etcd: {
			"--listen-client-urls=https://127.0.0.1:1001", "--listen-peer-urls=https://127.0.0.1:1002",
			"--cert-file=/c/etc/kubernetes/pki/etcd/server.crt", "--client-cert-auth=true",
			"--trusted-ca-file=/c/etc/kubernetes/pki/etcd/ca.crt", "--peer-cert-file=/c/etc/kubernetes/pki/etcd/peer.crt",
			"--peer-client-cert-auth=true",
		},
		APIServer: {
			"--secure-port=1003", "--etcd-servers=https://127.0.0.1:1001", "--endpoint-reconciler-type=none",
			"--etcd-certfile=/c/etc/kubernetes/pki/apiserver-etcd-client.crt", "--client-ca-file=/c/etc/kubernetes/pki/ca.crt",
			"--requestheader-client-ca-file=/c/etc/kubernetes/pki/front-proxy-ca.crt", "--requestheader-allowed-names=front-proxy-client",
			"--proxy-client-cert-file=/c/etc/kubernetes/pki/front-proxy-client.crt", "--service-account-key-file=/c/etc/kubernetes/pki/sa.pub",
			"--service-account-signing-key-file=/c/etc/kubernetes/pki/sa.key", "--tls-cert-file=/c/etc/kubernetes/pki/apiserver.crt",
			"--authorization-mode=Node,RBAC",
		},
		ControllerManager: {
			"--kubeconfig=/c/etc/kubernetes/controller-manager.conf", "--secure-port=1004",
			"--cluster-signing-cert-file=/c/etc/kubernetes/pki/ca.crt", "--cluster-signing-key-file=/c/etc/kubernetes/pki/ca.key",
			"--controllers=csrsigning,csrapproving,csrcleaner,root-ca-cert-publisher", "--use-service-account-credentials=true", "--leader-elect=false",
		},
	}
	for name, flags := range want {
		args := c.args(name)
		for _, f := range flags {
			if !slices.Contains(args, f) {
				t.Errorf("%s: no %s in %q", name, f, args)
			}
		}
	}
	if args := c.args(APIServer); args[len(args)-1] != "--v=4" {
		t.Errorf("ExtraArgs are not last: %q", args)
	}
}

// TestArgsHA checks the flags that make one node of NewHA part of the others' cluster.
func TestArgsHA(t *testing.T) {
	c := &Cluster{
		opts:        Options{Dir: "/c", Nodes: 3}.withDefaults(),
		port:        map[string]int{Etcd: 1001, etcdPeer: 1002, APIServer: 1003, ControllerManager: 1004, Scheduler: 1005},
		nodeName:    "cp-2",
		host:        "127.0.0.2",
		etcdCluster: "cp-1=https://127.0.0.1:2,cp-2=https://127.0.0.2:1002",
		etcdServers: "https://127.0.0.2:1001,https://127.0.0.1:1",
	}
	if !slices.Equal(c.opts.Components, componentOrder) {
		t.Errorf("components with Nodes 3: %q, want %q", c.opts.Components, componentOrder)
	}
	want := map[string][]string{
		Etcd:              {"--name=cp-2", "--listen-peer-urls=https://127.0.0.2:1002", "--initial-cluster=cp-1=https://127.0.0.1:2,cp-2=https://127.0.0.2:1002"},
		APIServer:         {"--advertise-address=127.0.0.2", "--bind-address=127.0.0.2", "--etcd-servers=https://127.0.0.2:1001,https://127.0.0.1:1"},
		ControllerManager: {"--bind-address=127.0.0.2", "--leader-elect=true"},
		Scheduler:         {"--kubeconfig=/c/etc/kubernetes/scheduler.conf", "--bind-address=127.0.0.2", "--secure-port=1005", "--leader-elect=true"},
	}
	for name, flags := range want {
		args := c.args(name)
		for _, f := range flags {
			if !slices.Contains(args, f) {
				t.Errorf("%s: no %s in %q", name, f, args)
			}
		}
	}
}

func TestNewHANeedsTwoNodes(t *testing.T) {
	if _, err := NewHA(Options{Dir: t.TempDir(), Nodes: 1}); err == nil || !strings.Contains(err.Error(), "Nodes >= 2") {
		t.Errorf("NewHA with 1 node: %v, want an error", err)
	}
}

func TestBinDirSaysHowToBuild(t *testing.T) {
	dir := t.TempDir()
	_, err := BinDir(dir, "kube-apiserver")
	if err == nil || !strings.Contains(err.Error(), "make kube-binaries") {
		t.Fatalf("BinDir of an empty folder = %v, want an error naming `make kube-binaries`", err)
	}
	if err := os.WriteFile(filepath.Join(dir, "kube-apiserver"), []byte("#!/bin/sh\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	if got, err := BinDir(dir, "kube-apiserver"); err != nil || got != dir {
		t.Fatalf("BinDir = %q, %v; want %q", got, err, dir)
	}
}

// TestProcessStopAndState runs sleep(1) as a component: stop ends it by PID with SIGTERM, and a
// State records it so that StopState can end it from another program.
func TestProcessStopAndState(t *testing.T) {
	sleep, err := exec.LookPath("sleep")
	if err != nil {
		t.Fatalf("find sleep: %v", err)
	}
	log := filepath.Join(t.TempDir(), "sleep.log")
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()

	p, err := startProcess("sleep", sleep, []string{"600"}, log, false)
	if err != nil {
		t.Fatal(err)
	}
	if done, _ := p.exited(); done {
		t.Fatal("sleep exited at once")
	}
	if err := p.stop(ctx, 5*time.Second); err != nil {
		t.Fatalf("stop: %v", err)
	}
	if done, _ := p.exited(); !done {
		t.Fatal("sleep still runs after stop")
	}
	if err := p.stop(ctx, time.Second); err != nil {
		t.Errorf("second stop: %v", err)
	}

	// A process that exits by itself is reported by stop, as a crash would be.
	p, err = startProcess("sleep0", sleep, []string{"0"}, log, false)
	if err != nil {
		t.Fatal(err)
	}
	<-p.done
	if err := p.stop(ctx, time.Second); err == nil || !strings.Contains(err.Error(), "exited by itself") {
		t.Errorf("stop of an exited process = %v, want an error", err)
	}

	// StopState, by recorded PID and start time.
	p, err = startProcess("sleep", sleep, []string{"600"}, log, false)
	if err != nil {
		t.Fatal(err)
	}
	statePath := filepath.Join(t.TempDir(), "state.json")
	st := State{Dir: "x", Processes: []ProcessState{{Name: "sleep", PID: p.PID, StartTicks: p.StartTicks, Log: log}}}
	if err := WriteState(statePath, st); err != nil {
		t.Fatal(err)
	}
	read, err := ReadState(statePath)
	if err != nil {
		t.Fatal(err)
	}
	if len(read.Running()) != 1 {
		t.Fatalf("Running() = %v, want the sleep", read.Running())
	}
	if err := StopState(ctx, read, 5*time.Second); err != nil {
		t.Fatalf("StopState: %v", err)
	}
	select {
	case <-p.done:
	case <-ctx.Done():
		t.Fatal("sleep still runs after StopState")
	}
	if data, _ := os.ReadFile(log); !strings.Contains(string(data), "==== testcluster") {
		t.Errorf("log has no start line: %q", data)
	}
}
