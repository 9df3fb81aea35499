package staticpods

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/certctl/certctl/pki"
)

// httpNode is a node whose kube-apiserver is an HTTPS server that serves
// a swappable certificate and answers /readyz with 500 until ready,
// counting those answers.
type httpNode struct {
	*node
	cert     atomic.Pointer[tls.Certificate]
	ready    atomic.Bool
	notReady atomic.Int32
	// noAnonymous refuses requests without a client certificate (401), as
	// kube-apiserver --anonymous-auth=false does.
	noAnonymous atomic.Bool
	addr        string
	port        int
}

func newHTTPNode(t *testing.T, served tls.Certificate) *httpNode {
	t.Helper()
	h := &httpNode{node: newNode(t, served)}
	h.cert.Store(&served)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	// Not httptest's: its own certificate would win over GetCertificate
	// for clients that send no server name.
	srv := &http.Server{ReadHeaderTimeout: time.Second, Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if h.noAnonymous.Load() && len(r.TLS.PeerCertificates) == 0 {
			http.Error(w, `{"kind":"Status","status":"Failure","message":"Unauthorized","reason":"Unauthorized","code":401}`, http.StatusUnauthorized)
			return
		}
		if r.URL.Path == "/readyz" && !h.ready.Load() {
			h.notReady.Add(1)
			http.Error(w, "[+]ping ok\n[-]etcd failed: reason withheld\nreadyz check failed", http.StatusInternalServerError)
			return
		}
		fmt.Fprint(w, "ok")
	})}
	go func() {
		_ = srv.Serve(tls.NewListener(ln, &tls.Config{GetCertificate: func(*tls.ClientHelloInfo) (*tls.Certificate, error) { return h.cert.Load(), nil },
			ClientAuth: tls.RequestClientCert}))
	}()
	t.Cleanup(func() { srv.Close() })
	h.addr = ln.Addr().String()
	_, newPort, _ := net.SplitHostPort(h.addr)
	_, oldPort, _ := net.SplitHostPort(h.srv.addr)
	fmt.Sscan(newPort, &h.port)
	path := filepath.Join(h.manifestDir, "kube-apiserver.yaml")
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, bytes.Replace(data, []byte("--secure-port="+oldPort), []byte("--secure-port="+newPort), 1), 0o600); err != nil {
		t.Fatal(err)
	}
	return h
}

