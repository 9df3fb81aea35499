package cli

import (
	"os"
	"os/exec"
	"regexp"
	"strings"
	"testing"
	"time"
)

// TestDocumentedCheckExpirationCronLine runs docs/renew.md's cron line for
// check-expiration as written (the binary and the test node's folders put
// in): cron mails whatever a job prints, so on a node where all is well it
// must print nothing, and when something expires within 30 days it must
// say so, naming the certificate.
func TestDocumentedCheckExpirationCronLine(t *testing.T) {
	bin := certctlBin(t)
	var line string
	for _, l := range strings.Split(docBlockIn(t, "renew.md", "sh", "check-expiration --warn-within"), "\n") {
		if strings.Contains(l, "/usr/local/bin/certctl check-expiration") && !strings.HasPrefix(l, "#") {
			line = l
		}
	}
	if line == "" {
		t.Fatal("docs/renew.md's cron line for check-expiration has changed")
	}
	n := makeNode(t, bin, "ECDSA-P256")
	line = strings.ReplaceAll(line, "/usr/local/bin/certctl check-expiration", bin+" check-expiration "+strings.Join(n.flags(), " "))
	sh := func() string {
		t.Helper()
		out, err := exec.Command("sh", "-c", line).CombinedOutput()
		if err != nil {
			t.Fatalf("sh -c %q: %v\n%s", line, err, out)
		}
		return string(out)
	}
	if out := sh(); out != "" {
		t.Errorf("all is well, but cron would mail:\n%s", out)
	}
	run(t, bin, append([]string{"renew", "apiserver", "--certificate-validity", "240h"}, n.flags()...)...)
	if out := sh(); !strings.Contains(out, "need attention") || !strings.Contains(out, "apiserver") {
		t.Errorf("apiserver expires in 10 days; cron would mail:\n%s", out)
	}
}

// TestDocumentedWarnWindowAfterRenewal: the --warn-within the docs give
// check-expiration must leave the renewal (install-timer's, which renews
// within 720h once a day) a day at least: with the same 720h, it warned on
// a healthy node each time a certificate entered the window, before the
// next nightly run renewed it.
func TestDocumentedWarnWindowAfterRenewal(t *testing.T) {
	for _, doc := range []string{"renew.md", "cron.md"} {
		data, err := os.ReadFile("../../docs/" + doc)
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range regexp.MustCompile(`check-expiration --warn-within (\S+?)[`+"`"+` ]`).FindAllStringSubmatch(string(data), -1) {
			d, err := time.ParseDuration(m[1])
			if err != nil || d > 720*time.Hour-24*time.Hour {
				t.Errorf("docs/%s: check-expiration --warn-within %s: want a window a day shorter than the renewal's 720h at least", doc, m[1])
			}
		}
	}
}
