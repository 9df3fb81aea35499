package initphase

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/certctl/certctl/phases"
	"github.com/certctl/certctl/phases/config"
	"github.com/certctl/certctl/pki"
)

// TestSelect: what --use-csr cannot make is refused, and so is a
// certificate an external etcd does not use, saying why; a joining node
// gets only kubeadm join's kubeconfig files.
func TestSelect(t *testing.T) {
	for _, tc := range []struct {
		name, group, arg string
		useCSR           bool
		edit             func(*config.Cluster)
		err              string
		has, lacks       string
	}{
		{name: "CA as a CSR", group: "certs", arg: pki.CAName, useCSR: true, err: "cannot be produced as a CSR"},
		{name: "sa as a CSR", group: "certs", arg: "sa", useCSR: true, err: "cannot be produced as a CSR"},
		{name: "all as CSRs", group: "certs", arg: "all", useCSR: true, has: "certs/apiserver"},
		{name: "external etcd", group: "certs", arg: pki.EtcdCAName, edit: func(c *config.Cluster) { c.ExternalEtcd = true }, err: "external etcd (etcd.external), for which kubeadm makes no \"etcd-ca\": drop it"},
		{name: "external etcd, all", group: "certs", arg: "all", edit: func(c *config.Cluster) { c.ExternalEtcd = true }, has: "certs/apiserver", lacks: "certs/etcd-server"},
		{name: "unknown", group: "certs", arg: "nope", err: "nope"},
		{name: "joining", group: "kubeconfig", arg: "all", edit: func(c *config.Cluster) { c.Joining = true }, has: "kubeconfig/admin", lacks: "kubeconfig/super-admin"},
		{name: "not joining", group: "kubeconfig", arg: "all", has: "kubeconfig/super-admin"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := config.Default()
			c.NodeName, c.AdvertiseAddress = "cp-1", "192.0.2.10"
			if tc.edit != nil {
				tc.edit(&c)
			}
			settings, err := c.Node()
			if err != nil {
				t.Fatal(err)
			}
			got, err := Select(&c, settings, tc.group, tc.arg, tc.useCSR)
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) {
					t.Fatalf("error %v, want %q", err, tc.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			var names []string
			for _, p := range got {
				names = append(names, p.Name)
			}
			if !slices.Contains(names, tc.has) || tc.lacks != "" && slices.Contains(names, tc.lacks) {
				t.Errorf("phases %v: want %q, not %q", names, tc.has, tc.lacks)
			}
		})
	}
}

// TestNames: the phase names need no configuration, "all" first.
func TestNames(t *testing.T) {
	for group, want := range map[string]string{"certs": "apiserver", "kubeconfig": "admin"} {
		names := Names(group)
		if len(names) < 2 || names[0] != "all" || !slices.Contains(names, want) {
			t.Errorf("Names(%q) = %v, want all first and %s", group, names, want)
		}
	}
}

// TestJoinKubeconfigs: a joining node makes exactly the kubeconfig files
// of kubeadm join --control-plane, in order.
func TestJoinKubeconfigs(t *testing.T) {
	c := config.Default()
	c.NodeName, c.AdvertiseAddress, c.Joining = "cp-2", "192.0.2.11", true
	settings, err := c.Node()
	if err != nil {
		t.Fatal(err)
	}
	got, err := Select(&c, settings, "kubeconfig", "all", false)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, p := range got {
		names = append(names, p.Name)
	}
	if got, want := strings.Join(names, " "), "kubeconfig/admin kubeconfig/controller-manager kubeconfig/scheduler"; got != want {
		t.Errorf("joining kubeconfig phases = %s, want %s", got, want)
	}
}

// TestMainRefusesUnknownNameFirst: an unknown phase name is refused before
// the settings are read, which can wait for an API server (the [config]
// line and the ConfigMap's timeout came before the usage error), with the
// same message as Select's.
func TestMainRefusesUnknownNameFirst(t *testing.T) {
	for _, group := range []string{"certs", "kubeconfig"} {
		loaded := false
		load := func() (*config.Cluster, error) { loaded = true; return nil, errors.New("must not be read") }
		err := Main(context.Background(), load, "bogus", Options{Group: group})
		want := fmt.Sprintf("unknown %s phase %q: valid phases are all, ", group, "bogus")
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: error %v, want one containing %q", group, err, want)
		}
		if loaded {
			t.Errorf("%s: the settings were read before the name was checked", group)
		}
	}
}

// TestImportCommand: the import command printed after --use-csr is one to
// copy: the folders that are not the defaults, quoted for a shell (a
// space in a folder split the command in two words), and the --config the
// CSRs were written with, whose node name the import checks.
func TestImportCommand(t *testing.T) {
	for _, tc := range []struct {
		csr, cfg, cert, kc, want string
	}{
		{"./csr/", "", "/etc/kubernetes/pki", "/etc/kubernetes", "certctl certs import --csr-dir csr"},
		{"/root/csr", "", "/srv/k8s/pki/", "/srv/k8s", "certctl certs import --csr-dir /root/csr --cert-dir /srv/k8s/pki --kubeconfig-dir /srv/k8s"},
		{"/root/my csr", "", "/srv/my k8s/pki", "/etc/kubernetes", "certctl certs import --csr-dir '/root/my csr' --cert-dir '/srv/my k8s/pki'"},
		{"/root/csr", "kubeadm.yaml", "/etc/kubernetes/pki", "/etc/kubernetes", "certctl certs import --csr-dir /root/csr --config kubeadm.yaml"},
		{"/root/csr", "/root/my k.yaml", "/srv/k8s/pki", "/etc/kubernetes", "certctl certs import --csr-dir /root/csr --config '/root/my k.yaml' --cert-dir /srv/k8s/pki"},
	} {
		if got := phases.ImportCommand(tc.csr, tc.cfg, tc.cert, tc.kc); got != tc.want {
			t.Errorf("ImportCommand(%q, %q, %q, %q) = %q, want %q", tc.csr, tc.cfg, tc.cert, tc.kc, got, tc.want)
		}
	}
}
