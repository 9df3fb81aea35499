package signer

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/certctl/certctl/internal/output"
	"github.com/certctl/certctl/internal/treetest"
	"github.com/certctl/certctl/manifests"
	"github.com/certctl/certctl/pki"
)

func TestStatusBuiltIn(t *testing.T) {
	certDir := t.TempDir()
	for _, tc := range []struct {
		manifest string
		enabled  bool
		reason   string
		// state of each built-in signer name
		states map[string]string
	}{
		{"kubeadm.yaml", true, "", map[string]string{"kubernetes.io/kube-apiserver-client": "on", "kubernetes.io/kubelet-serving": "on"}},
		{"kubeadm-external-ca.yaml", false, "external-CA mode", map[string]string{"kubernetes.io/kube-apiserver-client": "off"}},
		{"per-signer.yaml", true, "", map[string]string{"kubernetes.io/kube-apiserver-client": "on", "kubernetes.io/kube-apiserver-client-kubelet": "on"}},
		{"missing.yaml", false, "no manifest", map[string]string{"kubernetes.io/kubelet-serving": "off"}},
	} {
		t.Run(tc.manifest, func(t *testing.T) {
			s, err := Status(filepath.Join("..", "..", "manifests", "testdata", tc.manifest), certDir, testNow)
			if err != nil {
				t.Fatal(err)
			}
			if s.BuiltIn.Enabled != tc.enabled || !strings.Contains(s.BuiltIn.Reason, tc.reason) {
				t.Errorf("enabled %v reason %q, want %v and %q", s.BuiltIn.Enabled, s.BuiltIn.Reason, tc.enabled, tc.reason)
			}
			for name, want := range tc.states {
				if got := state(s, name); got != want {
					t.Errorf("%s: %q, want %q", name, got, want)
				}
			}
		})
	}
}

func state(s *SignerStatus, name string) string {
	for _, e := range s.Signers {
		if e.Name == name {
			return e.State
		}
	}
	return "absent"
}

