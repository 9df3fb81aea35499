package staticpods

import (
	"bytes"
	"context"
	"crypto/tls"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// TestRestartSaysItKeepsExiting: a component whose new process keeps
// exiting (a crash loop: the kubelet starts it again and again) failed
// after --restart-timeout with "check that the kubelet runs and picked up
// the manifest", which sent the SRE after the kubelet. The wait is not cut
// short (see startedLine), but the failure now says that new processes
// started and exited, with their pids, and where to look; a single new
// process that still runs says what it said.
func TestRestartSaysItKeepsExiting(t *testing.T) {
	for _, tc := range []struct {
		name string
		pids []int // the listener after the manifest changed, one per check, the last repeated
		// served: each new process serves the new certificate, and a port
		// with none refuses the handshake.
		served bool
		want   string
	}{
		// The new certificate was served for a moment, before the new
		// process was seen (the old pid still on the port), then nothing:
		// the failure said "still serves the old certificate: serial S,
		// want S", from the last handshake that worked.
		{"served then gone", []int{100, 0}, true, "kube-apiserver is not reachable on its secure port"},
		{"crash loop", []int{201, 0, 0, 202, 0, 0, 203, 0}, false, "it keeps exiting: 3 new processes started meanwhile (pid 201, 202, 203), and none of them runs now: see why in its log (crictl ps -a --name kube-apiserver shows its restarts"},
		{"the last one runs", []int{201, 0, 202}, false, "it keeps exiting: 2 new processes started meanwhile (pid 201, 202), and only the last one runs now"},
		{"started once and exited", []int{201, 0}, false, "it keeps exiting: a new process started meanwhile (pid 201) and exited"},
		{"started once and still runs", []int{201}, false, "check that the kubelet runs and picked up"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			oldCert, newCert := newCert(t, 1001), newCert(t, 2002)
			n := newNode(t, oldCert) // serves the old certificate throughout
			n.writeCert(t, "apiserver.crt", newCert)
			set, err := Load(n.manifestDir)
			if err != nil {
				t.Fatal(err)
			}
			manifest := filepath.Join(n.manifestDir, "kube-apiserver.yaml")
			var checks atomic.Int32
			listener := func(string, int) (int, error) {
				data, _ := os.ReadFile(manifest)
				if !bytes.Contains(data, []byte(RestartAnnotation)) {
					return 100, nil
				}
				i := int(checks.Add(1)) - 1
				pid := tc.pids[min(i, len(tc.pids)-1)]
				if tc.served && pid == 0 {
					n.srv.cert.Store(&tls.Certificate{}) // no certificate: the handshake fails
				} else if tc.served {
					n.srv.cert.Store(&newCert)
				}
				return pid, nil
			}
			var out bytes.Buffer
			results, err := Restart(context.Background(), set.Affected([]string{filepath.Join(n.certDir, "apiserver.crt")}),
				Options{Timeout: 400 * time.Millisecond, Poll: 20 * time.Millisecond, Now: fixedNow, Out: &out, ListenerPID: listener})
			if err == nil || results[0].Status.OK() {
				t.Fatalf("Restart: %v, %+v; want a failure", err, results)
			}
			if !strings.Contains(err.Error(), tc.want) || results[0].Message != err.Error() || strings.Contains(err.Error(), "still serves the old certificate") != (results[0].Status == ServingOld) {
				t.Errorf("error %q\nwant it to say %q", err, tc.want)
			}
		})
	}
}

// TestRestartSeesExitBeforeListening: a new process that exits before it
// listens (a file it reads refused, a flag it no longer takes) was never
// on the port, so the wait said "nothing listens on port P yet" until its
// end, and the failure sent the SRE to the kubelet. Its process is now
// seen by the manifest's command line (Options.Processes): while the wait
// goes on, the progress lines say that it exited after the restart, with
// its pid, and the failure says that it keeps exiting; one still starting
// is named as such, and not said to have exited.
func TestRestartSeesExitBeforeListening(t *testing.T) {
	for _, tc := range []struct {
		name string
		// procs: the processes running the command line after the
		// manifest changed, one list per check, the last repeated.
		procs        [][]int
		wantProgress string
		wantErr      string
		notErr       string
	}{
		{"exits before it listens", [][]int{{301}, {}}, "waiting for the new process: pid 301 exited after the restart, and nothing listens on port PORT; the kubelet starts it again after its back-off: see why in its log (crictl ps -a --name kube-apiserver; crictl logs CONTAINER)",
			"it keeps exiting: a new process started meanwhile (pid 301) and exited", ""},
		{"still starting", [][]int{{301}}, "waiting for the new process (pid 301) to listen on port PORT", "and whether kube-apiserver exits as it starts", "keeps exiting"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			oldCert, newCert := newCert(t, 1001), newCert(t, 2002)
			n := newNode(t, oldCert)
			n.writeCert(t, "apiserver.crt", newCert)
			set, err := Load(n.manifestDir)
			if err != nil {
				t.Fatal(err)
			}
			manifest := filepath.Join(n.manifestDir, "kube-apiserver.yaml")
			restarted := func() bool {
				data, _ := os.ReadFile(manifest)
				return bytes.Contains(data, []byte(RestartAnnotation))
			}
			listener := func(string, int) (int, error) {
				if !restarted() {
					return 100, nil
				}
				n.srv.cert.Store(&tls.Certificate{}) // nothing listens: the handshake fails
				return 0, nil
			}
			var checks atomic.Int32
			var argv []string
			processes := func(a []string) ([]int, error) {
				argv = a
				if !restarted() {
					return []int{100}, nil
				}
				i := int(checks.Add(1)) - 1
				return tc.procs[min(i, len(tc.procs)-1)], nil
			}
			var out bytes.Buffer
			affected := set.Affected([]string{filepath.Join(n.certDir, "apiserver.crt")})
			port := fmt.Sprint(affected[0].Port)
			results, err := Restart(context.Background(), affected, Options{Timeout: 400 * time.Millisecond, Poll: 20 * time.Millisecond, ProgressEvery: 100 * time.Millisecond,
				Now: fixedNow, Out: &out, ListenerPID: listener, Processes: processes})
			t.Logf("output:\n%s", out.String())
			if err == nil || results[0].Status.OK() {
				t.Fatalf("Restart: %v, %+v; want a failure", err, results)
			}
			if len(argv) == 0 || argv[0] != "kube-apiserver" || !slices.Contains(argv, "--secure-port="+port) {
				t.Errorf("processes looked up by %q, want the manifest's command line", argv)
			}
			if want := strings.ReplaceAll(tc.wantProgress, "PORT", port); !strings.Contains(out.String(), want) {
				t.Errorf("no progress line says %q", want)
			}
			if !strings.Contains(err.Error(), tc.wantErr) || tc.notErr != "" && strings.Contains(err.Error(), tc.notErr) {
				t.Errorf("error %q\nwant it to say %q, and not %q", err, tc.wantErr, tc.notErr)
			}
		})
	}
}
