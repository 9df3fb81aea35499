package cmd

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/certctl/certctl/internal/exitcode"
	"github.com/certctl/certctl/internal/treetest"
)

// TestCronFlagsRefused: bad and conflicting flags fail before anything is
// read or written.
func TestCronFlagsRefused(t *testing.T) {
	n, flags := renewNode(t)
	before := treetest.Snapshot(t, n.Dir)
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"--quiet", "-o", "json"}, "drop one of them"},
		{[]string{"-o", "xml"}, `unknown output format "xml"`},
		{[]string{"--manifest-dir", "/x"}, "--manifest-dir does nothing without --restart-control-plane"},
		{[]string{"--restart-timeout", "1m"}, "--restart-timeout does nothing without"},
		{[]string{"--jitter", "-1s"}, "--jitter -1s must not be negative"},
		{[]string{"--keep-backups", "-1"}, "--keep-backups -1 must not be negative"},
		{[]string{"--if-expires-within", "-1h"}, "--if-expires-within -1h0m0s must not be negative"},
		{[]string{"--lock-timeout", "-1s"}, `"-1s" for "--lock-timeout" flag: must not be negative`},
		{[]string{"--restart-control-plane", "--manifest-dir", filepath.Join(n.Dir, "nope")}, "pass --manifest-dir"},
	} {
		_, _, err := execute(t, append(append([]string{"renew", "all"}, flags...), tc.args...)...)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%q: err = %v, want %q", tc.args, err, tc.want)
		}
	}
	treetest.AssertSame(t, before, treetest.Snapshot(t, n.Dir))
}

type summary struct {
	Status   string `json:"status"`
	ExitCode int    `json:"exitCode"`
	Error    string `json:"error"`
	Renewed  []struct {
		Name, Serial string
	} `json:"renewed"`
	Skipped []struct {
		Name, File, Reason string
	} `json:"skipped"`
	BackupDir     string   `json:"backupDir"`
	PrunedBackups []string `json:"prunedBackups"`
	RestartNeeded []string `json:"restartNeeded"`
	ExpiringCAs   []struct {
		Name, File   string
		NotAfter     time.Time
		Certificates []string
	} `json:"expiringCAs"`
}

func decodeSummary(t *testing.T, out string) summary {
	t.Helper()
	var s summary
	if err := json.Unmarshal([]byte(out), &s); err != nil {
		t.Fatalf("decode -o json output: %v\n%s", err, out)
	}
	return s
}

// TestRenewJSONAndExitStatus: -o json prints one summary, for a renewal
// (exit 0), for nothing to do (exit 2, no message) and for an error.
func TestRenewJSONAndExitStatus(t *testing.T) {
	n, flags := renewNode(t)
	// A validity longer than the window: everything is due.
	out, errOut, err := execute(t, append([]string{"renew", "all", "--if-expires-within", "9000h", "--certificate-validity", "9500h", "-o", "json"}, flags...)...)
	if err != nil {
		t.Fatal(err)
	}
	s := decodeSummary(t, out)
	if s.Status != "renewed" || s.ExitCode != 0 || len(s.Renewed) != 11 || s.Renewed[0].Serial == "" || len(s.Skipped) != 0 || s.BackupDir == "" ||
		strings.Join(s.RestartNeeded, ",") != "etcd,kube-apiserver,kube-controller-manager,kube-scheduler" {
		t.Errorf("summary %+v\nstderr %s", s, errOut)
	}
	out, _, err = execute(t, append([]string{"renew", "all", "--if-expires-within", "720h", "-o", "json"}, flags...)...)
	if exitcode.Of(err) != exitcode.NothingToDo || err.Error() != "" {
		t.Errorf("nothing to do: exit %d, error %q", exitcode.Of(err), err)
	}
	s = decodeSummary(t, out)
	if s.Status != "nothing-to-do" || s.ExitCode != 2 || len(s.Skipped) != 11 || s.Skipped[0].Reason != "not-due" || len(s.Renewed) != 0 {
		t.Errorf("summary %+v", s)
	}
	os.WriteFile(n.Path("pki/apiserver.key"), []byte("garbage"), 0o600)
	out, _, err = execute(t, append([]string{"renew", "all", "-o", "json"}, flags...)...)
	s = decodeSummary(t, out)
	if exitcode.Of(err) != 1 || s.Status != "error" || s.ExitCode != 1 || !strings.Contains(s.Error, "apiserver.key") {
		t.Errorf("error: exit %d, summary %+v", exitcode.Of(err), s)
	}
}

func TestRenewQuietAndKeepBackups(t *testing.T) {
	n, flags := renewNode(t)
	for range 3 {
		out, errOut, err := execute(t, append([]string{"renew", "admin.conf", "--quiet", "--keep-backups", "2"}, flags...)...)
		if err != nil || out != "" || errOut != "" {
			t.Fatalf("--quiet: %v, stdout %q, stderr %q", err, out, errOut)
		}
	}
	entries, _ := os.ReadDir(filepath.Join(n.Dir, "certctl-backups"))
	if len(entries) != 2 {
		t.Errorf("%d backups left, want 2", len(entries))
	}
	out, _, err := execute(t, append([]string{"renew", "admin.conf", "--keep-backups", "1"}, flags...)...)
	if err != nil || strings.Count(out, "[backup] Removed the old backup") != 2 {
		t.Errorf("--keep-backups 1: %v\n%s", err, out)
	}
}