// TestStatusCertctlSigners: a certctl signer name is "ready" when its CA's
// certificate and key are in the folder and signer run can sign with them,
// "ca-unusable" when they are there but it cannot (with why: status said
// "ready" for a signer run that then refused to start), "no-ca-key" with
// only the certificate (an external CA), "no-ca" without either.
func TestStatusCertctlSigners(t *testing.T) {
	certDir := t.TempDir()
	ca := newTestCA(t, "kubernetes", testNow.Add(time.Hour))
	keyPEM, err := pki.MarshalPrivateKey(ca.Key)
	if err != nil {
		t.Fatal(err)
	}
	for f, data := range map[string][]byte{
		"ca.crt": pki.EncodeCert(ca.Cert), "ca.key": keyPEM, "front-proxy-ca.crt": []byte("x"),
		// DER, as a Windows CA hands it out
		"etcd/ca.crt": ca.Cert.Raw, "etcd/ca.key": keyPEM,
	} {
		if err := os.MkdirAll(filepath.Dir(filepath.Join(certDir, f)), 0o700); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(certDir, f), data, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	s, err := Status(filepath.Join(t.TempDir(), "none.yaml"), certDir, testNow)
	if err != nil {
		t.Fatal(err)
	}
	for name, want := range map[string]string{
		KubeAPIServerServing: "ready", KubeAPIServerClient: "ready", FrontProxyClient: "no-ca-key", EtcdServer: "ca-unusable", EtcdPeer: "ca-unusable",
	} {
		if got := state(s, name); got != want {
			t.Errorf("%s: %q, want %q", name, got, want)
		}
	}
	// After it expired, the CA that was ready cannot sign: signer run
	// refuses an expired CA at start.
	later, err := Status(filepath.Join(t.TempDir(), "none.yaml"), certDir, testNow.Add(2*time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	if got := state(later, KubeAPIServerServing); got != "ca-unusable" {
		t.Errorf("expired CA: %q, want ca-unusable", got)
	}
	var text bytes.Buffer
	textFormat, _ := output.Parse("text")
	if err := s.Print(&text, textFormat); err != nil {
		t.Fatal(err)
	}
	wantLine := "problem: " + EtcdServer + ": CA certificate " + filepath.Join(certDir, "etcd/ca.crt") + ": it holds a DER certificate, not PEM: convert it with `openssl x509 -inform der"
	if !strings.Contains(text.String(), wantLine) {
		t.Errorf("text output lacks %q:\n%s", wantLine, text.String())
	}
	problems := 0
	for _, e := range s.Signers {
		if (e.Problem != "") != (e.State == "ca-unusable") {
			t.Errorf("%s: state %s, problem %q", e.Name, e.State, e.Problem)
		}
		if e.Problem != "" {
			problems++
		}
	}
	if problems != 3 {
		t.Errorf("%d signer names with a problem, want etcd's three", problems)
	}
	var b bytes.Buffer
	f, _ := output.Parse("jsonpath={.signers[?(@.name==\"" + KubeAPIServerServing + "\")].certificates}")
	if err := s.Print(&b, f); err != nil {
		t.Fatal(err)
	}
	if got := strings.TrimSpace(b.String()); got != `["apiserver"]` {
		t.Errorf("certificates of %s: %s", KubeAPIServerServing, got)
	}
}

// TestManifestFIFO: a FIFO in place of kube-controller-manager's manifest
// is refused at once, naming it, by `signer status` (its reason) and by
// `signer enable|disable` (ManifestEdit.Apply), instead of blocking them.
func TestManifestFIFO(t *testing.T) {
	fifo := filepath.Join(t.TempDir(), "kube-controller-manager.yaml")
	treetest.FIFO(t, fifo)
	var status string
	err := treetest.Unblocked(t, "Status("+fifo+")", func() error {
		s, err := Status(fifo, t.TempDir(), testNow)
		if err == nil {
			status = s.BuiltIn.Reason
		}
		return err
	})
	if err != nil {
		status = err.Error()
	}
	e := ManifestEdit{Manifest: fifo, DryRun: true, Out: io.Discard}
	err = treetest.Unblocked(t, "ManifestEdit.Apply("+fifo+")", func() error {
		return e.Apply(context.Background(), "disable", manifests.DisableSigner)
	})
	for _, got := range []string{status, fmt.Sprint(err)} {
		if !strings.Contains(got, fifo) || !strings.Contains(got, "FIFO") {
			t.Errorf("got %q, want it to name the FIFO %s", got, fifo)
		}
	}
}

// TestStatusControllers: signer status reads --controllers as
// kube-controller-manager v1.37 does. It said "on" for a manifest that
// turned the signer off by the controller's name in kube-controller-manager
// --help (-certificatesigningrequest-signing-controller) or ran no
// controller at all ("--controllers="), and "off" for one whose first
// entry (which decides) turned it on.
func TestStatusControllers(t *testing.T) {
	kubeadm, err := os.ReadFile(filepath.Join("..", "..", "manifests", "testdata", "kubeadm.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	const line = "--controllers=*,bootstrapsigner,tokencleaner"
	if !bytes.Contains(kubeadm, []byte(line)) {
		t.Fatalf("kubeadm.yaml has no %s", line)
	}
	for controllers, want := range map[string]bool{
		"*,bootstrapsigner,tokencleaner":                  true,
		"*,-certificatesigningrequest-signing-controller": false,
		"":                       false,
		"csrsigning,-csrsigning": true,
		"-csrsigning,csrsigning": false,
		// Given twice, a string slice flag adds up.
		"-csrsigning\n    - --controllers=*": false,
	} {
		t.Run(strings.ReplaceAll(controllers, "\n", " "), func(t *testing.T) {
			manifest := filepath.Join(t.TempDir(), "kube-controller-manager.yaml")
			data := bytes.Replace(kubeadm, []byte(line), []byte("--controllers="+controllers), 1)
			if err := os.WriteFile(manifest, data, 0o600); err != nil {
				t.Fatal(err)
			}
			s, err := Status(manifest, t.TempDir(), testNow)
			if err != nil {
				t.Fatal(err)
			}
			if s.BuiltIn.Enabled != want {
				t.Errorf("--controllers=%s: enabled %v (%s), want %v", controllers, s.BuiltIn.Enabled, s.BuiltIn.Reason, want)
			}
			if !want && !strings.Contains(s.BuiltIn.Reason, "turns the csrsigning controller off") {
				t.Errorf("--controllers=%s: reason %q", controllers, s.BuiltIn.Reason)
			}
		})
	}
}

// TestStatusDuration: a --cluster-signing-duration that
// kube-controller-manager cannot read ("1y") stops it at start; signer
// status said "on" with no problem.
func TestStatusDuration(t *testing.T) {
	kubeadm, err := os.ReadFile(filepath.Join("..", "..", "manifests", "testdata", "kubeadm.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	const at = "    - --controllers="
	for d, problem := range map[string]bool{"8760h": false, "8760h0m0s": false, "1y": true} {
		t.Run(d, func(t *testing.T) {
			manifest := filepath.Join(t.TempDir(), "kube-controller-manager.yaml")
			data := bytes.Replace(kubeadm, []byte(at), []byte("    - --cluster-signing-duration="+d+"\n"+at), 1)
			if err := os.WriteFile(manifest, data, 0o600); err != nil {
				t.Fatal(err)
			}
			s, err := Status(manifest, t.TempDir(), testNow)
			if err != nil {
				t.Fatal(err)
			}
			got := strings.Join(s.BuiltIn.Problems, "\n")
			if problem != strings.Contains(got, "--cluster-signing-duration="+d+" is not a duration") || s.BuiltIn.Enabled == problem {
				t.Errorf("--cluster-signing-duration=%s: enabled %v, problems %q", d, s.BuiltIn.Enabled, got)
			}
			if strings.Contains(got, "--per-signer") {
				t.Errorf("the general pair is set, yet the problem says --per-signer: %s", got)
			}
		})
	}
}
