package copycerts

import (
	"bytes"
	"context"
	"crypto/rand"
	"os"
	"path/filepath"
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes/fake"

	"github.com/certctl/certctl/internal/pkitest"
	"github.com/certctl/certctl/internal/treetest"
)

// TestDownloadRefuses: every bad input is refused with a one-line error
// that says what is wrong and what to do, and the certificate folder is
// left as it was: nothing is written, not even the files that would have
// been fine.
func TestDownloadRefuses(t *testing.T) {
	n := pkitest.NewNode(t, nil)
	other := pkitest.NewNode(t, nil) // another cluster's CAs
	key := testKey(t)

	for _, tc := range []struct {
		name string
		// change edits the uploaded Secret's data; prepare the target folder.
		change  func(data map[string][]byte)
		prepare func(t *testing.T, dir string)
		key     []byte
		want    []string
	}{
		{
			name: "wrong key",
			key:  testKey(t),
			want: []string{"the certificate key does not decrypt kubeadm-certs: ", "message authentication failed", "key the upload printed"},
		},
		{
			name:   "tampered entry",
			change: func(d map[string][]byte) { d["sa.key"][20] ^= 1 },
			want:   []string{"the certificate key does not decrypt kubeadm-certs: entry sa.key"},
		},
		{
			name:   "entry shorter than a nonce",
			change: func(d map[string][]byte) { d["ca.crt"] = []byte("short") },
			want:   []string{"entry ca.crt", "nonce"},
		},
		{
			name:   "certificate entry corrupt",
			change: func(d map[string][]byte) { d["front-proxy-ca.crt"] = sealBytes(t, key, []byte("not a certificate\n")) },
			want:   []string{"front-proxy-ca.crt in kube-system/kubeadm-certs: ", "upload again from a control-plane node", "nothing was written"},
		},
		{
			name:   "key entry corrupt",
			change: func(d map[string][]byte) { d["etcd-ca.key"] = sealBytes(t, key, []byte("not a key\n")) },
			want:   []string{"etcd-ca.key in kube-system/kubeadm-certs: ", "upload again from a control-plane node", "nothing was written"},
		},
		{
			name:   "public key entry corrupt",
			change: func(d map[string][]byte) { d["sa.pub"] = sealBytes(t, key, []byte("not a public key\n")) },
			want:   []string{"sa.pub in kube-system/kubeadm-certs: ", "upload again from a control-plane node", "nothing was written"},
		},
		{
			// The other entries decrypt: the key is right, this entry is
			// not (sealed with another key, edited).
			name:   "one entry sealed with another key",
			change: func(d map[string][]byte) { d["sa.key"] = seal(t, testKey(t), filepath.Join(n.CertDir(), "sa.key")) },
			want:   []string{"the certificate key does not decrypt kubeadm-certs: entry sa.key", "decrypts the other entries", "upload again from a control-plane node"},
		},
		{
			name:   "entry missing",
			change: func(d map[string][]byte) { delete(d, "front-proxy-ca.key") },
			want:   []string{"lacks front-proxy-ca.key", "upload again"},
		},
		{
			name: "key of another CA",
			change: func(d map[string][]byte) {
				d["ca.key"] = seal(t, key, filepath.Join(other.CertDir(), "ca.key"))
			},
			want: []string{"ca.key in kube-system/kubeadm-certs does not match ca.crt"},
		},
		{
			name: "a leaf instead of a CA",
			change: func(d map[string][]byte) {
				d["ca.crt"] = seal(t, key, filepath.Join(n.CertDir(), "apiserver.crt"))
			},
			want: []string{"ca.crt in kube-system/kubeadm-certs is not a CA certificate"},
		},
		{
			name: "another CA on disk",
			prepare: func(t *testing.T, dir string) {
				copyFile(t, filepath.Join(other.CertDir(), "ca.crt"), filepath.Join(dir, "ca.crt"))
			},
			want: []string{"ca.crt differ from the cluster's", "nothing was written", "Move", "aside"},
		},
		{
			name:    "a FIFO in place of a file to write",
			prepare: func(t *testing.T, dir string) { treetest.FIFO(t, filepath.Join(dir, "ca.crt")) },
			want:    []string{"ca.crt", "not a regular file but a FIFO"},
		},
		{
			name: "another service-account key on disk",
			prepare: func(t *testing.T, dir string) {
				copyFile(t, filepath.Join(n.CertDir(), "ca.crt"), filepath.Join(dir, "ca.crt")) // the same: fine alone
				copyFile(t, filepath.Join(other.CertDir(), "sa.key"), filepath.Join(dir, "sa.key"))
			},
			want: []string{"sa.key differ from the cluster's", "nothing was written"},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cs := fake.NewClientset()
			upload(t, cs, n.CertDir(), key)
			if tc.change != nil {
				s, err := cs.CoreV1().Secrets(Namespace).Get(context.Background(), SecretName, metav1.GetOptions{})
				if err != nil {
					t.Fatal(err)
				}
				tc.change(s.Data)
				if _, err := cs.CoreV1().Secrets(Namespace).Update(context.Background(), s, metav1.UpdateOptions{}); err != nil {
					t.Fatal(err)
				}
			}
			parent := t.TempDir()
			dir := filepath.Join(parent, "pki")
			if tc.prepare != nil {
				if err := os.MkdirAll(dir, 0o755); err != nil {
					t.Fatal(err)
				}
				tc.prepare(t, dir)
			}
			k := key
			if tc.key != nil {
				k = tc.key
			}
			before := treetest.Snapshot(t, parent)
			_, err := download(cs, dir, k, nil)
			treetest.ErrMentions(t, err, tc.want...)
			after := treetest.Snapshot(t, parent)
			// The lock file beside the folder is certctl's, not a write.
			for p := range after {
				if filepath.Dir(p) == parent && filepath.Base(p) != "pki" {
					delete(after, p)
				}
			}
			treetest.AssertSame(t, before, after)
		})
	}
}

