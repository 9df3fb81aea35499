package manifests

import (
	"bytes"
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"

	"github.com/pmezard/go-difflib/difflib"
	corev1 "k8s.io/api/core/v1"
	apiequality "k8s.io/apimachinery/pkg/api/equality"
)

const restartedAt = "certctl.io/restartedAt"

// edits are the three text edits: the signer on (with a folder that needs
// a volume, so that lines are inserted), off, and the restart annotation.
// want returns the pod the decode-change-encode code made.
var edits = []struct {
	name string
	edit func([]byte) ([]byte, error)
	want func(t *testing.T, in []byte) *corev1.Pod
}{
	{"enable", func(b []byte) ([]byte, error) { out, _, err := EnableSigner(b, otherDir); return out, err }, func(t *testing.T, in []byte) *corev1.Pod { return patched(t, in, enable(otherDir)) }},
	{"disable", func(b []byte) ([]byte, error) { out, _, err := DisableSigner(b); return out, err }, func(t *testing.T, in []byte) *corev1.Pod { return patched(t, in, disable) }},
	{"annotate", func(b []byte) ([]byte, error) { return SetAnnotation(b, restartedAt, "2026-03-01T10:00:00Z") }, func(t *testing.T, in []byte) *corev1.Pod {
		pod, err := Parse(in)
		if err != nil {
			t.Fatal(err)
		}
		if pod.Annotations == nil {
			pod.Annotations = map[string]string{}
		}
		pod.Annotations[restartedAt] = "2026-03-01T10:00:00Z"
		return pod
	}},
}

var otherDir = SignerOptions{CertFile: "/srv/kubernetes/pki/ca.crt", KeyFile: "/srv/kubernetes/pki/ca.key"}

func patched(t *testing.T, in []byte, f patchFunc) *corev1.Pod {
	t.Helper()
	pod, c, fl, err := controllerManager(in)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f(pod, c, fl); err != nil {
		t.Fatal(err)
	}
	return pod
}

// TestTextEditGolden: hand-edited manifests with comments, CRLF, quoting,
// flow lists and JSON keep every line the edit does not change.
func TestTextEditGolden(t *testing.T) {
	for _, fixture := range []string{"hand-crlf.yaml", "flow.yaml", "hand-no-flags.json", "kubeadm.json", "hand-edited.yaml"} {
		for _, e := range edits {
			name := "text/" + strings.TrimSuffix(fixture, filepath.Ext(fixture)) + "." + e.name + filepath.Ext(fixture)
			t.Run(name, func(t *testing.T) {
				in := readFixture(t, fixture)
				out, err := e.edit(in)
				if err != nil {
					t.Fatal(err)
				}
				checkGolden(t, name, out)
				checkTextEdit(t, in, out, e.want(t, in))
				if again, err := e.edit(out); err != nil || !bytes.Equal(again, out) {
					t.Errorf("a second %s changed the manifest (%v):\n%s", e.name, err, again)
				}
				if bytes.Contains(in, []byte("\r\n")) && bytes.Count(out, []byte("\n")) != bytes.Count(out, []byte("\r\n")) {
					t.Errorf("a line of the CRLF manifest lost its CR:\n%q", out)
				}
				if filepath.Ext(fixture) == ".json" && !json.Valid(out) {
					t.Errorf("the JSON manifest is no longer JSON:\n%s", out)
				}
			})
		}
	}
}

// TestTextEditProperty: on every fixture, each edit re-parses to the pod
// the old decode-change-encode code made, and changes only the lines that
// hold what changed: every other line is kept byte for byte.
func TestTextEditProperty(t *testing.T) {
	fixtures, _ := filepath.Glob(filepath.Join("testdata", "*.yaml"))
	jsons, _ := filepath.Glob(filepath.Join("testdata", "*.json"))
	for _, p := range append(fixtures, jsons...) {
		for _, e := range edits {
			t.Run(filepath.Base(p)+"/"+e.name, func(t *testing.T) {
				in := readFixture(t, filepath.Base(p))
				out, err := e.edit(in)
				if err != nil {
					t.Fatal(err)
				}
				checkTextEdit(t, in, out, e.want(t, in))
			})
		}
	}
}

