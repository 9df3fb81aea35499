package testcluster

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strings"
	"sync/atomic"
	"syscall"
	"time"
)

// process is one running component that this program started.
type process struct {
	// ProcessState is what State records of it: its name, PID and start time from
	// /proc/PID/stat, which with the PID identify it across programs (a later `testcluster down`
	// must not signal a reused PID), and its log.
	ProcessState
	args []string // the flags it was started with
	// done is closed when the process has exited and been reaped; waitErr is then set.
	done    chan struct{}
	waitErr error
	// stopping is set before the harness signals the process, so an exit before it is unexpected.
	stopping atomic.Bool
}

// startProcess starts bin with args, its stdout and stderr appended to logPath.
//
// Attached (tests): the child gets its own process group and Pdeathsig=SIGKILL, so it dies with
// the test process even when that one is killed. Go's runtime does not end the OS thread that
// forked the child (Pdeathsig fires on thread exit) unless a goroutine exits while locked to its
// thread, which this package never does.
// Detached (`make cluster-up`): the child gets its own session and no Pdeathsig, so it outlives us.
func startProcess(name, bin string, args []string, logPath string, detached bool) (*process, error) {
	logFile, err := os.OpenFile(logPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return nil, fmt.Errorf("open log of %s: %w", name, err)
	}
	defer logFile.Close() // the child holds its own descriptor
	fmt.Fprintf(logFile, "==== testcluster %s: %s %s\n", time.Now().Format(time.RFC3339Nano), bin, strings.Join(args, " "))

	cmd := exec.Command(bin, args...)
	cmd.Stdout = logFile // an *os.File is handed to the child as is: no copying goroutine to outlive
	cmd.Stderr = logFile
	cmd.Env = childEnv(os.Environ())
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	if detached {
		cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
	}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start %s: %w", name, err)
	}
	p := &process{ProcessState: ProcessState{Name: name, PID: cmd.Process.Pid, Log: logPath}, args: args, done: make(chan struct{})}
	_, p.StartTicks, _ = procStat(p.PID)
	go func() {
		p.waitErr = cmd.Wait()
		close(p.done)
	}()
	return p, nil
}

// childEnv keeps only what the components may need from the environment. It drops ETCD_* (etcd
// reads every flag from ETCD_<FLAG> too), KUBECONFIG and proxy settings, which would change what
// the components do.
func childEnv(env []string) []string {
	keep := map[string]bool{"PATH": true, "HOME": true, "TMPDIR": true, "TZ": true, "LANG": true, "GODEBUG": true, "GOTRACEBACK": true}
	var out []string
	for _, kv := range env {
		k, _, _ := strings.Cut(kv, "=")
		if keep[k] {
			out = append(out, kv)
		}
	}
	return out
}

// exited reports whether the process has exited, and how.
func (p *process) exited() (bool, error) {
	select {
	case <-p.done:
		return true, p.waitErr
	default:
		return false, nil
	}
}

// stop sends SIGTERM, waits up to grace, then sends SIGKILL and waits for the exit. It returns an
// error if the process had exited before stop was called (it crashed), or could not be ended.
func (p *process) stop(ctx context.Context, grace time.Duration) error {
	if done, err := p.exited(); done {
		if p.stopping.Swap(true) {
			return nil
		}
		return fmt.Errorf("%s (pid %d) had exited by itself: %v; see %s", p.Name, p.PID, err, p.Log)
	}
	p.stopping.Store(true)
	return p.terminate(ctx, grace, "10s after SIGKILL", func(ctx context.Context, timeout time.Duration) bool {
		select {
		case <-p.done:
			return true
		case <-time.After(timeout):
		case <-ctx.Done():
		}
		return false
	})
}

// tailFile returns the last n lines of the file at path (reading at most its last 256 KiB).
func tailFile(path string, n int) (string, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", fmt.Errorf("open %s: %w", path, err)
	}
	defer f.Close()
	const maxRead = 256 << 10
	st, err := f.Stat()
	if err != nil {
		return "", fmt.Errorf("stat %s: %w", path, err)
	}
	off := max(st.Size()-maxRead, 0)
	buf, err := io.ReadAll(io.NewSectionReader(f, off, st.Size()-off))
	if err != nil {
		return "", fmt.Errorf("read %s: %w", path, err)
	}
	return lastLines(buf, n), nil
}

func lastLines(buf []byte, n int) string {
	buf = bytes.TrimRight(buf, "\n")
	if n <= 0 || len(buf) == 0 {
		return ""
	}
	lines := bytes.Split(buf, []byte("\n"))
	return string(bytes.Join(lines[max(len(lines)-n, 0):], []byte("\n")))
}

// fileAppender is an io.Writer that appends each Write to the file at path, opening and closing
// it each time, so that it holds no descriptor between writes.
type fileAppender string

func (path fileAppender) Write(p []byte) (int, error) {
	f, err := os.OpenFile(string(path), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return 0, err
	}
	n, err := f.Write(p)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	return n, err
}
