package phases

import (
	"path/filepath"
	"strings"
	"testing"

	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"

	"github.com/certctl/certctl/internal/treetest"
	"github.com/certctl/certctl/pki/kubeconfig"
)

// TestExistingKubeconfigAsKubeadm: an existing kubeconfig is kept as
// kubeadm v1.37 keeps it, or refused with what to do.
//
// kubelet.conf after the kubelet's TLS bootstrap names the certificate and
// key the kubelet rotates instead of embedding them: kubeadm keeps it, but
// `init-phase kubeconfig all` (to make a lost admin.conf again, say)
// failed on it, "has no embedded client certificate and key", and wrote
// nothing. And a file whose current context is missing, or is a user of
// the person's own (a token, exec), was refused without saying what to do.
func TestExistingKubeconfigAsKubeadm(t *testing.T) {
	for _, tc := range []struct {
		name  string
		file  string
		phase string
		edit  func(cfg *clientcmdapi.Config)
		// want, when set, are what the error mentions; none: the file is
		// kept ("Using existing kubeconfig file").
		want []string
	}{
		{
			name:  "kubelet.conf naming the kubelet's rotated file",
			file:  "kubelet.conf",
			phase: "all",
			edit: func(cfg *clientcmdapi.Config) {
				for _, u := range cfg.AuthInfos {
					u.ClientCertificateData, u.ClientKeyData = nil, nil
					u.ClientCertificate, u.ClientKey = "/var/lib/kubelet/pki/kubelet-client-current.pem", "/var/lib/kubelet/pki/kubelet-client-current.pem"
				}
			},
		},
		{
			name:  "current context missing",
			file:  "scheduler.conf",
			phase: "scheduler",
			edit:  func(cfg *clientcmdapi.Config) { cfg.CurrentContext = "gone" },
			want:  []string{"scheduler.conf", `current context "gone" not found`, "config use-context system:kube-scheduler@kubernetes", "then run certctl again"},
		},
		{
			name:  "current context missing, no other",
			file:  "scheduler.conf",
			phase: "scheduler",
			edit: func(cfg *clientcmdapi.Config) {
				cfg.CurrentContext = "gone"
				for _, u := range cfg.AuthInfos {
					u.ClientCertificateData, u.ClientKeyData, u.Token = nil, nil, "abc"
				}
			},
			want: []string{"scheduler.conf", `current context "gone" not found`, "restore it from a backup, or remove it to make a new one"},
		},
		{
			name:  "a token user",
			file:  "admin.conf",
			phase: "admin",
			edit: func(cfg *clientcmdapi.Config) {
				for _, u := range cfg.AuthInfos {
					u.ClientCertificateData, u.ClientKeyData, u.Token = nil, nil, "abc"
				}
			},
			want: []string{"admin.conf", "no embedded client certificate", "restore it from a backup, or remove it to make a new one"},
		},
		{
			name:  "switched to an exec user",
			file:  "admin.conf",
			phase: "all",
			edit: func(cfg *clientcmdapi.Config) {
				cfg.AuthInfos["ops"] = &clientcmdapi.AuthInfo{Exec: &clientcmdapi.ExecConfig{Command: "get-token", APIVersion: "client.authentication.k8s.io/v1"}}
				cfg.Contexts["ops"] = &clientcmdapi.Context{Cluster: "kubernetes", AuthInfo: "ops"}
				cfg.CurrentContext = "ops"
			},
			want: []string{"admin.conf", "config use-context kubernetes-admin@kubernetes"},
		},
		{
			// Removing the file, as the error said, would lose the
			// user's other contexts.
			name:  "switched to a context of another cluster",
			file:  "admin.conf",
			phase: "admin",
			edit: func(cfg *clientcmdapi.Config) {
				cfg.Clusters["staging"] = &clientcmdapi.Cluster{Server: "https://staging.example.com:6443", CertificateAuthorityData: cfg.AuthInfos["kubernetes-admin"].ClientCertificateData}
				cfg.AuthInfos["ops"] = &clientcmdapi.AuthInfo{Token: "abc"}
				cfg.Contexts["staging"] = &clientcmdapi.Context{Cluster: "staging", AuthInfo: "ops"}
				cfg.CurrentContext = "staging"
			},
			want: []string{"admin.conf", `current context "staging"`, "another CA", "config use-context kubernetes-admin@kubernetes"},
		},
		{
			name:  "switched to another cluster's context with a certificate of its own",
			file:  "admin.conf",
			phase: "admin",
			edit: func(cfg *clientcmdapi.Config) {
				cfg.Clusters["staging"] = &clientcmdapi.Cluster{Server: "https://staging.example.com:6443", CertificateAuthorityData: cfg.AuthInfos["kubernetes-admin"].ClientCertificateData}
				cfg.AuthInfos["ops"] = &clientcmdapi.AuthInfo{ClientCertificateData: cfg.Clusters["kubernetes"].CertificateAuthorityData, ClientKeyData: []byte("KEY")}
				cfg.Contexts["staging"] = &clientcmdapi.Context{Cluster: "staging", AuthInfo: "ops"}
				cfg.CurrentContext = "staging"
			},
			want: []string{"admin.conf", `current context "staging"`, "another CA", "config use-context kubernetes-admin@kubernetes"},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := newTestEnv(t)
			e.mustRun(t, "certs", "all")
			e.mustRun(t, "kubeconfig", "all")
			editKubeconfig(t, filepath.Join(e.KubeconfigDir, tc.file), tc.edit)
			before := snapshot(t, e.dir)
			e.out.Reset()
			err := e.run(t, "kubeconfig", tc.phase)
			treetest.AssertSame(t, before, snapshot(t, e.dir))
			if len(tc.want) > 0 {
				treetest.ErrMentions(t, err, tc.want...)
				return
			}
			if err != nil {
				t.Fatalf("kubeconfig %s: %v, want %s kept, as kubeadm keeps it", tc.phase, err, tc.file)
			}
			if want := `Using existing kubeconfig file: "` + filepath.Join(e.KubeconfigDir, tc.file) + `"`; !strings.Contains(e.out.String(), want) {
				t.Errorf("output lacks %q:\n%s", want, e.out)
			}
		})
	}
}

// editKubeconfig is pkitest.EditKubeconfig, which imports this package.
func editKubeconfig(t *testing.T, path string, edit func(cfg *clientcmdapi.Config)) {
	t.Helper()
	cfg, err := kubeconfig.Load(path)
	if err != nil {
		t.Fatal(err)
	}
	edit(cfg)
	if err := kubeconfig.Write(path, cfg); err != nil {
		t.Fatal(err)
	}
}
