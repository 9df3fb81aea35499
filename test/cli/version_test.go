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
	// The binary may have been built before a later edit made the tree
	// dirty, or before a later commit: then its version is git describe
	// of an ancestor of HEAD.
	if got := strings.TrimSuffix(info.Version, "-dirty"); got != strings.TrimSuffix(want, "-dirty") && !isAncestor(t, got) {
		t.Fatalf("certctl version = %q, want %q (hack/version.sh): build it with `make build`", info.Version, want)
	}
	if short := strings.TrimSpace(run(t, bin, "version", "-o", "short")); short != info.Version {
		t.Errorf("version -o short = %q, -o json says %q", short, info.Version)
	}
}

// isAncestor reports whether version, as git describe prints it (a tag,
// a commit, or TAG-N-gCOMMIT), names a commit that HEAD descends from.
func isAncestor(t *testing.T, version string) bool {
	rev := version
	if i := strings.LastIndex(version, "-g"); i >= 0 {
		rev = version[i+2:]
	}
	if rev == "" || rev == "dev" {
		return false
	}
	err := exec.Command("git", "merge-base", "--is-ancestor", rev, "HEAD").Run()
	t.Logf("certctl version %q: the binary was built at an earlier commit (git merge-base --is-ancestor %s HEAD: %v)", version, rev, err)
	return err == nil
}
