package cli

import (
	"crypto/tls"
	"encoding/json"
	"fmt"
	"io/fs"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"syscall"
	"testing"
	"time"
)

// TestYearsOfDailyRuns plays a node renewed by the daily timer for years,
// sped up: certificates valid for 2h, a renewal day (`renew all
// --if-expires-within 7199s --restart-control-plane --keep-backups 3`,
// which renews everything a second after the last renewal) followed by a
// usual day (`--if-expires-within 1h`: nothing due), with etcd and
// kube-scheduler restarted by a kubelet played here. It checks what must
// hold on the hundredth day as on the first: each renewal exits 0 with
// every restart verified, each usual day exits 2 and writes nothing (no
// file, folder, inode or mtime changes), every serial is new, each
// certificate's validity is the same, and nothing accumulates:
// --keep-backups bounds certctl-backups/ and tmp/certctl-backup-manifests-*
// (one a restart, never pruned before), and no transaction, restart owed
// or temporary file stays.
func TestYearsOfDailyRuns(t *testing.T) {
	bin := certctlBin(t)
	n := makeNode(t, bin, "ECDSA-P256")
	run(t, bin, append([]string{"renew", "all", "--certificate-validity", "2h"}, n.flags()...)...)
	last := time.Now()
	manifests, etcdPort, schedulerPort := restartManifests(t, n)
	tmp := filepath.Join(filepath.Dir(manifests), "tmp")
	playKubeletForever(t, n, filepath.Join(manifests, "etcd.yaml"), etcdPort, true)
	playKubeletForever(t, n, filepath.Join(manifests, "kube-scheduler.yaml"), schedulerPort, false)
	cron := append([]string{"renew", "all", "--certificate-validity", "2h", "--restart-control-plane", "--manifest-dir", manifests,
		"--restart-timeout", "30s", "--keep-backups", "3", "-o", "json"}, n.flags()...)
	type summary struct {
		Status   string `json:"status"`
		ExitCode int    `json:"exitCode"`
		Error    string `json:"error"`
		Renewed  []struct {
			Name, Serial string
		} `json:"renewed"`
		Restarts []struct {
			Component, Status string
		} `json:"restarts"`
		PendingRestarts []json.RawMessage `json:"pendingRestarts"`
	}
	day := func(name string, wantCode int, within string) summary {
		t.Helper()
		r := runCode(t, bin, append(append([]string{}, cron...), "--if-expires-within", within)...)
		var s summary
		if err := json.Unmarshal([]byte(r.out), &s); err != nil {
			t.Fatalf("%s: %v\n%s%s", name, err, r.out, r.errOut)
		}
		if r.code != wantCode || s.ExitCode != wantCode {
			t.Fatalf("%s: exit %d, summary's exitCode %d, want %d: %s\n%s", name, r.code, s.ExitCode, wantCode, s.Error, r.errOut)
		}
		return s
	}
	const days = 8
	seen := map[string]string{} // serial: the certificate and day that had it
	scratch := t.TempDir()
	for d := range days {
		time.Sleep(time.Until(last.Add(1100 * time.Millisecond))) // a second: the certificates are then due
		last = time.Now()
		s := day(fmt.Sprintf("renewal %d", d), 0, "7199s")
		if s.Status != "renewed" || len(s.Renewed) != 11 || len(s.Restarts) != 2 || len(s.PendingRestarts) != 0 {
			t.Fatalf("renewal %d: status %s, %d renewed, restarts %+v, %d owed", d, s.Status, len(s.Renewed), s.Restarts, len(s.PendingRestarts))
		}
		if s.Restarts[0].Status != "serving-new-certificate" || s.Restarts[1].Status != "restarted" {
			t.Errorf("renewal %d: restarts %+v", d, s.Restarts)
		}
		for _, p := range n.pairs(t, scratch) {
			c := parseCert(t, p.cert)
			serial := c.SerialNumber.String()
			if prev, ok := seen[serial]; ok {
				t.Errorf("renewal %d: %s has the serial %s of %s", d, p.name, serial, prev)
			}
			seen[serial] = fmt.Sprintf("%s (renewal %d)", p.name, d)
			if got, want := c.NotAfter.Sub(c.NotBefore), 2*time.Hour+5*time.Minute; got != want {
				t.Errorf("renewal %d: %s is valid %v, want %v (2h and the 5 minutes of backdate)", d, p.name, got, want)
			}
		}
		before := treeState(t, filepath.Dir(manifests))
		if s := day(fmt.Sprintf("usual day %d", d), 2, "1h"); s.Status != "nothing-to-do" || len(s.Renewed) != 0 || len(s.Restarts) != 0 {
			t.Errorf("usual day %d: %+v", d, s)
		}
		if after := treeState(t, filepath.Dir(manifests)); after != before {
			t.Errorf("usual day %d wrote:\nbefore:\n%s\nafter:\n%s", d, before, after)
		}
	}
	backups, _ := filepath.Glob(filepath.Join(n.dir, "certctl-backups", "*"))
	manifestBackups, _ := filepath.Glob(filepath.Join(tmp, "certctl-backup-manifests-*"))
	if len(backups) != 3 || len(manifestBackups) != 3 {
		t.Errorf("after %d renewals with --keep-backups 3: %d backups %q, %d manifest backups %q; want 3 of each", days, len(backups), backups, len(manifestBackups), manifestBackups)
	}
	if l := leftovers(filepath.Dir(manifests)); len(l) > 0 {
		t.Errorf("left behind: %q", l)
	}
	for _, p := range []string{filepath.Join(n.dir, ".certctl-restarts.json"), filepath.Join(n.dir, ".certctl-txn")} {
		if _, err := os.Lstat(p); !os.IsNotExist(err) {
			t.Errorf("%s stays: %v", p, err)
		}
	}
}