// TestRestartCoordinated: the restart takes its turn (Coordinate) before
// the manifest changes, says every ProgressEvery what it waits for, and
// hands the turn on only once kube-apiserver serves the new certificate
// and is ready.
func TestRestartCoordinated(t *testing.T) {
	oldCert, newCert := newCert(t, 1001), newCert(t, 2002)
	n := newHTTPNode(t, oldCert)
	n.writeCert(t, "apiserver.crt", newCert)
	set, err := Load(n.manifestDir)
	if err != nil {
		t.Fatal(err)
	}
	affected := set.Affected([]string{filepath.Join(n.certDir, "apiserver.crt")})
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	k := &kubelet{pids: map[int]int{}}
	manifest := filepath.Join(n.manifestDir, "kube-apiserver.yaml")
	k.watch(t, ctx, manifest, n.port, func() {
		time.Sleep(300 * time.Millisecond) // the old process lingers: "waiting for the new process"
		n.cert.Store(&newCert)
		// Ready after 300 ms and six answers of not ready, 20 ms apart at
		// least (Poll): 100 ms or more, so that a line every 100 ms says
		// so even when a loaded machine stretches the 300 ms.
		go func() {
			time.Sleep(300 * time.Millisecond)
			for n.notReady.Load() < 6 && ctx.Err() == nil {
				time.Sleep(10 * time.Millisecond)
			}
			n.ready.Store(true)
		}()
	})
	var mu sync.Mutex
	var events []string
	coordinate := func(_ context.Context, component string) (func(bool), error) {
		data, _ := os.ReadFile(manifest)
		mu.Lock()
		events = append(events, fmt.Sprintf("acquire %s annotated=%v", component, bytes.Contains(data, []byte(RestartAnnotation))))
		mu.Unlock()
		return func(ok bool) {
			mu.Lock()
			defer mu.Unlock()
			events = append(events, fmt.Sprintf("release ok=%v serving-new=%v ready=%v", ok, n.cert.Load() == &newCert, n.ready.Load()))
		}, nil
	}
	var out bytes.Buffer
	results, err := Restart(ctx, affected, Options{Timeout: 5 * time.Second, Poll: 20 * time.Millisecond, Now: fixedNow, Out: &out,
		ListenerPID: k.listenerPID, Coordinate: coordinate, ProgressEvery: 100 * time.Millisecond, ReadyFor: 50 * time.Millisecond})
	if err != nil {
		t.Fatalf("Restart: %v\n%s", err, out.String())
	}
	if results[0].Status != ServingNew {
		t.Errorf("status %s, want %s", results[0].Status, ServingNew)
	}
	t.Logf("output:\n%s", out.String())
	if got, want := strings.Join(events, "; "), "acquire kube-apiserver annotated=false; release ok=true serving-new=true ready=true"; got != want {
		t.Errorf("turns: %s\nwant %s", got, want)
	}
	lines := strings.Count(out.String(), "\n")
	for _, want := range []string{
		"[restart] kube-apiserver: waiting for the new process: the old one (pid 100) still listens on port",
		"[restart] kube-apiserver: serving the new certificate, waiting for it to be ready: /readyz: 500 Internal Server Error [-]etcd failed: reason withheld",
	} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("output lacks %q:\n%s", want, out.String())
		}
	}
	// About 1 s of waiting, a line every 100 ms at most.
	if progress := strings.Count(out.String(), " of 5s)\n"); progress < 3 || progress > 12 || lines > progress+3 {
		t.Errorf("%d progress lines of %d:\n%s", progress, lines, out.String())
	}
}

// TestRestartCoordinateFails: when the turn cannot be had, the manifest
// is not touched and the restart is owed; when the restart fails, the turn
// is released as failed.
func TestRestartCoordinateFails(t *testing.T) {
	oldCert, newCert := newCert(t, 1001), newCert(t, 2002)
	n := newNode(t, oldCert)
	n.writeCert(t, "apiserver.crt", newCert)
	set, err := Load(n.manifestDir)
	if err != nil {
		t.Fatal(err)
	}
	affected := set.Affected([]string{filepath.Join(n.certDir, "apiserver.crt"), "/etc/kubernetes/controller-manager.conf"})
	k := &kubelet{pids: map[int]int{}}
	refuse := func(context.Context, string) (func(bool), error) {
		return nil, errors.New("waited 15m0s for the Lease")
	}
	results, err := Restart(context.Background(), affected, Options{Timeout: time.Second, Poll: 20 * time.Millisecond, Now: fixedNow, ListenerPID: k.listenerPID, Coordinate: refuse})
	if err == nil || !strings.Contains(err.Error(), "restart kube-apiserver: waited 15m0s for the Lease") || results[0].Status != Failed || results[1].Status != Skipped {
		t.Fatalf("err %v, results %+v", err, results)
	}
	for _, name := range []string{"kube-apiserver.yaml", "kube-controller-manager.yaml"} {
		if data, _ := os.ReadFile(filepath.Join(n.manifestDir, name)); bytes.Contains(data, []byte(RestartAnnotation)) {
			t.Errorf("%s annotated without the turn", name)
		}
	}
	var released []bool
	keep := func(context.Context, string) (func(bool), error) {
		return func(ok bool) { released = append(released, ok) }, nil
	}
	var out bytes.Buffer
	_, err = Restart(context.Background(), affected[:1], Options{Timeout: 300 * time.Millisecond, Poll: 20 * time.Millisecond, Now: fixedNow, Out: &out, ListenerPID: k.listenerPID, Coordinate: keep})
	if err == nil || fmt.Sprint(released) != "[false]" {
		t.Errorf("a restart that timed out: err %v, released %v; want an error and one release, failed", err, released)
	}
	if strings.Contains(out.String(), " of 300ms)") {
		t.Errorf("a progress line before ProgressEvery (10s) passed:\n%s", out.String())
	}
}

