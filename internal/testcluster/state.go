package testcluster

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"

	"k8s.io/apimachinery/pkg/util/wait"

	"github.com/certctl/certctl/internal/atomicfile"
)

// State records a detached cluster so that another program can find and stop it.
type State struct {
	Dir           string         `json:"dir"`
	APIServerURL  string         `json:"apiServerURL,omitempty"`
	AdminConfig   string         `json:"adminKubeconfig"`
	KubeconfigDir string         `json:"kubeconfigDir"`
	PKIDir        string         `json:"pkiDir"`
	Processes     []ProcessState `json:"processes"`
}

// ProcessState identifies one started component.
type ProcessState struct {
	Name string `json:"name"`
	PID  int    `json:"pid"`
	// StartTicks is field 22 of /proc/PID/stat at start; StopState signals PID only while it
	// still matches, so a PID the kernel gave to another process since is left alone.
	StartTicks uint64 `json:"startTicks"`
	Log        string `json:"log"`
}

// State returns what StopState needs to stop the running components later.
func (c *Cluster) State() State {
	c.mu.Lock()
	defer c.mu.Unlock()
	st := State{
		Dir:           c.opts.Dir,
		AdminConfig:   c.Kubeconfig("admin.conf"),
		KubeconfigDir: c.KubeconfigDir(),
		PKIDir:        c.PKIDir(),
	}
	if c.port[APIServer] != 0 {
		st.APIServerURL = c.URL(APIServer)
	}
	for _, name := range c.opts.Components {
		if p := c.procs[name]; p != nil {
			st.Processes = append(st.Processes, p.ProcessState)
		}
	}
	return st
}

// WriteState writes st as JSON to path, atomically (temp file in the same folder, then rename).
func WriteState(path string, st State) error {
	data, err := json.MarshalIndent(st, "", "  ")
	if err != nil {
		return fmt.Errorf("encode cluster state: %w", err)
	}
	if err := atomicfile.WriteFile(path, append(data, '\n'), 0o600); err != nil {
		return fmt.Errorf("write cluster state: %w", err)
	}
	return nil
}

// ReadState reads a State written by WriteState.
func ReadState(path string) (State, error) {
	var st State
	data, err := os.ReadFile(path)
	if err != nil {
		return st, fmt.Errorf("read cluster state: %w", err)
	}
	if err := json.Unmarshal(data, &st); err != nil {
		return st, fmt.Errorf("decode cluster state %s: %w", path, err)
	}
	return st, nil
}

// Running returns the processes of st that still run (same PID, same start time).
func (st State) Running() []ProcessState {
	var out []ProcessState
	for _, p := range st.Processes {
		if alive(p) {
			out = append(out, p)
		}
	}
	return out
}

// StopState stops the processes recorded in st, in reverse start order: SIGTERM, then SIGKILL
// after grace. It never signals a PID whose start time differs from the recorded one.
func StopState(ctx context.Context, st State, grace time.Duration) error {
	var errs []error
	for _, p := range slices.Backward(st.Processes) {
		if !alive(p) {
			continue
		}
		// Not our child: poll until it has exited (or its PID runs another process).
		gone := func(ctx context.Context, timeout time.Duration) bool {
			return wait.PollUntilContextTimeout(ctx, 50*time.Millisecond, timeout, true, func(context.Context) (bool, error) {
				return !alive(p), nil
			}) == nil
		}
		if err := p.terminate(ctx, grace, "after SIGKILL", gone); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// terminate sends p SIGTERM, waits up to grace (or until ctx ends) for gone to report its exit,
// then sends SIGKILL and waits up to 10s more; the error then says p is still running stuck.
func (p ProcessState) terminate(ctx context.Context, grace time.Duration, stuck string, gone func(ctx context.Context, timeout time.Duration) bool) error {
	if err := syscall.Kill(p.PID, syscall.SIGTERM); err != nil && !errors.Is(err, syscall.ESRCH) {
		return fmt.Errorf("signal %s (pid %d): %w", p.Name, p.PID, err)
	}
	if gone(ctx, grace) {
		return nil
	}
	if err := syscall.Kill(p.PID, syscall.SIGKILL); err != nil && !errors.Is(err, syscall.ESRCH) {
		return fmt.Errorf("kill %s (pid %d): %w", p.Name, p.PID, err)
	}
	// SIGKILL cannot be caught; the wait is short unless the process is stuck in the kernel.
	if gone(context.Background(), 10*time.Second) {
		return nil
	}
	return fmt.Errorf("%s (pid %d) still running %s", p.Name, p.PID, stuck)
}

// alive reports whether the process p recorded still runs: same PID and start time, not a zombie
// (a detached child whose parent died is reaped by init, which may lag; a zombie counts as gone).
func alive(p ProcessState) bool {
	state, ticks, err := procStat(p.PID)
	if err != nil || state == "Z" || state == "X" {
		return false
	}
	return p.StartTicks == 0 || ticks == p.StartTicks
}

// procStat returns the state (field 3) and start time in clock ticks (field 22) of
// /proc/PID/stat. See proc_pid_stat(5); field 2, the command, may hold spaces and parentheses,
// so fields are counted after its last ')'.
func procStat(pid int) (state string, startTicks uint64, err error) {
	data, err := os.ReadFile(filepath.Join("/proc", strconv.Itoa(pid), "stat"))
	if err != nil {
		return "", 0, fmt.Errorf("read stat of pid %d: %w", pid, err)
	}
	return parseProcStat(string(data))
}

func parseProcStat(s string) (state string, startTicks uint64, err error) {
	i := strings.LastIndexByte(s, ')')
	if i < 0 {
		return "", 0, fmt.Errorf("parse proc stat %q: no command field", s)
	}
	f := strings.Fields(s[i+1:])
	if len(f) < 20 {
		return "", 0, fmt.Errorf("parse proc stat %q: %d fields after the command, want at least 20", s, len(f))
	}
	startTicks, err = strconv.ParseUint(f[19], 10, 64)
	if err != nil {
		return "", 0, fmt.Errorf("parse proc stat start time %q: %w", f[19], err)
	}
	return f[0], startTicks, nil
}