// treeState is every file and folder under dir with its inode, mode, size
// and mtime, one a line: what a run that writes nothing leaves as it was.
func treeState(t *testing.T, dir string) string {
	t.Helper()
	var out string
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		fi, err := d.Info()
		if err != nil {
			return err
		}
		out += fmt.Sprintf("%s %d %v %d %s\n", p, inode(fi), fi.Mode(), fi.Size(), fi.ModTime().Format(time.RFC3339Nano))
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func inode(fi fs.FileInfo) uint64 {
	if st, ok := fi.Sys().(*syscall.Stat_t); ok {
		return st.Ino
	}
	return 0
}

// playKubeletForever runs the component of a manifest as a new process,
// each time its restart annotation changes (certctl checks that the
// process on the port is a new one): this test binary, as
// TestYearsComponentHelper, listening on port, with TLS and etcd's
// serving certificate as it is on disk then when tls is set.
func playKubeletForever(t *testing.T, n node, manifest string, port int, withTLS bool) {
	t.Helper()
	stop, done := make(chan struct{}), make(chan struct{})
	t.Cleanup(func() { close(stop); <-done })
	go func() {
		defer close(done)
		var cmd *exec.Cmd
		kill := func() {
			if cmd != nil {
				cmd.Process.Kill()
				cmd.Wait()
			}
		}
		defer kill()
		seen := annotation(t, manifest)
		for {
			select {
			case <-stop:
				return
			case <-time.After(20 * time.Millisecond):
			}
			now := annotation(t, manifest)
			if now == seen {
				continue
			}
			seen = now
			kill()
			cmd = exec.Command(os.Args[0], "-test.run=^TestYearsComponentHelper$")
			cmd.Env = append(os.Environ(), "YEARS_COMPONENT_PORT="+strconv.Itoa(port))
			if withTLS {
				cmd.Env = append(cmd.Env, "YEARS_COMPONENT_CERT="+filepath.Join(n.certDir, "etcd", "server"))
			}
			if err := cmd.Start(); err != nil {
				t.Errorf("kubelet: %v", err)
				return
			}
		}
	}()
}

// TestYearsComponentHelper is the component TestYearsOfDailyRuns starts:
// it listens on $YEARS_COMPONENT_PORT until killed, serving
// $YEARS_COMPONENT_CERT.crt when set. Without it, it does nothing.
func TestYearsComponentHelper(t *testing.T) {
	port := os.Getenv("YEARS_COMPONENT_PORT")
	if port == "" {
		t.Skip("started by TestYearsOfDailyRuns only")
	}
	addr := "127.0.0.1:" + port
	var l net.Listener
	var err error
	for range 100 { // the process killed before may not have closed it yet
		if cert := os.Getenv("YEARS_COMPONENT_CERT"); cert != "" {
			var c tls.Certificate
			if c, err = tls.LoadX509KeyPair(cert+".crt", cert+".key"); err != nil {
				t.Fatal(err)
			}
			l, err = tls.Listen("tcp", addr, &tls.Config{Certificates: []tls.Certificate{c}})
		} else {
			l, err = net.Listen("tcp", addr)
		}
		if err == nil {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	if err != nil {
		t.Fatal(err)
	}
	for {
		c, err := l.Accept()
		if err != nil {
			return
		}
		if tc, ok := c.(*tls.Conn); ok {
			tc.Handshake()
		}
		c.Close()
	}
}