// TestRestartEtcdWaitsForItsAPIServer: with Coordinate, an etcd restart
// hands the turn on only once this node's kube-apiserver
// (Options.APIServer), which uses that etcd member, answers /readyz again;
// without Options.APIServer, or when that kube-apiserver was not ready
// before, as soon as etcd is back.
func TestRestartEtcdWaitsForItsAPIServer(t *testing.T) {
	for _, tc := range []struct {
		name        string
		apiServer   bool
		readyBefore bool
		want        string
	}{
		{"its kube-apiserver", true, true, "acquire etcd; release ok=true ready=true"},
		{"no kube-apiserver", false, true, "acquire etcd; release ok=true ready=false"},
		{"its kube-apiserver not ready before", true, false, "acquire etcd; release ok=true ready=false"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			n := newHTTPNode(t, newCert(t, 1001))
			set, err := Load(n.manifestDir)
			if err != nil {
				t.Fatal(err)
			}
			if got := set.APIServerAddress(); got != n.addr {
				t.Fatalf("APIServerAddress %q, want %q", got, n.addr)
			}
			// etcd reads the etcd CA, and serves none of the changed files.
			affected := set.Affected([]string{"/etc/kubernetes/pki/etcd/ca.crt"})
			if len(affected) != 1 || affected[0].Component != pki.Etcd || affected[0].Port != 2379 {
				t.Fatalf("affected: %+v", affected)
			}
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			k := &kubelet{pids: map[int]int{}}
			// The kube-apiserver is not ready while its etcd restarts, and
			// ready again 300 ms after it, if it was before.
			n.ready.Store(tc.readyBefore)
			k.watch(t, ctx, filepath.Join(n.manifestDir, "etcd.yaml"), 2379, func() {
				n.ready.Store(false)
				if tc.readyBefore {
					go func() { time.Sleep(300 * time.Millisecond); n.ready.Store(true) }()
				}
			})
			var mu sync.Mutex
			var events []string
			coordinate := func(_ context.Context, component string) (func(bool), error) {
				mu.Lock()
				defer mu.Unlock()
				events = append(events, "acquire "+component)
				return func(ok bool) {
					mu.Lock()
					defer mu.Unlock()
					events = append(events, fmt.Sprintf("release ok=%v ready=%v", ok, n.ready.Load()))
				}, nil
			}
			o := Options{Timeout: 5 * time.Second, Poll: 20 * time.Millisecond, Now: fixedNow, Out: &bytes.Buffer{},
				ListenerPID: k.listenerPID, Coordinate: coordinate, ProgressEvery: 100 * time.Millisecond, ReadyFor: 50 * time.Millisecond}
			if tc.apiServer {
				o.APIServer = set.APIServerAddress()
			}
			results, err := Restart(ctx, affected, o)
			out := o.Out.(*bytes.Buffer).String()
			if err != nil || results[0].Status != Restarted {
				t.Fatalf("Restart: %v, %+v\n%s", err, results, out)
			}
			mu.Lock()
			got := strings.Join(events, "; ")
			mu.Unlock()
			if got != tc.want {
				t.Errorf("turns: %s\nwant %s\noutput:\n%s", got, tc.want, out)
			}
			for _, line := range []struct {
				text string
				want bool
			}{
				{"[restart] etcd: restarted, waiting for this node's kube-apiserver " + n.addr + " to be ready: /readyz: 500 Internal Server Error [-]etcd failed: reason withheld", tc.apiServer && tc.readyBefore},
				{"[restart] etcd: this node's kube-apiserver " + n.addr + " is not ready before the restart (/readyz: 500 Internal Server Error [-]etcd failed: reason withheld): not waited for\n", tc.apiServer && !tc.readyBefore},
			} {
				if strings.Contains(out, line.text) != line.want {
					t.Errorf("output says %q: %v, want %v:\n%s", line.text, !line.want, line.want, out)
				}
			}
		})
	}
}

