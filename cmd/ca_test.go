package cmd

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/spf13/cobra"

	"github.com/certctl/certctl/internal/pkitest"
)

// TestCAStatusNextCarriesFolderFlags: ca status's NEXT commands, copied as
// printed, act on the folders the user named, not on /etc/kubernetes.
func TestCAStatusNextCarriesFolderFlags(t *testing.T) {
	n := pkitest.NewNode(t, nil)
	out, _, err := execute(t, "ca", "status", "--node-only", "-o", "json", "--cert-dir", n.CertDir(), "--kubeconfig-dir", n.Dir)
	if err != nil {
		t.Fatal(err)
	}
	var report struct {
		CAs []struct{ CA, Next string } `json:"cas"`
	}
	if err := json.Unmarshal([]byte(out), &report); err != nil || len(report.CAs) == 0 {
		t.Fatalf("ca status -o json: %v, %d CAs\n%s", err, len(report.CAs), out)
	}
	flags := " --cert-dir " + n.CertDir() + " --kubeconfig-dir " + n.Dir
	for _, st := range report.CAs {
		if want := "certctl ca rotate " + st.CA + flags + " "; !strings.Contains(st.Next, want) {
			t.Errorf("%s: next %q, want %q", st.CA, st.Next, want)
		}
	}
}

func TestRerunFlags(t *testing.T) {
	tests := []struct {
		args []string
		want string
	}{
		{args: nil, want: ""},
		{args: []string{"--cert-dir", "/etc/kubernetes/pki"}, want: " --cert-dir /etc/kubernetes/pki"},
		{args: []string{"--cert-dir", "/srv/my pki", "--node-only"}, want: " --cert-dir '/srv/my pki' --node-only"},
		{args: []string{"--node-only=false", "--kubeconfig", "/k'c"}, want: ` --kubeconfig '/k'\''c'`},
		{args: []string{"--other", "x"}, want: ""},
	}
	for _, tt := range tests {
		c := &cobra.Command{}
		c.Flags().String("cert-dir", "/etc/kubernetes/pki", "")
		c.Flags().String("kubeconfig", "", "")
		c.Flags().Bool("node-only", false, "")
		c.Flags().String("other", "", "")
		if err := c.ParseFlags(tt.args); err != nil {
			t.Fatal(err)
		}
		if got := rerunFlags(c, "cert-dir", "kubeconfig", "node-only", "absent"); got != tt.want {
			t.Errorf("%q: %q, want %q", tt.args, got, tt.want)
		}
	}
}