// TestJitterIsCancellable: SIGTERM (the context) ends the --jitter wait.
func TestJitterIsCancellable(t *testing.T) {
	_, flags := renewNode(t)
	root := NewRootCommand(&bytes.Buffer{}, &bytes.Buffer{})
	root.SetArgs(append([]string{"renew", "all", "--jitter", "10h"}, flags...))
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	start := time.Now()
	err := root.ExecuteContext(ctx)
	// The context's error is kept, so that main says "interrupted; nothing was changed".
	if !errors.Is(err, context.DeadlineExceeded) || !strings.HasPrefix(err.Error(), "wait for --jitter: ") || time.Since(start) > 5*time.Second {
		t.Errorf("err = %v after %v", err, time.Since(start))
	}
}

// TestRestoreCommand: restore lists, restores the latest backup, and
// refuses restart flags when listing.
func TestRestoreCommand(t *testing.T) {
	n, flags := renewNode(t)
	folders := flags[2:] // --cert-dir and --kubeconfig-dir
	out, _, err := execute(t, append([]string{"restore"}, folders...)...)
	if err != nil || !strings.Contains(out, "No backup in") {
		t.Fatalf("empty list: %v\n%s", err, out)
	}
	orig, _ := os.ReadFile(n.Path("pki/apiserver.crt"))
	if _, _, err := execute(t, append([]string{"renew", "apiserver"}, flags...)...); err != nil {
		t.Fatal(err)
	}
	out, _, err = execute(t, append([]string{"restore", "latest"}, folders...)...)
	if err != nil || strings.Count(out, "[restore] ") != 2 || !strings.Contains(out, "[backup] The files the restore replaces are saved in") {
		t.Fatalf("restore latest: %v\n%s", err, out)
	}
	if now, _ := os.ReadFile(n.Path("pki/apiserver.crt")); !bytes.Equal(now, orig) {
		t.Error("apiserver.crt is not the original after restore")
	}
	out, _, err = execute(t, append([]string{"restore"}, folders...)...)
	if err != nil || strings.Count(out, "\n") != 3 {
		t.Errorf("list after restore: %v\n%s", err, out)
	}
	if _, _, err := execute(t, append([]string{"restore", "--restart-control-plane"}, folders...)...); err == nil {
		t.Error("restore --restart-control-plane without a backup: no error")
	}
}

// TestRenewMissingIsNothingToDo: with --if-expires-within, a file that
// `renew all` does not find (super-admin.conf on every control-plane node
// but the first) is reported and skipped: nothing due is still exit 2,
// nothing to do, without the lock. A named missing file is an error.
func TestRenewMissingIsNothingToDo(t *testing.T) {
	n, flags := renewNode(t)
	os.Remove(n.Path("super-admin.conf"))
	before := treetest.Snapshot(t, n.Dir)
	out, _, err := execute(t, append([]string{"renew", "all", "--if-expires-within", "720h"}, flags...)...)
	if exitcode.Of(err) != exitcode.NothingToDo || !strings.Contains(out, "MISSING! ") || !strings.Contains(out, "[renew] Nothing to do: no certificate expires within 720h0m0s") {
		t.Errorf("exit %d (%v)\n%s", exitcode.Of(err), err, out)
	}
	treetest.AssertSame(t, before, treetest.Snapshot(t, n.Dir))
	out, _, err = execute(t, append([]string{"renew", "all", "--if-expires-within", "720h", "-o", "json"}, flags...)...)
	s := decodeSummary(t, out)
	if exitcode.Of(err) != exitcode.NothingToDo || s.Status != "nothing-to-do" || s.ExitCode != 2 || len(s.Renewed) != 0 || len(s.Skipped) != 11 {
		t.Fatalf("exit %d, summary %+v", exitcode.Of(err), s)
	}
	for _, sk := range s.Skipped {
		if !filepath.IsAbs(sk.File) || sk.Reason != map[bool]string{true: "missing", false: "not-due"}[sk.Name == "super-admin.conf"] {
			t.Errorf("skipped %+v", sk)
		}
	}
	_, _, err = execute(t, append([]string{"renew", "super-admin.conf", "--if-expires-within", "720h"}, flags...)...)
	treetest.ErrMentions(t, err, n.Path("super-admin.conf"), "does not exist")
}

// TestRenewWithinZero: --if-expires-within 0s does not turn the threshold
// off (phases/renew's TestWithinZero: it renews what has expired).
func TestRenewWithinZero(t *testing.T) {
	_, flags := renewNode(t)
	_, _, err := execute(t, append([]string{"renew", "all", "--if-expires-within", "0s"}, flags...)...)
	if exitcode.Of(err) != exitcode.NothingToDo {
		t.Fatalf("nothing expired: exit %d (%v), want 2", exitcode.Of(err), err)
	}
}