// TestRestartInterruptedChangesNoManifest: a run interrupted (its context
// ended: SIGTERM, SIGINT) before a component's manifest is changed changes
// none: the kubelet would otherwise restart the component with no one
// waiting for it, while the restart Lease is no longer renewed and the
// other nodes go on once it expires. The restart fails (it stays owed), and
// a turn that was had is handed on as nothing was restarted.
func TestRestartInterruptedChangesNoManifest(t *testing.T) {
	for _, tc := range []struct {
		name string
		// coordinate, when set, ends the run's context while it waits for
		// the turn, and returns it all the same.
		coordinate bool
	}{
		{name: "alone: interrupted before the restarts"},
		{name: "interrupted while waiting for the turn", coordinate: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			oldCert, newCert := newCert(t, 1001), newCert(t, 2002)
			n := newNode(t, oldCert)
			n.writeCert(t, "apiserver.crt", newCert)
			before := snapshot(t, n.manifestDir)
			set, err := Load(n.manifestDir)
			if err != nil {
				t.Fatal(err)
			}
			affected := set.Affected([]string{filepath.Join(n.certDir, "apiserver.crt"), "/etc/kubernetes/controller-manager.conf"})
			k := &kubelet{pids: map[int]int{}}
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			o := Options{Timeout: time.Second, Poll: 20 * time.Millisecond, Now: fixedNow, ListenerPID: k.listenerPID}
			var released []bool
			if tc.coordinate {
				o.Coordinate = func(context.Context, string) (func(bool), error) {
					cancel()
					return func(ok bool) { released = append(released, ok) }, nil
				}
			} else {
				cancel()
			}
			results, err := Restart(ctx, affected, o)
			if !errors.Is(err, context.Canceled) || len(results) != 2 || results[0].Status != Failed || results[1].Status != Skipped {
				t.Fatalf("err %v, results %+v; want context.Canceled, kube-apiserver failed, kube-controller-manager skipped", err, results)
			}
			if !strings.Contains(err.Error(), "not changed") {
				t.Errorf("err %q does not say that the manifest was not changed", err)
			}
			after := snapshot(t, n.manifestDir)
			for name, b := range before {
				if !bytes.Equal(b, after[name]) {
					t.Errorf("%s changed by an interrupted run:\n%s", name, after[name])
				}
			}
			if len(after) != len(before) {
				t.Errorf("files before %d, after %d", len(before), len(after))
			}
			if want := map[bool]string{true: "[true]", false: "[]"}[tc.coordinate]; fmt.Sprint(released) != want {
				t.Errorf("turn released %v, want %s: nothing was restarted", released, want)
			}
		})
	}
}

// TestRestartReadyWithoutAnonymous: a kube-apiserver that refuses
// anonymous requests (--anonymous-auth=false, as CIS benchmarks ask)
// answers /readyz with 401, which cannot tell whether it is ready: the
// turn was handed on as soon as it served its new certificate, and the
// next node took a second kube-apiserver down while this one was not
// ready. /readyz is then asked again with its client certificate
// (--kubelet-client-certificate), and the turn waits for it to be ready.
func TestRestartReadyWithoutAnonymous(t *testing.T) {
	oldCert, newCert, client := newCert(t, 1001), newCert(t, 2002), newCert(t, 3003)
	n := newHTTPNode(t, oldCert)
	n.noAnonymous.Store(true)
	n.writeCert(t, "apiserver.crt", newCert)
	n.writeCert(t, "apiserver-kubelet-client.crt", client)
	der, err := x509.MarshalPKCS8PrivateKey(client.PrivateKey)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(n.certDir, "apiserver-kubelet-client.key"), pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
	manifest := filepath.Join(n.manifestDir, "kube-apiserver.yaml")
	data, err := os.ReadFile(manifest)
	if err != nil {
		t.Fatal(err)
	}
	data = bytes.Replace(data, []byte("    - --tls-cert-file="), []byte("    - --kubelet-client-certificate=/etc/kubernetes/pki/apiserver-kubelet-client.crt\n    - --kubelet-client-key=/etc/kubernetes/pki/apiserver-kubelet-client.key\n    - --tls-cert-file="), 1)
	if err := os.WriteFile(manifest, data, 0o600); err != nil {
		t.Fatal(err)
	}
	set, err := Load(n.manifestDir)
	if err != nil {
		t.Fatal(err)
	}
	affected := set.Affected([]string{filepath.Join(n.certDir, "apiserver.crt")})
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	k := &kubelet{pids: map[int]int{}}
	k.watch(t, ctx, manifest, n.port, func() {
		n.cert.Store(&newCert)
		go func() { // ready after three answers of not ready
			for n.notReady.Load() < 3 && ctx.Err() == nil {
				time.Sleep(10 * time.Millisecond)
			}
			n.ready.Store(true)
		}()
	})
	var released []string
	coordinate := func(context.Context, string) (func(bool), error) {
		return func(ok bool) { released = append(released, fmt.Sprintf("ok=%v ready=%v", ok, n.ready.Load())) }, nil
	}
	var out bytes.Buffer
	results, err := Restart(ctx, affected, Options{Timeout: 5 * time.Second, Poll: 20 * time.Millisecond, Now: fixedNow, Out: &out,
		ListenerPID: k.listenerPID, Coordinate: coordinate, ReadyFor: 50 * time.Millisecond})
	if err != nil || results[0].Status != ServingNew {
		t.Fatalf("Restart: %v, %+v\n%s", err, results, out.String())
	}
	if got := strings.Join(released, "; "); got != "ok=true ready=true" {
		t.Errorf("turn released %q, want once, once kube-apiserver was ready\n%s", got, out.String())
	}
	if n.notReady.Load() < 3 {
		t.Errorf("/readyz answered not ready %d times to certctl, want 3 or more", n.notReady.Load())
	}
}