// checkTextEdit checks that out decodes to want and that every line the
// diff removes from in either names a value the edit changes (a signing
// flag or file, --controllers, a volume of the signer, the annotation) or
// comes back with bytes added only (a JSON "}" gaining its ",", a flow
// list gaining an item).
func checkTextEdit(t *testing.T, in, out []byte, want *corev1.Pod) {
	t.Helper()
	got, err := Parse(out)
	if err != nil {
		t.Fatalf("the edited manifest does not parse: %v\n%s", err, out)
	}
	if !apiequality.Semantic.DeepEqual(got, want) {
		t.Errorf("the edited manifest is not the pod the old code made:\n%s", out)
	}
	a, b := difflib.SplitLines(string(in)), difflib.SplitLines(string(out))
	for _, op := range difflib.NewMatcher(a, b).GetOpCodes() {
		added := strings.Join(b[op.J1:op.J2], "")
	lines:
		for _, l := range a[op.I1:op.I2] {
			for _, m := range []string{"cluster-signing", "controllers", "ca.crt", "ca.key", "/srv/", VolumePrefix, restartedAt} {
				if strings.Contains(l, m) {
					continue lines
				}
			}
			if !subsequence(strings.TrimRight(l, "\r\n"), added) {
				t.Errorf("the edit changed line %q, which holds nothing it changes", l)
			}
		}
	}
	d, err := UnifiedDiff("a", "b", in, out)
	if err != nil {
		t.Fatal(err)
	}
	if n, shown := ChangeCount(in, out), diffChanges(d); n != shown {
		t.Errorf("ChangeCount = %d, the diff shows %d:\n%s", n, shown, d)
	}
}

// subsequence reports whether b holds every byte of a in order.
func subsequence(a, b string) bool {
	for i := 0; i < len(a); i++ {
		k := strings.IndexByte(b, a[i])
		if k < 0 {
			return false
		}
		b = b[k+1:]
	}
	return true
}

// diffChanges counts the changes of a unified diff as a reader does: in
// each run of removed and added lines, the longer side.
func diffChanges(d string) int {
	n, minus, plus := 0, 0, 0
	flush := func() { n, minus, plus = n+max(minus, plus), 0, 0 }
	for _, l := range strings.SplitAfter(d, "\n") {
		switch {
		case strings.HasPrefix(l, "---") || strings.HasPrefix(l, "+++"):
		case strings.HasPrefix(l, "-"):
			minus++
		case strings.HasPrefix(l, "+"):
			plus++
		default:
			flush()
		}
	}
	flush()
	return n
}

func TestChangeCount(t *testing.T) {
	off := readFixture(t, "kubeadm-external-ca.yaml")
	on, changes, err := EnableSigner(off, general)
	if err != nil {
		t.Fatal(err)
	}
	if n := ChangeCount(off, on); n != 2 || len(changes) != 2 {
		t.Errorf("ChangeCount = %d, changes %q; want 2 of each", n, changes)
	}
	in := readFixture(t, "hand-no-flags.yaml")
	out, _, err := EnableSigner(in, otherDir)
	if err != nil {
		t.Fatal(err)
	}
	if n := ChangeCount(in, out); n != 9 { // two flags, a mount's 3 lines, a volume's 4
		t.Errorf("ChangeCount = %d, want 9", n)
	}
}

// TestFlagSpellings: every spelling of a flag is found and replaced,
// never given a second copy.
func TestFlagSpellings(t *testing.T) {
	base := "apiVersion: v1\nkind: Pod\nmetadata:\n  name: kcm\nspec:\n  containers:\n  - name: kube-controller-manager\n    command:\n    - kube-controller-manager\n%s    - --use-service-account-credentials=true\n"
	for name, flag := range map[string]string{
		"equals":        "    - --cluster-signing-cert-file=/old/ca.crt\n",
		"one item":      "    - --cluster-signing-cert-file /old/ca.crt\n",
		"single dash":   "    - -cluster-signing-cert-file=/old/ca.crt\n",
		"separate item": "    - --cluster-signing-cert-file\n    - /old/ca.crt\n",
	} {
		t.Run(name, func(t *testing.T) {
			in := []byte(strings.Replace(base, "%s", flag, 1))
			out, _, err := EnableSigner(in, general)
			if err != nil {
				t.Fatal(err)
			}
			if n := strings.Count(string(out), "cluster-signing-cert-file"); n != 1 || !strings.Contains(string(out), "    - --cluster-signing-cert-file="+caCrt+"\n") {
				t.Errorf("the flag is there %d times:\n%s", n, out)
			}
			if d, _ := UnifiedDiff("in", "out", in, out); strings.Count(d, "\n-") != strings.Count(flag, "\n") {
				t.Errorf("more than the flag's lines changed:\n%s", d)
			}
		})
	}
}