// TestRenewCAExpiring: when the CAs expire within the window, a due
// certificate that already ends with its CA is not renewed again (no new
// backup, no new serial): exit 1 naming the CA and the fix. One that can
// still move is renewed, up to the CA, and the run fails the same way.
func TestRenewCAExpiring(t *testing.T) {
	dir := t.TempDir()
	certDir := filepath.Join(dir, "pki")
	id := []string{"--cert-dir", certDir, "--node-name", "cp-1", "--apiserver-advertise-address", "198.51.100.10", "--encryption-algorithm", "ECDSA-P256"}
	if _, _, err := execute(t, append([]string{"init-phase", "certs", "all", "--ca-certificate-validity", "500h"}, id...)...); err != nil {
		t.Fatal(err)
	}
	if _, _, err := execute(t, append([]string{"init-phase", "kubeconfig", "all", "--kubeconfig-dir", dir}, id...)...); err != nil {
		t.Fatal(err)
	}
	flags := []string{"--cert-dir", certDir, "--kubeconfig-dir", dir}
	before := treetest.Snapshot(t, dir)
	for range 2 { // every day the same, and nothing written
		out, errOut, err := execute(t, append([]string{"renew", "all", "--if-expires-within", "720h", "-q"}, flags...)...)
		treetest.ErrMentions(t, err, "the CAs "+filepath.Join(certDir, "ca.crt")+" (expires at ", filepath.Join(certDir, "etcd", "ca.crt"), "rotate the CAs", "docs/ca-rotation.md")
		if exitcode.Of(err) != 1 || out != "" || errOut != "" {
			t.Errorf("exit %d, stdout %q, stderr %q", exitcode.Of(err), out, errOut)
		}
	}
	treetest.AssertSame(t, before, treetest.Snapshot(t, dir))

	if _, _, err := execute(t, append([]string{"renew", "apiserver", "--certificate-validity", "100h"}, flags...)...); err != nil {
		t.Fatal(err)
	}
	out, _, err := execute(t, append([]string{"renew", "all", "--if-expires-within", "720h", "-o", "json"}, flags...)...)
	s := decodeSummary(t, out)
	if exitcode.Of(err) != 1 || s.Status != "error" || !strings.Contains(s.Error, "rotate the CAs") || len(s.Renewed) != 1 || s.Renewed[0].Name != "apiserver" || s.BackupDir == "" {
		t.Fatalf("exit %d, summary %+v", exitcode.Of(err), s)
	}
	if len(s.ExpiringCAs) != 3 || s.ExpiringCAs[0].Name != "ca" || !slices.Contains(s.ExpiringCAs[0].Certificates, "apiserver") || s.ExpiringCAs[0].NotAfter.IsZero() {
		t.Errorf("expiringCAs %+v", s.ExpiringCAs)
	}
	for _, sk := range s.Skipped {
		if sk.Reason != "ca-expires" {
			t.Errorf("skipped %+v, want ca-expires", sk)
		}
	}
	after := treetest.Snapshot(t, dir)
	out, _, err = execute(t, append([]string{"renew", "all", "--if-expires-within", "720h", "-o", "json"}, flags...)...)
	if s := decodeSummary(t, out); exitcode.Of(err) != 1 || len(s.Renewed) != 0 || len(s.Skipped) != 11 {
		t.Errorf("the next day: exit %d, summary %+v", exitcode.Of(err), s)
	}
	treetest.AssertSame(t, after, treetest.Snapshot(t, dir))
}

// TestRenewOwedRestartWithoutManifest: a restart owed to a component whose
// manifest has left the folder cannot be retried: the run says so once,
// exit 1, and forgets it; the next run has nothing to do.
func TestRenewOwedRestartWithoutManifest(t *testing.T) {
	n, flags := renewNode(t)
	state := filepath.Join(n.Dir, ".certctl-restarts.json")
	err := os.WriteFile(state, []byte(`{"version": 1, "components": [{"component": "kube-scheduler", "manifest": "/gone/kube-scheduler.yaml",
		"files": ["`+n.Path("scheduler.conf")+`"], "since": "2026-11-01T00:00:00Z", "reason": "not restarted"}]}`), 0o600)
	if err != nil {
		t.Fatal(err)
	}
	args := append([]string{"renew", "all", "--if-expires-within", "720h", "--restart-control-plane", "--manifest-dir", t.TempDir()}, flags...)
	out, _, err := execute(t, args...)
	treetest.ErrMentions(t, err, "kube-scheduler still had to be restarted (since 2026-11-01T00:00:00Z)", n.Path("scheduler.conf"), "restart it yourself")
	if exitcode.Of(err) != 1 || !strings.Contains(out, "retrying the restarts still owed") {
		t.Errorf("exit %d\n%s", exitcode.Of(err), out)
	}
	if _, err := os.Stat(state); !os.IsNotExist(err) {
		t.Errorf("still tracked: %v", err)
	}
	if _, _, err := execute(t, args...); exitcode.Of(err) != exitcode.NothingToDo {
		t.Errorf("the next run: exit %d (%v), want 2", exitcode.Of(err), err)
	}
}
