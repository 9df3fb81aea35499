package castage

import (
	"fmt"
	"path/filepath"
	"slices"
	"strings"
)

// CADataProblem says that the kubeconfig file trusts got (fingerprints of
// its certificate-authority-data) where the stage of rec says the trust
// file's CAs; "" when they are the same. embedded: the kubeconfig holds
// its client certificate, which `certctl renew NAME` renews, writing the
// stage's CA data (renew is "certctl renew NAME FLAGS"). `kubeadm certs
// renew`, which `kubeadm upgrade` runs, writes the first CA of the trust
// file alone.
func CADataProblem(file string, got []string, rec *Record, trust string, embedded bool, renew string) string {
	want := rec.Trusted()
	if len(want) == 0 || slices.Equal(got, want) {
		return ""
	}
	msg := fmt.Sprintf("%s trusts %s, stage %s says %s", file, Short(got), rec.Stage, Short(want))
	if embedded {
		if len(got) == 1 && len(want) > 1 && got[0] == want[0] {
			// kubeadm's renewal writes the CA data from the CA it signs
			// with (the first certificate).
			msg += fmt.Sprintf(" (`kubeadm certs renew`, which `kubeadm upgrade` runs, writes the first certificate of %s alone)", filepath.Base(trust))
		}
		msg += fmt.Sprintf(": `%s` writes the stage's CA data", renew)
	}
	return msg
}

// Short abbreviates fingerprints for messages: "b275b21dc923", a list
// as "b275b21dc923, 0f1e2d3c4b5a" (Go's "[a b]" of a slice read as part
// of the fingerprint).
func Short(ids []string) string {
	out := make([]string, len(ids))
	for i, id := range ids {
		out[i] = id[:min(len(id), 12)]
	}
	return strings.Join(out, ", ")
}
