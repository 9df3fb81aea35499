package cli

import (
	"encoding/json"
	"os/exec"
	"strings"
	"testing"
)

// TestVersionFromGit checks that `make build` stamps the binary with `git
// describe` of the checkout, so that a bug report names the code it ran.
func TestVersionFromGit(t *testing.T) {
	bin := certctlBin(t)
	desc, err := exec.Command("../../hack/version.sh").Output()
	if err != nil {
		t.Fatalf("hack/version.sh: %v", err)
	}
	want := strings.TrimSpace(string(desc))
	var info struct {
		Version string `json:"version"`
	}
	out := run(t, bin, "version", "-o", "json")
	if err := json.Unmarshal([]byte(out), &info); err != nil {
		t.Fatalf("certctl version -o json: %v\n%s", err, out)
	}
	// The binary may have been built before a later edit made the tree dirty.
	if strings.TrimSuffix(info.Version, "-dirty") != strings.TrimSuffix(want, "-dirty") {
		t.Fatalf("certctl version = %q, want %q (hack/version.sh): build it with `make build`", info.Version, want)
	}
	if short := strings.TrimSpace(run(t, bin, "version", "-o", "short")); short != info.Version {
		t.Errorf("version -o short = %q, -o json says %q", short, info.Version)
	}
}
