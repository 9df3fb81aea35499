package copycerts

import (
	"bytes"
	"context"
	"crypto/rand"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes/fake"
	"sigs.k8s.io/yaml"

	"github.com/certctl/certctl/internal/pkitest"
	"github.com/certctl/certctl/internal/treetest"
	"github.com/certctl/certctl/phases/config"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/")

var uploaded = time.Date(2026, 3, 2, 9, 30, 0, 0, time.UTC)

// downloaded is the clock of the tests' downloads: a minute after
// uploaded, within the TTL of the Secret upload makes (checkNotExpired).
func downloaded() time.Time { return uploaded.Add(time.Minute) }

// shared are the files of a stacked-etcd node that the Secret carries,
// relative to the certificate folder.
var shared = []string{"ca.crt", "ca.key", "front-proxy-ca.crt", "front-proxy-ca.key", "sa.pub", "sa.key", "etcd/ca.crt", "etcd/ca.key"}

func testKey(t *testing.T) []byte {
	t.Helper()
	k, err := NewKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	b, err := ParseKey(k)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func upload(t *testing.T, cs *fake.Clientset, certDir string, key []byte) time.Time {
	t.Helper()
	var out bytes.Buffer
	exp, err := Upload(context.Background(), cs, Options{CertDir: certDir, Key: key, Now: func() time.Time { return uploaded }, Rand: rand.Reader, Out: &out})
	if err != nil {
		t.Fatalf("Upload: %v\n%s", err, out.String())
	}
	return exp
}

func download(cs *fake.Clientset, certDir string, key []byte, ext *config.ExternalEtcd) (string, error) {
	var out bytes.Buffer
	err := Download(context.Background(), cs, Options{Now: downloaded, CertDir: certDir, ExternalEtcd: ext, Key: key, Rand: rand.Reader, Out: &out, ErrOut: &out})
	return out.String(), err
}

func TestUploadDownloadRoundTrip(t *testing.T) {
	n := pkitest.NewNode(t, nil)
	key := testKey(t)
	cs := fake.NewClientset()
	if exp := upload(t, cs, n.CertDir(), key); !exp.Equal(uploaded.Add(2 * time.Hour)) {
		t.Errorf("expiry %v, want 2h after %v", exp, uploaded)
	}

	dst := filepath.Join(t.TempDir(), "pki")
	out, err := download(cs, dst, key, nil)
	if err != nil {
		t.Fatalf("Download: %v\n%s", err, out)
	}
	for _, name := range shared {
		want, err := os.ReadFile(filepath.Join(n.CertDir(), name))
		if err != nil {
			t.Fatal(err)
		}
		got, err := os.ReadFile(filepath.Join(dst, name))
		if err != nil {
			t.Errorf("%s not downloaded: %v", name, err)
			continue
		}
		if !bytes.Equal(got, want) {
			t.Errorf("%s differs from the uploaded file", name)
		}
		st, _ := os.Stat(filepath.Join(dst, name))
		wantMode := os.FileMode(0o644)
		if strings.HasSuffix(name, ".key") || name == "sa.pub" {
			wantMode = 0o600
		}
		if st.Mode().Perm() != wantMode {
			t.Errorf("%s has mode %v, want %v", name, st.Mode().Perm(), wantMode)
		}
	}
	entries, _ := os.ReadDir(dst)
	if len(entries) != 7 { // 6 files and etcd/
		t.Errorf("downloaded folder holds %d entries, want the 6 files and etcd/: %v", len(entries), entries)
	}

	// Again: identical files are kept, nothing is written.
	before := treetest.Snapshot(t, dst)
	out, err = download(cs, dst, key, nil)
	if err != nil {
		t.Fatalf("second Download: %v\n%s", err, out)
	}
	treetest.AssertSame(t, before, treetest.Snapshot(t, dst))
	if !strings.Contains(out, "Every file is there already") {
		t.Errorf("second download says:\n%s", out)
	}

	// A partial folder (a file lost) gets only what it lacks.
	os.Remove(filepath.Join(dst, "sa.key"))
	if out, err := download(cs, dst, key, nil); err != nil {
		t.Fatalf("Download into a partial folder: %v\n%s", err, out)
	}
	treetest.AssertSame(t, before, treetest.Snapshot(t, dst))
}

// TestUploadObjects compares the objects Upload makes with kubeadm's, as a
// golden file: the token's Secret (no usage, no group: it only carries the
// TTL), the kubeadm-certs Secret owned by it, with one encrypted entry per
// file, and the Role and RoleBinding for kubeadm's bootstrap tokens.
func TestUploadObjects(t *testing.T) {
	n := pkitest.NewNode(t, nil)
	cs := fake.NewClientset()
	key := testKey(t)
	upload(t, cs, n.CertDir(), key)
	ctx := context.Background()
	secrets, err := cs.CoreV1().Secrets(Namespace).List(ctx, metav1.ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	roles, _ := cs.RbacV1().Roles(Namespace).List(ctx, metav1.ListOptions{})
	bindings, _ := cs.RbacV1().RoleBindings(Namespace).List(ctx, metav1.ListOptions{})
	if len(secrets.Items) != 2 || len(roles.Items) != 1 || len(bindings.Items) != 1 {
		t.Fatalf("made %d secrets, %d roles, %d bindings; want 2, 1, 1", len(secrets.Items), len(roles.Items), len(bindings.Items))
	}
	var token, certs corev1.Secret
	for _, s := range secrets.Items {
		if s.Name == SecretName {
			certs = s
		} else {
			token = s
		}
	}
	id := string(token.Data["token-id"])
	if len(id) != 6 || token.Name != "bootstrap-token-"+id || len(token.Data["token-secret"]) != 16 {
		t.Errorf("token %s: id %q, secret of %d characters; want bootstrap-token-ID, 6 and 16", token.Name, id, len(token.Data["token-secret"]))
	}
	if len(certs.OwnerReferences) != 1 || certs.OwnerReferences[0].Name != token.Name {
		t.Errorf("kubeadm-certs owners %+v, want the token %s", certs.OwnerReferences, token.Name)
	}
	for k, v := range certs.Data {
		if len(v) < 12+16 {
			t.Errorf("entry %s has %d bytes: not nonce + sealed data", k, len(v))
		}
	}

	// The golden file: random values replaced by what they are.
	token.Name, token.Data["token-id"], token.Data["token-secret"] = "bootstrap-token-ID", []byte("ID"), []byte("SECRET")
	certs.OwnerReferences[0].Name = "bootstrap-token-ID"
	for k, v := range certs.Data {
		plain, err := Decrypt(key, v)
		if err != nil {
			t.Fatalf("entry %s: %v", k, err)
		}
		certs.Data[k] = []byte(fmt.Sprintf("AES-GCM(%s)", firstLine(plain)))
	}
	for _, s := range []*corev1.Secret{&token, &certs} {
		s.StringData = map[string]string{}
		for k, v := range s.Data {
			s.StringData[k] = string(v)
		}
		s.Data = nil
	}
	role, binding := roles.Items[0], bindings.Items[0]
	for _, m := range []*metav1.ObjectMeta{&token.ObjectMeta, &certs.ObjectMeta, &role.ObjectMeta, &binding.ObjectMeta} {
		m.ManagedFields = nil // the fake clientset's, with the time of the run
	}
	objs := []any{token, certs, role, binding}
	var b bytes.Buffer
	for _, o := range objs {
		y, err := yaml.Marshal(o)
		if err != nil {
			t.Fatal(err)
		}
		b.WriteString("---\n")
		b.Write(y)
	}
	golden(t, "upload.golden.yaml", b.Bytes())
}

func firstLine(b []byte) string {
	line, _, _ := strings.Cut(string(b), "\n")
	return line
}

func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.MkdirAll("testdata", 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -update to write it)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s differs (go test -update rewrites it); got:\n%s", path, got)
	}
}

// TestUploadAgain: a second upload replaces the Secret (a new token owns it,
// a new expiry) and leaves one Role and one RoleBinding.
func TestUploadAgain(t *testing.T) {
	n := pkitest.NewNode(t, nil)
	cs := fake.NewClientset()
	key := testKey(t)
	upload(t, cs, n.CertDir(), key)
	first, _ := cs.CoreV1().Secrets(Namespace).Get(context.Background(), SecretName, metav1.GetOptions{})
	upload(t, cs, n.CertDir(), key)
	second, _ := cs.CoreV1().Secrets(Namespace).Get(context.Background(), SecretName, metav1.GetOptions{})
	if first.OwnerReferences[0].Name == second.OwnerReferences[0].Name {
		t.Errorf("the second upload kept the first token %s as owner", first.OwnerReferences[0].Name)
	}
	if bytes.Equal(first.Data["ca.crt"], second.Data["ca.crt"]) {
		t.Errorf("ca.crt sealed twice with the same nonce")
	}
	secrets, _ := cs.CoreV1().Secrets(Namespace).List(context.Background(), metav1.ListOptions{})
	if len(secrets.Items) != 3 {
		t.Errorf("%d secrets, want kubeadm-certs and two tokens", len(secrets.Items))
	}
	if _, err := download(cs, filepath.Join(t.TempDir(), "pki"), key, nil); err != nil {
		t.Errorf("download after two uploads: %v", err)
	}
}

// TestExternalCA: a CA key that is not on the control plane is uploaded
// empty, as kubeadm does, and download writes no file for it.
func TestExternalCA(t *testing.T) {
	n := pkitest.NewNode(t, nil)
	os.Remove(filepath.Join(n.CertDir(), "ca.key"))
	cs := fake.NewClientset()
	key := testKey(t)
	upload(t, cs, n.CertDir(), key)
	s, _ := cs.CoreV1().Secrets(Namespace).Get(context.Background(), SecretName, metav1.GetOptions{})
	if v, ok := s.Data["ca.key"]; !ok || len(v) != 0 {
		t.Errorf("ca.key entry = %d bytes (present %v), want present and empty", len(v), ok)
	}
	dst := filepath.Join(t.TempDir(), "pki")
	if out, err := download(cs, dst, key, nil); err != nil {
		t.Fatalf("Download: %v\n%s", err, out)
	}
	if _, err := os.Stat(filepath.Join(dst, "ca.key")); !os.IsNotExist(err) {
		t.Errorf("ca.key written from an empty entry: %v", err)
	}
	if _, err := os.Stat(filepath.Join(dst, "ca.crt")); err != nil {
		t.Errorf("ca.crt: %v", err)
	}
}

// TestExternalEtcd: the external etcd's client files travel instead of
// the etcd CA, under kubeadm's names, to the paths the configuration gives.
func TestExternalEtcd(t *testing.T) {
	n := pkitest.NewNode(t, nil)
	src := &config.ExternalEtcd{
		CAFile:   filepath.Join(n.CertDir(), "etcd", "ca.crt"),
		CertFile: filepath.Join(n.CertDir(), "apiserver-etcd-client.crt"),
		KeyFile:  filepath.Join(n.CertDir(), "apiserver-etcd-client.key"),
	}
	cs := fake.NewClientset()
	key := testKey(t)
	var out bytes.Buffer
	if _, err := Upload(context.Background(), cs, Options{CertDir: n.CertDir(), ExternalEtcd: src, Key: key, Rand: rand.Reader, Out: &out}); err != nil {
		t.Fatal(err)
	}
	s, _ := cs.CoreV1().Secrets(Namespace).Get(context.Background(), SecretName, metav1.GetOptions{})
	var keys []string
	for k := range s.Data {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	want := "ca.crt ca.key external-etcd-ca.crt external-etcd.crt external-etcd.key front-proxy-ca.crt front-proxy-ca.key sa.key sa.pub"
	if got := strings.Join(keys, " "); got != want {
		t.Errorf("entries %s, want %s", got, want)
	}

	dir := t.TempDir()
	if _, err := download(cs, filepath.Join(dir, "pki"), key, nil); err == nil || !strings.Contains(err.Error(), "--config") {
		t.Errorf("download of an external etcd's files without their paths = %v, want an error naming --config", err)
	}
	dst := &config.ExternalEtcd{CAFile: filepath.Join(dir, "etcd-ca.pem"), CertFile: filepath.Join(dir, "etcd.pem"), KeyFile: filepath.Join(dir, "etcd-key.pem")}
	if out, err := download(cs, filepath.Join(dir, "pki"), key, dst); err != nil {
		t.Fatalf("Download: %v\n%s", err, out)
	}
	for from, to := range map[string]string{src.CAFile: dst.CAFile, src.CertFile: dst.CertFile, src.KeyFile: dst.KeyFile} {
		a, _ := os.ReadFile(from)
		b, err := os.ReadFile(to)
		if err != nil || !bytes.Equal(a, b) {
			t.Errorf("%s: %v, or differs from %s", to, err, from)
		}
	}
}
