package cli

import (
	"strings"
	"testing"
)

// TestRotStatusNextCarriesNodeOnly: `ca status --node-only` printed a NEXT
// command without --node-only, which then tried the cluster (and failed
// with the API server down, where --node-only is for). The command must
// be the one to copy: with --node-only and the folder flags given.
func TestRotStatusNextCarriesNodeOnly(t *testing.T) {
	bin := certctlBin(t)
	n := makeRotationNode(t, bin)
	out := runOut(t, bin, append([]string{"ca", "status", "--node-only", "--manifest-dir", n.manifestDir, "-o", "jsonpath={.cas[0].next}"}, n.flags()...)...)
	for _, want := range []string{"certctl ca rotate ca", "--cert-dir " + n.certDir, "--kubeconfig-dir " + n.dir, "--manifest-dir " + n.manifestDir, "--node-only"} {
		if !strings.Contains(out, want) {
			t.Errorf("ca status --node-only: next %q does not carry %q", out, want)
		}
	}
}

// TestRotStatusNextCarriesMaxTokenLifetime: after `ca rotate sa
// --max-token-lifetime 2h`, the next commands printed by rotate and by
// ca status must carry it, or finish is allowed an hour early (the
// default, 1h), while tokens of the old key may still be in use.
func TestRotStatusNextCarriesMaxTokenLifetime(t *testing.T) {
	bin := certctlBin(t)
	n := makeRotationNode(t, bin)
	flags := append([]string{"--node-only", "--manifest-dir", n.manifestDir, "--max-token-lifetime", "2h"}, n.flags()...)
	rotate := runOut(t, bin, append([]string{"ca", "rotate", "sa"}, flags...)...)
	status := runOut(t, bin, append([]string{"ca", "status", "-o", "jsonpath={.cas[?(@.ca==\"sa\")].next}"}, flags...)...)
	for name, out := range map[string]string{"ca rotate sa": rotate, "ca status": status} {
		if !strings.Contains(out, "certctl ca rotate sa") || !strings.Contains(out, "--max-token-lifetime 2h0m0s") {
			t.Errorf("%s: the next command does not carry --max-token-lifetime 2h0m0s:\n%s", name, out)
		}
	}
}
