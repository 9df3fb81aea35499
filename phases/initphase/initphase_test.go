package initphase

import (
	"bytes"
	"slices"
	"strings"
	"testing"

	"github.com/certctl/certctl/phases/config"
	"github.com/certctl/certctl/pki"
)

// TestSelect: what --use-csr cannot make is refused, a certificate an
// external etcd does not use is made with a warning, and a joining node
// gets only kubeadm join's kubeconfig files.
func TestSelect(t *testing.T) {
	for _, tc := range []struct {
		name, group, arg string
		useCSR           bool
		edit             func(*config.Cluster)
		err, warn        string
		has, lacks       string
	}{
		{name: "CA as a CSR", group: "certs", arg: pki.CAName, useCSR: true, err: "cannot be produced as a CSR"},
		{name: "sa as a CSR", group: "certs", arg: "sa", useCSR: true, err: "cannot be produced as a CSR"},
		{name: "all as CSRs", group: "certs", arg: "all", useCSR: true, has: "certs/apiserver"},
		{name: "external etcd", group: "certs", arg: pki.EtcdCAName, edit: func(c *config.Cluster) { c.ExternalEtcd = true }, err: "unknown certs phase"},
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
			var warn bytes.Buffer
			got, err := Select(&c, settings, tc.group, tc.arg, tc.useCSR, &warn)
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) {
					t.Fatalf("error %v, want %q", err, tc.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !strings.Contains(warn.String(), tc.warn) || tc.warn == "" && warn.Len() > 0 {
				t.Errorf("warnings %q, want %q", warn.String(), tc.warn)
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
