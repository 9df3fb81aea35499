package renew

import (
	"testing"

	"github.com/certctl/certctl/internal/kubeclient"
	"github.com/certctl/certctl/phases/config"
)

// TestApproveKubeconfig: the approve commands name the kubeconfig renew
// used when kubectl and certctl approve would not find it themselves, and
// the context renew was given, without which they would take the
// kubeconfig's current-context.
func TestApproveKubeconfig(t *testing.T) {
	for _, tc := range []struct {
		name string
		c    kubeclient.Client
		want string
	}{
		{"admin.conf", kubeclient.Client{File: "/etc/kubernetes/admin.conf"}, " --kubeconfig /etc/kubernetes/admin.conf"},
		{"quoted", kubeclient.Client{File: "/srv/my k8s/admin.conf"}, ` --kubeconfig '/srv/my k8s/admin.conf'`},
		{"$KUBECONFIG", kubeclient.Client{}, ""},
		{"--context of $KUBECONFIG", kubeclient.Client{Context: "prod"}, " --context prod"},
		{"--kubeconfig and --context", kubeclient.Client{File: "/root/all.conf", Context: "prod eu"}, ` --kubeconfig /root/all.conf --context 'prod eu'`},
	} {
		if got := approveKubeconfig(&tc.c); got != tc.want {
			t.Errorf("%s: %q, want %q", tc.name, got, tc.want)
		}
	}
}

// TestRerunFlags: the renew command printed for what is left acts on the
// same folders and cluster, and works when pasted into a shell.
func TestRerunFlags(t *testing.T) {
	for _, tc := range []struct {
		name string
		o    Options
		want string
	}{
		{"defaults", Options{Cluster: &config.Cluster{CertificatesDir: config.DefaultCertificatesDir}, KubeconfigDir: config.DefaultKubeconfigDir, API: &API{}}, ""},
		{"everything", Options{Cluster: &config.Cluster{CertificatesDir: "/srv/k8s/pki"}, KubeconfigDir: "/srv/k8s", ConfigFile: "kubeadm.yaml",
			API: &API{Kubeconfig: "/root/it's.conf", Context: "prod", SignerNames: map[string]string{"super-admin.conf": "example.com/admin", "apiserver": "example.com/serving"}}},
			` --config kubeadm.yaml --cert-dir /srv/k8s/pki --kubeconfig-dir /srv/k8s --kubeconfig '/root/it'\''s.conf' --context prod --signer-name apiserver=example.com/serving --signer-name super-admin.conf=example.com/admin`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := &run{o: tc.o}
			if got := r.rerunFlags(); got != tc.want {
				t.Errorf("got  %s\nwant %s", got, tc.want)
			}
		})
	}
}

// TestApproveFlags: the printed `certctl approve --all-from-node` names the
// --config renew read, quoted for a shell: a file named with a space split
// the pasted command and approve read another file; and a certificate
// folder other than the default, from whose certificates approve takes
// the settings when there is no --config nor kubeadm-config ConfigMap.
func TestApproveFlags(t *testing.T) {
	for _, tc := range []struct{ configFile, certDir, want string }{
		{"", "", ""},
		{"", config.DefaultCertificatesDir, ""},
		{"kubeadm.yaml", config.DefaultCertificatesDir, " --config kubeadm.yaml"},
		{"/root/my cluster/k.yaml", "", ` --config '/root/my cluster/k.yaml'`},
		{"/root/it's.yaml", "", ` --config '/root/it'\''s.yaml'`},
		{"", "/srv/k8s/pki", " --cert-dir /srv/k8s/pki"},
		{"", "/srv/my k8s/pki", ` --cert-dir '/srv/my k8s/pki'`},
		{"kubeadm.yaml", "/srv/k8s/pki", " --config kubeadm.yaml --cert-dir /srv/k8s/pki"},
	} {
		if got := approveFlags(tc.configFile, tc.certDir); got != tc.want {
			t.Errorf("%q, %q: %q, want %q", tc.configFile, tc.certDir, got, tc.want)
		}
	}
}
