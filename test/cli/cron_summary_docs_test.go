package cli

import (
	"encoding/json"
	"regexp"
	"slices"
	"strings"
	"testing"
)

// TestCronDocsDailyLine runs the daily command docs/cron.md opens with,
// as written, on a node whose certificates are fresh (its folders added):
// nothing to do, exit 2, nothing written and nothing restarted.
func TestCronDocsDailyLine(t *testing.T) {
	bin := certctlBin(t)
	n := makeRotationNode(t, bin)
	lines := docCommands(t, docBlockIn(t, "cron.md", "sh", "--keep-backups"))
	if len(lines) != 1 {
		t.Fatalf("docs/cron.md's first block: %q", lines)
	}
	args := append(strings.Fields(strings.TrimPrefix(lines[0], "certctl ")), append(n.flags(), "--manifest-dir", n.manifestDir, "--jitter", "0s")...)
	if r := runCode(t, bin, args...); r.code != 2 || !strings.Contains(r.out, "Nothing to do") {
		t.Errorf("certctl %s: exit %d, want 2 (nothing to do)\n%s%s", strings.Join(args, " "), r.code, r.out, r.errOut)
	}
}

// TestCronDocsRenewalSummary: docs/cron.md's RenewalSummary has the
// fields of the one `renew -o json` prints (at the top, of renewed[] and
// of skipped[]), and every field of its restarts[] entries, as of those
// certctl prints, is in the document's table of restarts[].
func TestCronDocsRenewalSummary(t *testing.T) {
	bin := certctlBin(t)
	var example map[string]any
	if err := json.Unmarshal([]byte(docBlockIn(t, "cron.md", "json", `"kind": "RenewalSummary"`)), &example); err != nil {
		t.Fatalf("docs/cron.md's RenewalSummary: %v", err)
	}
	n := makeRotationNode(t, bin)
	run(t, bin, append([]string{"renew", "apiserver", "--certificate-validity", "240h"}, n.flags()...)...)
	r := runCode(t, bin, append([]string{"renew", "all", "--if-expires-within", "720h", "--jitter", "0s", "-o", "json"}, n.flags()...)...)
	var got map[string]any
	if err := json.Unmarshal([]byte(r.out), &got); err != nil || r.code != 0 {
		t.Fatalf("renew -o json: exit %d, %v\n%s%s", r.code, err, r.out, r.errOut)
	}
	first := func(m map[string]any, key string) map[string]any {
		if l, ok := m[key].([]any); ok && len(l) > 0 {
			if o, ok := l[0].(map[string]any); ok {
				return o
			}
		}
		t.Fatalf("no %s[0] in %v", key, m)
		return nil
	}
	keys := func(m map[string]any) []string {
		k := make([]string, 0, len(m))
		for f := range m {
			k = append(k, f)
		}
		slices.Sort(k)
		return k
	}
	for _, c := range []struct {
		what      string
		doc, real map[string]any
	}{
		{"RenewalSummary", example, got},
		{"renewed[]", first(example, "renewed"), first(got, "renewed")},
		{"skipped[]", first(example, "skipped"), first(got, "skipped")},
	} {
		if d, g := keys(c.doc), keys(c.real); !slices.Equal(d, g) {
			t.Errorf("docs/cron.md's %s has the fields\n%q\nrenew -o json prints\n%q", c.what, d, g)
		}
	}

	// restarts[]: its table, and what certctl prints for a restart that
	// does not happen (no kubelet here).
	doc := string(mustRead(t, "../../docs/cron.md"))
	i := strings.Index(doc, "`restarts[]`:\n\n| field |")
	if i < 0 {
		t.Fatal("docs/cron.md's table of restarts[] has changed")
	}
	table := doc[i:]
	table = table[:strings.Index(table, "\n\n```json")]
	var documented []string
	for _, m := range regexp.MustCompile("(?m)^\\| `([a-zA-Z]+)(\\[\\])?`(, `([a-zA-Z]+)`)?").FindAllStringSubmatch(table, -1) {
		documented = append(documented, m[1], m[4])
	}
	for _, m := range regexp.MustCompile(`\{([a-zA-Z, ]+)\}`).FindAllStringSubmatch(table, -1) {
		for _, f := range strings.Split(m[1], ",") {
			documented = append(documented, "endpoints[]."+strings.TrimSpace(f))
		}
	}
	run(t, bin, append([]string{"renew", "apiserver", "--certificate-validity", "240h"}, n.flags()...)...)
	r = runCode(t, bin, append([]string{"renew", "all", "--if-expires-within", "720h", "--jitter", "0s", "-o", "json",
		"--restart-control-plane", "--manifest-dir", n.manifestDir, "--restart-timeout", "1s"}, n.flags()...)...)
	if err := json.Unmarshal([]byte(r.out), &got); err != nil {
		t.Fatalf("renew --restart-control-plane -o json: exit %d, %v\n%s%s", r.code, err, r.out, r.errOut)
	}
	for src, entry := range map[string]map[string]any{"docs/cron.md's example": first(example, "restarts"), "renew -o json": first(got, "restarts")} {
		for _, f := range keys(entry) {
			if !slices.Contains(documented, f) {
				t.Errorf("%s: restarts[] has the field %s, which docs/cron.md's table does not explain", src, f)
			}
		}
		endpoints, _ := entry["endpoints"].([]any)
		for _, e := range endpoints {
			for _, f := range keys(e.(map[string]any)) {
				if !slices.Contains(documented, "endpoints[]."+f) {
					t.Errorf("%s: restarts[].endpoints[] has the field %s, which docs/cron.md's table does not explain", src, f)
				}
			}
		}
	}
}
