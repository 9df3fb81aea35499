package cli

import (
	"regexp"
	"strings"
	"testing"
)

// TestDocumentedConditionsAreTheUnits: docs/cron.md says which files of
// --cert-dir DIR the service's conditions name; they are those
// `install-timer --cert-dir DIR` writes. It said `DIR/ca.crt`, a file
// every worker has, after the conditions had become the API server's and
// etcd's serving certificates.
func TestDocumentedConditionsAreTheUnits(t *testing.T) {
	bin := certctlBin(t)
	units := run(t, bin, "install-timer", "--dry-run", "--node-name", "cp-1", "--cert-dir", "/DIR", "--unit-dir", t.TempDir())
	conds := regexp.MustCompile(`(?m)^ConditionPathExists=\|/(DIR/\S+)$`).FindAllStringSubmatch(units, -1)
	if len(conds) == 0 {
		t.Fatalf("no condition on --cert-dir in:\n%s", units)
	}
	doc := string(mustRead(t, "../../docs/cron.md"))
	i := strings.Index(doc, "`--config FILE`, `--cert-dir DIR`")
	if i < 0 {
		t.Fatal("docs/cron.md no longer explains --cert-dir DIR")
	}
	bullet, _, _ := strings.Cut(doc[i:], "\n- ")
	for _, c := range conds {
		if !strings.Contains(bullet, "`"+c[1]+"`") {
			t.Errorf("docs/cron.md does not name the condition `%s`:\n%s", c[1], bullet)
		}
	}
	for _, named := range regexp.MustCompile("`(DIR/[^`]+)`").FindAllStringSubmatch(bullet, -1) {
		if !strings.Contains(units, "ConditionPathExists=|/"+named[1]+"\n") {
			t.Errorf("docs/cron.md names `%s`, which is no condition of the units:\n%s", named[1], units)
		}
	}
}
