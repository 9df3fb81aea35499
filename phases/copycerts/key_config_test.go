package copycerts

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"

	"github.com/certctl/certctl/internal/kubeclient"
	"github.com/certctl/certctl/internal/pkitest"
	"github.com/certctl/certctl/internal/treetest"
	"github.com/certctl/certctl/phases/config"
)

// TestKeyFromConfig: without --certificate-key, upload and download take
// the configuration file's key (the InitConfiguration's certificateKey,
// the JoinConfiguration's controlPlane.certificateKey), as `kubeadm init
// phase upload-certs --config` and `kubeadm join --config` do: an upload
// from init.yaml is decrypted by a join with join.yaml and the same key.
// Before, upload made a new key (and kubeadm join failed with "message
// authentication failed") and download said the key was empty.
func TestKeyFromConfig(t *testing.T) {
	n := pkitest.NewNode(t, nil)
	srv := httptest.NewServer(secretStore(t))
	defer srv.Close()
	cs, err := kubernetes.NewForConfig(&rest.Config{Host: srv.URL, ContentConfig: rest.ContentConfig{ContentType: "application/json"}})
	if err != nil {
		t.Fatal(err)
	}
	connect := func() (*kubeclient.Client, error) {
		return &kubeclient.Client{Clientset: cs, Source: "kubeconfig admin.conf"}, nil
	}
	fileKey := strings.Repeat("0123456789abcdef", 4)
	command := func(dir, flagKey, configKey string) (Command, *bytes.Buffer) {
		var out bytes.Buffer
		return Command{
			Options:        Options{Rand: rand.Reader, Out: &out, ErrOut: &out},
			CertificateKey: flagKey,
			Settings:       func() (config.Cluster, error) { return config.Cluster{CertificatesDir: dir}, nil },
			ConfigKey:      func() string { return configKey },
			Connect:        connect,
		}, &out
	}

	up, out := command(n.CertDir(), "", fileKey)
	if err := up.Upload(context.Background()); err != nil {
		t.Fatalf("upload with the key of --config: %v", err)
	}
	if strings.Contains(out.String(), "Using certificate key") {
		t.Errorf("upload made and printed a key while --config gives one:\n%s", out)
	}
	// The Secret is sealed with the file's key: what kubeadm join decrypts.
	key, err := ParseKey(fileKey)
	if err != nil {
		t.Fatal(err)
	}
	joining := filepath.Join(t.TempDir(), "pki")
	var dl bytes.Buffer
	if err := Download(context.Background(), cs, Options{Now: downloaded, CertDir: joining, Key: key, Rand: rand.Reader, Out: &dl, ErrOut: &dl}); err != nil {
		t.Fatalf("the Secret does not open with the key of --config: %v", err)
	}

	down, _ := command(filepath.Join(t.TempDir(), "pki"), "", fileKey)
	if err := down.Download(context.Background()); err != nil {
		t.Fatalf("download with the key of --config: %v", err)
	}

	// --certificate-key wins over the file, as kubeadm's flag does.
	other := strings.Repeat("ff", KeySize)
	wrongDir := filepath.Join(t.TempDir(), "pki")
	down, _ = command(wrongDir, other, fileKey)
	treetest.ErrMentions(t, down.Download(context.Background()), "does not decrypt")
	if _, err := os.Stat(wrongDir); !os.IsNotExist(err) {
		t.Errorf("a refused download made %s (%v)", wrongDir, err)
	}

	// A bad key in the file names the file's field.
	down, _ = command(filepath.Join(t.TempDir(), "pki"), "", "abcd")
	treetest.ErrMentions(t, down.Download(context.Background()), "certificateKey of --config", "2 bytes")
	// Neither: the key is missing, and the error says where to give it.
	down, _ = command(filepath.Join(t.TempDir(), "pki"), "", "")
	treetest.ErrMentions(t, down.Download(context.Background()), "--certificate-key", "empty", "controlPlane.certificateKey")
}

// secretStore is an API server that keeps the Secrets of kube-system
// (created, replaced, read) and accepts any other object as created: what
// Upload and Download ask of it.
func secretStore(t *testing.T) http.Handler {
	secrets := map[string][]byte{}
	const prefix = "/api/v1/namespaces/kube-system/secrets"
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		body, _ := io.ReadAll(r.Body)
		switch {
		case r.Method == http.MethodGet && strings.HasPrefix(r.URL.Path, prefix+"/"):
			if b, ok := secrets[strings.TrimPrefix(r.URL.Path, prefix+"/")]; ok {
				_, _ = w.Write(b)
				return
			}
			w.WriteHeader(http.StatusNotFound)
			_, _ = w.Write([]byte(`{"kind":"Status","apiVersion":"v1","status":"Failure","reason":"NotFound","code":404}`))
		case r.URL.Path == prefix || strings.HasPrefix(r.URL.Path, prefix+"/"):
			var m struct {
				Metadata struct{ Name string } `json:"metadata"`
			}
			if err := json.Unmarshal(body, &m); err != nil {
				t.Errorf("%s %s: %v", r.Method, r.URL.Path, err)
			}
			secrets[m.Metadata.Name] = body
			w.WriteHeader(http.StatusCreated)
			_, _ = w.Write(body)
		default:
			w.WriteHeader(http.StatusCreated)
			_, _ = w.Write(body)
		}
	})
}

// failingWriter fails every write, as a full disk does.
type failingWriter struct{}

func (failingWriter) Write([]byte) (int, error) { return 0, errors.New("no space left on device") }

// TestUploadMadeKeyUnwritten: an upload that makes the key and cannot
// print it (stdout on a full disk) fails: the Secret is sealed with a key
// nobody has. It exited 0, and a script went on with no key; `certs
// certificate-key` already failed so (PrintNewKey).
func TestUploadMadeKeyUnwritten(t *testing.T) {
	n := pkitest.NewNode(t, nil)
	srv := httptest.NewServer(secretStore(t))
	defer srv.Close()
	cs, err := kubernetes.NewForConfig(&rest.Config{Host: srv.URL, ContentConfig: rest.ContentConfig{ContentType: "application/json"}})
	if err != nil {
		t.Fatal(err)
	}
	c := Command{
		Options:  Options{Rand: rand.Reader, Out: failingWriter{}, ErrOut: io.Discard},
		Settings: func() (config.Cluster, error) { return config.Cluster{CertificatesDir: n.CertDir()}, nil },
		Connect: func() (*kubeclient.Client, error) {
			return &kubeclient.Client{Clientset: cs, Source: "kubeconfig admin.conf"}, nil
		},
	}
	treetest.ErrMentions(t, c.Upload(context.Background()), "write the certificate key", "no space left on device", "upload again with --certificate-key")
}