// TestTextEditRefused: what cannot be edited safely as text is refused
// with a message that says to edit by hand, and nothing is returned.
func TestTextEditRefused(t *testing.T) {
	kubeadm := string(readFixture(t, "kubeadm-external-ca.yaml"))
	for name, in := range map[string]string{
		"block scalar":   strings.Replace(kubeadm, "    - --cluster-signing-cert-file=\n", "    - >-\n      --cluster-signing-cert-file=\n", 1),
		"lone CR":        strings.Replace(kubeadm, "kind: Pod\n", "kind: Pod\r", 1),
		"anchored value": strings.Replace(kubeadm, "    - --cluster-signing-cert-file=\n", "    - &a --cluster-signing-cert-file=\n", 1),
	} {
		t.Run(name, func(t *testing.T) {
			out, _, err := EnableSigner([]byte(in), general)
			if err == nil || !strings.Contains(err.Error(), "by hand") || out != nil {
				t.Fatalf("err = %v, out %d bytes; want a refusal that says to edit by hand", err, len(out))
			}
		})
	}
}

// TestSetAnnotationInPlace: an existing annotations block gains one line;
// a new value replaces the old one on its line.
func TestSetAnnotationInPlace(t *testing.T) {
	in := []byte("apiVersion: v1\nkind: Pod\nmetadata:\n  annotations:\n    kubeadm.kubernetes.io/etcd.advertise-client-urls: https://192.0.2.10:2379  # kubeadm's\n  creationTimestamp: null\n  name: etcd\nspec:\n  containers:\n  - name: etcd\n    resources: {}\nstatus: {}\n")
	once, err := SetAnnotation(in, restartedAt, "2026-03-01T10:00:00Z")
	if err != nil {
		t.Fatal(err)
	}
	want := strings.Replace(string(in), "  # kubeadm's\n", "  # kubeadm's\n    certctl.io/restartedAt: \"2026-03-01T10:00:00Z\"\n", 1)
	if string(once) != want {
		t.Errorf("first annotation:\n%s\nwant:\n%s", once, want)
	}
	twice, err := SetAnnotation(once, restartedAt, "2026-03-02T10:00:00Z")
	if err != nil {
		t.Fatal(err)
	}
	if want := strings.Replace(want, "2026-03-01", "2026-03-02", 1); string(twice) != want {
		t.Errorf("second annotation:\n%s\nwant:\n%s", twice, want)
	}
}

// TestNoFinalNewline: lines added at the end of a file that ends without a
// newline start on a line of their own, and the file still ends without one.
func TestNoFinalNewline(t *testing.T) {
	in := []byte("apiVersion: v1\r\nkind: Pod\r\nmetadata:\r\n  name: kcm\r\nspec:\r\n  containers:\r\n  - name: kube-controller-manager\r\n    command:\r\n    - kube-controller-manager\r\n    volumeMounts:\r\n    - {mountPath: /etc/kubernetes/pki, name: k8s-certs}\r\n  volumes:\r\n  - name: k8s-certs\r\n    hostPath:\r\n      path: /etc/kubernetes/pki")
	out, _, err := EnableSigner(in, otherDir)
	if err != nil {
		t.Fatal(err)
	}
	want := "\r\n      path: /etc/kubernetes/pki\r\n  - hostPath:\r\n      path: /srv/kubernetes/pki\r\n      type: Directory\r\n    name: certctl-signing-ca"
	if !strings.HasSuffix(string(out), want) {
		t.Errorf("got:\n%q\nwant it to end with %q", out, want)
	}
	checkTextEdit(t, in, out, patched(t, in, enable(otherDir)))
}

// TestEnableSignerTwoItemsQuoting: a flag written as two items, its value
// quoted, becomes one item in the quoting of the items that stay (plain, as
// kubeadm writes them), not in that of the removed value: it came out as
// "--cluster-signing-cert-file=..." in double quotes in a list of plain items.
func TestEnableSignerTwoItemsQuoting(t *testing.T) {
	in := readFixture(t, "kubeadm-external-ca.yaml")
	for _, f := range []string{"cert", "key"} {
		old := "    - --cluster-signing-" + f + "-file=\n"
		if !bytes.Contains(in, []byte(old)) {
			t.Fatalf("kubeadm-external-ca.yaml has no %q", old)
		}
		in = bytes.Replace(in, []byte(old), []byte("    - --cluster-signing-"+f+"-file\n    - \"/etc/old/ca."+f+"\"\n"), 1)
	}
	out, _, err := EnableSigner(in, general)
	if err != nil {
		t.Fatal(err)
	}
	want := readFixture(t, "kubeadm.yaml")
	if !bytes.Equal(out, want) {
		d, _ := UnifiedDiff("kubeadm.yaml", "enabled", want, out)
		t.Errorf("enable of the two-item flags is not kubeadm.yaml:\n%s", d)
	}
}