// TestRestartOldProcessSeenAfterTurn: the process to be replaced is the
// one on the port once the turn is had, not the one before the wait for
// it: a kube-apiserver restarted meanwhile (by the kubelet, its liveness
// probe; the wait for the Lease lasts up to 15 minutes) was taken for the
// restart itself, which was then reported done, and the turn handed on,
// before the kubelet had even stopped the pod: the next node restarted
// its kube-apiserver while this one did.
func TestRestartOldProcessSeenAfterTurn(t *testing.T) {
	oldCert, newCert := newCert(t, 1001), newCert(t, 2002)
	n := newHTTPNode(t, oldCert)
	n.ready.Store(true)
	n.writeCert(t, "apiserver.crt", newCert)
	set, err := Load(n.manifestDir)
	if err != nil {
		t.Fatal(err)
	}
	affected := set.Affected([]string{filepath.Join(n.certDir, "apiserver.crt")})
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	k := &kubelet{pids: map[int]int{}}
	k.watch(t, ctx, filepath.Join(n.manifestDir, "kube-apiserver.yaml"), n.port, func() {
		time.Sleep(300 * time.Millisecond) // the pod stops, and the new one starts
	})
	var released []string
	coordinate := func(context.Context, string) (func(bool), error) {
		// While this node waited for its turn, its kube-apiserver was
		// restarted (pid 150), and serves the new certificate.
		k.mu.Lock()
		k.pids[n.port] = 150
		k.mu.Unlock()
		n.cert.Store(&newCert)
		return func(ok bool) {
			pid, _ := k.listenerPID("", n.port)
			released = append(released, fmt.Sprintf("ok=%v pid=%d", ok, pid))
		}, nil
	}
	var out bytes.Buffer
	results, err := Restart(ctx, affected, Options{Timeout: 5 * time.Second, Poll: 20 * time.Millisecond, Now: fixedNow, Out: &out,
		ListenerPID: k.listenerPID, Coordinate: coordinate, ReadyFor: 50 * time.Millisecond})
	if err != nil {
		t.Fatalf("Restart: %v\n%s", err, out.String())
	}
	if r := results[0]; r.Status != ServingNew || r.OldPID != 150 || r.NewPID != 200 {
		t.Errorf("status %s, pid %d was %d; want %s, pid 200 was 150\n%s", r.Status, r.NewPID, r.OldPID, ServingNew, out.String())
	}
	if got := strings.Join(released, "; "); got != "ok=true pid=200" {
		t.Errorf("turn released %q, want once, after the kubelet's restart (pid 200)\n%s", got, out.String())
	}
}
