// Command testcluster starts and stops a local control plane on certctl's PKI, for trying
// certctl by hand. It is what `make cluster-up` and `make cluster-down` run.
//
//	testcluster up   [-dir DIR] [-nodes N]  write the PKI with certctl, start etcd, kube-apiserver and
//	                                        kube-controller-manager (and with N >= 2 kube-scheduler)
//	                                        on each of N nodes, detached; record the PIDs in DIR/state.json
//	testcluster down [-dir DIR]             stop the processes recorded in DIR/state.json
//	testcluster status [-dir DIR]           show whether they run
//
// DIR defaults to REPO/_output/cluster. The binaries come from $KUBE_BIN_DIR and $CERTCTL_BIN, as
// for the tests (see internal/testcluster).
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/signal"
	"path/filepath"
	"slices"
	"syscall"
	"time"

	"github.com/certctl/certctl/internal/testcluster"
)

const usage = `usage: testcluster up|down|status [-dir DIR] [-nodes N]

  up      write a PKI with certctl into DIR and start etcd, kube-apiserver and
          kube-controller-manager on it, detached; prints the KUBECONFIG to use.
          With -nodes N (N >= 2): N nodes cp-1..cp-N on 127.0.0.1..N, each in
          DIR/cp-I with its own PKI, one etcd cluster, kube-scheduler too
  down    stop the components recorded in DIR/state.json
  status  show whether they run

DIR defaults to REPO/_output/cluster.
`

func main() {
	if err := run(os.Args[1:], os.Stdout); err != nil {
		fmt.Fprintf(os.Stderr, "testcluster: %v\n", err)
		os.Exit(1)
	}
}

func run(args []string, out io.Writer) error {
	if len(args) == 0 {
		return errors.New("no command\n" + usage)
	}
	cmd := args[0]
	fset := flag.NewFlagSet("testcluster "+cmd, flag.ContinueOnError)
	dir := fset.String("dir", "", "cluster folder (default REPO/_output/cluster)")
	nodes := fset.Int("nodes", 1, "control-plane nodes (up only)")
	fset.SetOutput(io.Discard)
	if err := fset.Parse(args[1:]); err != nil {
		return fmt.Errorf("%w\n%s", err, usage)
	}
	if fset.NArg() > 0 {
		return fmt.Errorf("unexpected arguments %q\n%s", fset.Args(), usage)
	}
	custom := *dir != ""
	if *dir == "" {
		root, err := testcluster.RepoRoot()
		if err != nil {
			return err
		}
		*dir = filepath.Join(root, "_output", "cluster")
	}
	abs, err := filepath.Abs(*dir)
	if err != nil {
		return fmt.Errorf("resolve cluster folder: %w", err)
	}
	statePath := filepath.Join(abs, "state.json")
	// How to stop it: `make cluster-down` knows only the default folder.
	downCmd := "make cluster-down"
	if custom {
		downCmd = "go run ./test/cmd/testcluster down -dir " + abs
	}
	switch cmd {
	case "up":
		return up(abs, statePath, *nodes, downCmd, out)
	case "down", "status":
		st, err := testcluster.ReadState(statePath)
		if errors.Is(err, fs.ErrNotExist) {
			fmt.Fprintf(out, "no cluster recorded in %s\n", statePath)
			return nil
		}
		if err != nil {
			return err
		}
		if cmd == "down" {
			return down(st, statePath, out)
		}
		status(st, out)
		return nil
	default:
		return fmt.Errorf("unknown command %q\n%s", cmd, usage)
	}
}

// up starts a cluster in dir; downCmd is the command that stops it, which
// its messages name.
func up(dir, statePath string, nodes int, downCmd string, out io.Writer) error {
	if nodes < 1 {
		return fmt.Errorf("-nodes %d: want at least 1", nodes)
	}
	if st, err := testcluster.ReadState(statePath); err == nil {
		if running := st.Running(); len(running) > 0 {
			return fmt.Errorf("a cluster from %s still runs (%s pid %d); run `%s` first", statePath, running[0].Name, running[0].PID, downCmd)
		}
	}
	// A fresh PKI and empty etcd every time; the folder is ours (default under _output/).
	if err := os.RemoveAll(dir); err != nil {
		return fmt.Errorf("clear cluster folder: %w", err)
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("create cluster folder: %w", err)
	}
	opts := testcluster.Options{
		Dir:      dir,
		Nodes:    nodes,
		Detached: true,
		Logf:     func(format string, args ...any) { fmt.Fprintf(out, format+"\n", args...) },
	}
	var c testcluster.Runner
	var err error
	logs := filepath.Join(dir, "logs")
	if nodes == 1 {
		c, err = testcluster.New(opts)
	} else {
		c, err = testcluster.NewHA(opts)
		logs = filepath.Join(dir, "cp-*", "logs")
	}
	if err != nil {
		return err
	}
	// On Ctrl-C, Start returns early and what it started is recorded and stopped below, rather
	// than left running, detached, with no record.
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	ctx, cancel := context.WithTimeout(ctx, 5*time.Minute)
	defer cancel()
	startErr := c.Start(ctx)
	// Record what was started even on failure, so that `down` can stop it.
	if err := testcluster.WriteState(statePath, c.State()); err != nil {
		return errors.Join(startErr, err)
	}
	if startErr != nil {
		c.WriteLogTails(os.Stderr, testcluster.LogTailLines)
		stopCtx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
		defer cancel()
		stopErr := c.Stop(stopCtx)
		return errors.Join(fmt.Errorf("start cluster: %w", startErr), stopErr)
	}
	st := c.State()
	fmt.Fprintf(out, "\ncluster up: kube-apiserver %s; PKI %s; logs %s\n", st.APIServerURL, st.PKIDir, logs)
	fmt.Fprintf(out, "stop it with `%s`. To use it:\n\nexport KUBECONFIG=%s\n", downCmd, st.AdminConfig)
	return nil
}

func down(st testcluster.State, statePath string, out io.Writer) error {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	running := st.Running()
	if err := testcluster.StopState(ctx, st, 15*time.Second); err != nil {
		return err
	}
	for _, p := range slices.Backward(running) { // StopState's order
		fmt.Fprintf(out, "stopped %s (pid %d)\n", p.Name, p.PID)
	}
	if err := os.Remove(statePath); err != nil {
		return fmt.Errorf("remove cluster state: %w", err)
	}
	fmt.Fprintf(out, "cluster down; its files stay in %s\n", st.Dir)
	return nil
}

func status(st testcluster.State, out io.Writer) {
	running := map[string]bool{}
	for _, p := range st.Running() {
		running[p.Name] = true
	}
	for _, p := range st.Processes {
		state := "stopped"
		if running[p.Name] {
			state = "running"
		}
		fmt.Fprintf(out, "%-30s pid %-8d %s  log %s\n", p.Name, p.PID, state, p.Log)
	}
	fmt.Fprintf(out, "KUBECONFIG=%s\n", st.AdminConfig)
}