func TestDownloadNoSecret(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "pki")
	_, err := download(fake.NewClientset(), dir, testKey(t), nil)
	treetest.ErrMentions(t, err, "kube-system/kubeadm-certs: not found", "certctl certs upload --certificate-key")
	if _, err := os.Stat(dir); !os.IsNotExist(err) {
		t.Errorf("folder made for nothing: %v", err)
	}
}

// TestUploadRefuses: a folder without what a joining node needs sends
// nothing.
func TestUploadRefuses(t *testing.T) {
	for _, tc := range []struct {
		name   string
		change func(t *testing.T, certDir string)
		want   []string
	}{
		{"no sa.key", func(t *testing.T, d string) { os.Remove(filepath.Join(d, "sa.key")) }, []string{"sa.key", "--cert-dir"}},
		{"no etcd CA", func(t *testing.T, d string) { os.Remove(filepath.Join(d, "etcd", "ca.crt")) }, []string{"etcd/ca.crt", "a joining node needs it"}},
		{"a FIFO in place of sa.key", func(t *testing.T, d string) { treetest.FIFO(t, filepath.Join(d, "sa.key")) }, []string{"sa.key", "not a regular file but a FIFO"}},
		{"corrupt ca.crt", func(t *testing.T, d string) {
			if err := os.WriteFile(filepath.Join(d, "ca.crt"), []byte("not a certificate\n"), 0o644); err != nil {
				t.Fatal(err)
			}
		}, []string{"ca.crt in", "certctl restore", "nothing was uploaded"}},
		{"mismatched pair", func(t *testing.T, d string) {
			other := pkitest.NewNode(t, nil)
			copyFile(t, filepath.Join(other.CertDir(), "front-proxy-ca.key"), filepath.Join(d, "front-proxy-ca.key"))
		}, []string{"front-proxy-ca.key in", "does not match front-proxy-ca.crt"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			n := pkitest.NewNode(t, nil)
			tc.change(t, n.CertDir())
			cs := fake.NewClientset()
			var out bytes.Buffer
			_, err := Upload(context.Background(), cs, Options{CertDir: n.CertDir(), Key: testKey(t), Rand: rand.Reader, Out: &out})
			treetest.ErrMentions(t, err, tc.want...)
			if acts := cs.Actions(); len(acts) != 0 {
				t.Errorf("the API was called: %v", acts)
			}
		})
	}
}

func sealBytes(t *testing.T, key, data []byte) []byte {
	t.Helper()
	s, err := Encrypt(rand.Reader, key, data)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func seal(t *testing.T, key []byte, path string) []byte {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	s, err := Encrypt(rand.Reader, key, data)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func copyFile(t *testing.T, from, to string) {
	t.Helper()
	data, err := os.ReadFile(from)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(to, data, 0o600); err != nil {
		t.Fatal(err)
	}
}
