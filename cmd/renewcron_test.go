package cmd

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/certctl/certctl/internal/treetest"
)

func TestRandomDelay(t *testing.T) {
	d, err := randomDelay(bytes.NewReader([]byte{0, 0, 0, 0, 0, 0, 0, 90}), 60*time.Nanosecond)
	if err != nil || d != 30 {
		t.Errorf("randomDelay = %v, %v; want 30ns", d, err)
	}
	for range 100 {
		d, err := randomDelay(bytes.NewReader(bytes.Repeat([]byte{0xff}, 8)), time.Hour)
		if err != nil || d < 0 || d >= time.Hour {
			t.Fatalf("randomDelay = %v, %v", d, err)
		}
	}
	if _, err := randomDelay(bytes.NewReader(nil), time.Hour); err == nil {
		t.Error("no error from an empty reader")
	}
}

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
		{[]string{"-o", "yaml"}, `unknown output format "yaml"`},
		{[]string{"--manifest-dir", "/x"}, "--manifest-dir does nothing without --restart-control-plane"},
		{[]string{"--restart-timeout", "1m"}, "--restart-timeout does nothing without"},
		{[]string{"--jitter", "-1s"}, "must not be negative"},
		{[]string{"--keep-backups", "-1"}, "must not be negative"},
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
		Name, Reason string
	} `json:"skipped"`
	BackupDir     string   `json:"backupDir"`
	PrunedBackups []string `json:"prunedBackups"`
	RestartNeeded []string `json:"restartNeeded"`
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
	out, errOut, err := execute(t, append([]string{"renew", "all", "--if-expires-within", "9000h", "-o", "json"}, flags...)...)
	if err != nil {
		t.Fatal(err)
	}
	s := decodeSummary(t, out)
	if s.Status != "renewed" || s.ExitCode != 0 || len(s.Renewed) != 11 || s.Renewed[0].Serial == "" || len(s.Skipped) != 0 || s.BackupDir == "" ||
		strings.Join(s.RestartNeeded, ",") != "etcd,kube-apiserver,kube-controller-manager,kube-scheduler" {
		t.Errorf("summary %+v\nstderr %s", s, errOut)
	}
	out, _, err = execute(t, append([]string{"renew", "all", "--if-expires-within", "720h", "-o", "json"}, flags...)...)
	if ExitCode(err) != ExitNothingToDo || err.Error() != "" {
		t.Errorf("nothing to do: exit %d, error %q", ExitCode(err), err)
	}
	s = decodeSummary(t, out)
	if s.Status != "nothing-to-do" || s.ExitCode != 2 || len(s.Skipped) != 11 || s.Skipped[0].Reason != "not-due" || len(s.Renewed) != 0 {
		t.Errorf("summary %+v", s)
	}
	os.WriteFile(n.Path("pki/apiserver.key"), []byte("garbage"), 0o600)
	out, _, err = execute(t, append([]string{"renew", "all", "-o", "json"}, flags...)...)
	s = decodeSummary(t, out)
	if ExitCode(err) != 1 || s.Status != "error" || s.ExitCode != 1 || !strings.Contains(s.Error, "apiserver.key") {
		t.Errorf("error: exit %d, summary %+v", ExitCode(err), s)
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
	if err == nil || !strings.Contains(err.Error(), "stopped while waiting for --jitter") || time.Since(start) > 5*time.Second {
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

// --use-api's progress must not corrupt -o json on stdout nor break --quiet.
func TestProgressOut(t *testing.T) {
	var stdout, stderr bytes.Buffer
	tests := []struct {
		name   string
		quiet  bool
		output string
		want   *bytes.Buffer // nil: discarded
	}{
		{"text", false, "text", &stdout},
		{"json", false, "json", &stderr},
		{"quiet", true, "text", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			stdout.Reset()
			stderr.Reset()
			c := &cronOptions{quiet: tt.quiet, output: tt.output, stdout: &stdout}
			fmt.Fprint(c.progressOut(&stderr), "waiting for CSR")
			for _, b := range []*bytes.Buffer{&stdout, &stderr} {
				if got := b.Len() > 0; got != (b == tt.want) {
					t.Errorf("buffer written = %v, want %v", got, b == tt.want)
				}
			}
		})
	}
}
