package e2e

import (
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/certctl/certctl/internal/testcluster"
	"github.com/certctl/certctl/phases/signer"
	"github.com/certctl/certctl/pki"
)

// probe is the status and body of GET url, or 0 and the error.
func probe(url string) (int, string) {
	resp, err := http.Get(url)
	if err != nil {
		return 0, err.Error()
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(body)
}

// TestSignerReadyzAPIServerDown: kube-apiserver stops under `signer run`. /readyz (docs/signer.md's
// readinessProbe) reports not ready, saying the API server has not answered, within ~30 s, while
// /healthz (the livenessProbe) stays ok the whole time: a liveness probe that failed would restart
// the pod in a loop, which mends no API server. Once kube-apiserver is back, /readyz is ok again
// within seconds, and a CSR approved then is signed once client-go's informer has reconnected (its
// backoff, up to a minute: docs/signer.md). One cluster, ~1.5 min.
func TestSignerReadyzAPIServerDown(t *testing.T) {
	c := testcluster.Start(t, testcluster.Options{Components: []string{testcluster.Etcd, testcluster.APIServer}})
	ctx := testCtx(t, 5*time.Minute)
	cs, err := c.AdminClient()
	if err != nil {
		t.Fatal(err)
	}
	_, base := startSignerRun(t, ctx, t.TempDir(), append([]string{"--kubeconfig", c.Kubeconfig("admin.conf"), "--cert-dir", c.PKIDir()}, c.PKI().Flags()...)...)
	if code, body := probe(base + "/healthz"); code != http.StatusOK {
		t.Fatalf("/healthz with the API server up: %d %s", code, body)
	}

	if err := c.StopComponent(ctx, testcluster.APIServer); err != nil {
		t.Fatal(err)
	}
	stopped := time.Now()
	for {
		if code, body := probe(base + "/healthz"); code != http.StatusOK {
			t.Fatalf("/healthz (liveness) failed %s after the API server stopped: %d %s; a restart mends nothing there", time.Since(stopped).Round(time.Second), code, body)
		}
		code, body := probe(base + "/readyz")
		if code == http.StatusInternalServerError {
			if !strings.Contains(body, "the API server has not answered for") {
				t.Errorf("/readyz: %s, want it to say the API server has not answered", body)
			}
			t.Logf("/readyz not ready %s after the API server stopped: %s", time.Since(stopped).Round(time.Second), strings.TrimSpace(body))
			break
		}
		if code != http.StatusOK || time.Since(stopped) > 45*time.Second {
			t.Fatalf("/readyz %s after the API server stopped: %d %s; want 500 within 45 s", time.Since(stopped).Round(time.Second), code, body)
		}
		sleepOrFail(t, ctx, time.Second, "/readyz to report the API server down")
	}
	sleepOrFail(t, ctx, 10*time.Second, "a longer outage")
	if code, body := probe(base + "/healthz"); code != http.StatusOK {
		t.Fatalf("/healthz (liveness) failed during the outage: %d %s", code, body)
	}

	if err := c.StartComponent(ctx, testcluster.APIServer); err != nil {
		t.Fatal(err)
	}
	back := time.Now()
	for code, body := probe(base + "/readyz"); code != http.StatusOK; code, body = probe(base + "/readyz") {
		if time.Since(back) > 30*time.Second {
			t.Fatalf("/readyz still %d 30 s after the API server came back: %s", code, body)
		}
		sleepOrFail(t, ctx, 200*time.Millisecond, "/readyz to be ok again")
	}
	t.Logf("/readyz ok %s after the API server came back", time.Since(back).Round(100*time.Millisecond))

	peer := pki.ProfileFromCert("etcd-peer", "etcd/peer", "", readCert(t, c.PKIDir()+"/etcd/peer.crt"))
	req := createCSR(t, ctx, cs, "e2e-after-outage", signer.EtcdPeer, peer, newKey(t), bothUsages)
	approve(t, ctx, cs, req)
	waitCSR(t, ctx, cs, req.Name, issued)
	// client-go's reflector retries a broken watch after 0.8 s doubling to 30 s, each with up to
	// as much again of jitter (tools/cache/reflector.go), and no SharedInformerFactory option
	// changes it: docs/signer.md says up to a minute.
	if d := time.Since(back); d > 90*time.Second {
		t.Errorf("the CSR approved after the outage was signed %s after the API server came back, want within 90 s", d.Round(time.Second))
	} else {
		t.Logf("signing resumed %s after the API server came back", d.Round(100*time.Millisecond))
	}
}
