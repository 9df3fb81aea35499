// Package promrules checks docs/monitoring.md's Prometheus alert rules
// with Prometheus's own packages, as `promtool check rules` and `promtool
// test rules` would (promtool is not installed where certctl is built):
// the rule file parsed and validated, then every rule evaluated by the
// PromQL engine over what node_exporter would scrape from nodes that
// certctl made and checked, minute by minute, to see which alerts fire
// when. It is a module of its own so that certctl's go.mod does not carry
// Prometheus's dependencies; `make test-promrules` runs it.
package promrules

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/promql"
)

const job = "node-control-plane" // docs/monitoring.md's CertctlCheckMissing names it

// vanishAt is the minute from which node_exporter serves the check made
// after cp-vanished's files were deleted.
const vanishAt = 30

// TestMonitoringDocsAlerts: on nodes that certctl made and checked with
// `check-expiration -o prometheus`, each in one state, the rules of
// docs/monitoring.md fire exactly the alerts the doc promises, with the
// labels that say which node and file, after their `for:`, and never on a
// healthy node; their annotations expand.
func TestMonitoringDocsAlerts(t *testing.T) {
	bin := certctlBin(t)
	rules := docRules(t)

	// front-proxy-ca valid for 3s and expired when checked (as test/cli's
	// TestExpiredCA), with front-proxy-client, which certctl cuts to its
	// CA's end; certctl refuses leaf validities under an hour.
	expired := node{dir: filepath.Join(t.TempDir(), "etc-kubernetes")}
	expired.certDir = filepath.Join(expired.dir, "pki")
	run(t, bin, 0, "init-phase", "certs", "front-proxy-ca", "--cert-dir", expired.certDir, "--ca-certificate-validity", "3s")
	expired = makeNodeIn(t, bin, expired.dir)
	fresh := makeNode(t, bin)
	// The apiserver certificate renewed for 10 days: within the rules' 14.
	soon := makeNode(t, bin)
	run(t, bin, 0, append([]string{"renew", "apiserver", "--certificate-validity", "240h"}, soon.flags()...)...)
	// A key that is not its certificate's, and a key others may read.
	problem := makeNode(t, bin)
	copyFile(t, filepath.Join(problem.certDir, "front-proxy-client.key"), filepath.Join(problem.certDir, "apiserver.key"))
	if err := os.Chmod(filepath.Join(problem.certDir, "apiserver-kubelet-client.key"), 0o644); err != nil {
		t.Fatal(err)
	}
	// A restart that renew --restart-control-plane could not do, as the
	// state file it leaves says (test/cli's TestMonitoringDocs).
	owed := makeNode(t, bin)
	restarts := `{"version": 1, "components": [{"component": "kube-apiserver", "files": ["` + filepath.Join(owed.certDir, "apiserver.crt") + `"], "since": "2026-01-01T00:00:00Z"}]}`
	if err := os.WriteFile(filepath.Join(owed.dir, ".certctl-restarts.json"), []byte(restarts), 0o600); err != nil {
		t.Fatal(err)
	}
	// With an external etcd there are no etcd certificates: missing
	// from the start, which raises no alert.
	extEtcd := makeNode(t, bin)
	for _, f := range []string{"etcd", "apiserver-etcd-client.crt", "apiserver-etcd-client.key"} {
		if err := os.RemoveAll(filepath.Join(extEtcd.certDir, f)); err != nil {
			t.Fatal(err)
		}
	}
	// A certificate and kubelet.conf deleted by mistake, and
	// super-admin.conf moved away (kubeadm advises keeping it off the
	// node), after a first check. kubelet.conf names the file the kubelet
	// rotates, as after its TLS bootstrap: its expiry series had that
	// file's name, its missing series has kubelet.conf's.
	vanished := makeNode(t, bin)
	bootstrapKubelet(t, vanished)
	vanishedBefore := check(t, bin, vanished, 0)
	for _, f := range []string{filepath.Join(vanished.certDir, "apiserver.crt"), filepath.Join(vanished.dir, "super-admin.conf"), filepath.Join(vanished.dir, "kubelet.conf")} {
		if err := os.Remove(f); err != nil {
			t.Fatal(err)
		}
	}
	// Every file gone, the folders left empty: the check fails (exit 1),
	// after it wrote --textfile.
	emptied := makeNode(t, bin)
	emptiedBefore := check(t, bin, emptied, 0)
	if err := os.RemoveAll(emptied.dir); err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(emptied.certDir, 0o700); err != nil {
		t.Fatal(err)
	}
	prom := filepath.Join(t.TempDir(), "certctl.prom")
	run(t, bin, 1, append([]string{"check-expiration", "--textfile", prom}, emptied.flags()...)...)
	emptiedAfter, err := os.ReadFile(prom)
	if err != nil {
		t.Fatal(err)
	}
	time.Sleep(time.Until(notAfter(t, filepath.Join(expired.certDir, "front-proxy-ca.crt"))) + 1500*time.Millisecond)

	textfiles := map[string]string{ // by instance; cp-never: node_exporter up, no textfile
		"cp-fresh:9100":    check(t, bin, fresh, 0),
		"cp-soon:9100":     check(t, bin, soon, 0),
		"cp-expired:9100":  check(t, bin, expired, 2),
		"cp-problem:9100":  check(t, bin, problem, 3),
		"cp-owed:9100":     check(t, bin, owed, 4),
		"cp-ext-etcd:9100": check(t, bin, extEtcd, 0),
		"cp-vanished:9100": check(t, bin, vanished, 0), // from t0+vanishAt
		"cp-emptied:9100":  string(emptiedAfter),       // from t0+vanishAt
		"cp-never:9100":    "",
	}
	// The checks ran once, before t0; node_exporter serves their files
	// every minute after, the last check growing old.
	t0 := time.Now().Truncate(time.Minute).Add(time.Minute)
	const minutes = 125
	s := scrapes{}
	for m := range minutes + 1 {
		for instance, text := range textfiles {
			if instance == "cp-vanished:9100" && m < vanishAt {
				text = vanishedBefore
			}
			if instance == "cp-emptied:9100" && m < vanishAt {
				text = emptiedBefore
			}
			if err := s.scrape(job, instance, text, t0.Add(time.Duration(m)*time.Minute)); err != nil {
				t.Fatalf("node_exporter cannot parse the textfile of %s: %v\n%s", instance, err, text)
			}
		}
		// a node whose node_exporter does not answer: no certctl series
		// either, but its check may well run (a target-down alert's job)
		s.down(job, "cp-down:9100", t0.Add(time.Duration(m)*time.Minute))
	}

	checked := []string{}
	for instance, text := range textfiles {
		if text != "" {
			checked = append(checked, instance)
		}
	}
	engine := promql.NewEngine(promql.EngineOpts{MaxSamples: 1e6, Timeout: time.Minute})
	ctx := context.Background()
	for m := range minutes + 1 {
		ts := t0.Add(time.Duration(m) * time.Minute)
		for i := range rules {
			if err := rules[i].eval(ctx, engine, s, ts); err != nil {
				t.Fatalf("at t0+%dm: %v", m, err)
			}
			s.alerts(&rules[i], ts)
		}
		if m == 119 || m == 120 {
			continue // whether the checks are stale yet depends on their second
		}
		if got, want := firing(rules), wantFiring(m, expired, soon, problem, vanished, emptied, emptiedBefore, checked); !slices.Equal(got, want) {
			t.Fatalf("at t0+%dm, firing:\n  %s\nwant:\n  %s", m, strings.Join(got, "\n  "), strings.Join(want, "\n  "))
		}
	}
	fpCA, fpClient := filepath.Join(expired.certDir, "front-proxy-ca.crt"), filepath.Join(expired.certDir, "front-proxy-client.crt")
	checkAnnotations(t, rules, map[string]*regexp.Regexp{
		// the days left, and what to do about it
		`KubernetesCertificateExpiresSoon{instance="cp-soon:9100", name="apiserver"}`: regexp.MustCompile(
			"^" + regexp.QuoteMeta(filepath.Join(soon.certDir, "apiserver.crt")) + ` expires 9d \d+h \d+m \d+s from now: check the renewal timer, or run ` + "`certctl renew apiserver`"),
		// no "expires -1h 2m from now" once it has expired
		`KubernetesCertificateExpiresSoon{instance="cp-expired:9100", name="front-proxy-ca"}`: regexp.MustCompile(
			"^" + regexp.QuoteMeta(fpCA) + " has expired: rotate the CA in stages, `certctl ca rotate front-proxy-ca`"),
		// renew refuses while the CA has expired: the CA first
		`KubernetesCertificateExpiresSoon{instance="cp-expired:9100", name="front-proxy-client"}`: regexp.MustCompile(
			"^" + regexp.QuoteMeta(fpClient) + " has expired: check the renewal timer, or run `certctl renew front-proxy-client`.*; " +
				regexp.QuoteMeta("if its CA front-proxy-ca expires within these 14 days too, renew refuses once the CA has expired: rotate the CA first, `certctl ca rotate front-proxy-ca`")),
		`KubernetesCertificateExpired{instance="cp-expired:9100", name="front-proxy-ca"}`: regexp.MustCompile(
			"^" + regexp.QuoteMeta(fpCA+" has expired: clients refuse everything it signed, and certctl renews nothing with it: rotate it, `certctl ca rotate front-proxy-ca`")),
		`KubernetesCertificateExpired{instance="cp-expired:9100", name="front-proxy-client"}`: regexp.MustCompile(
			"^" + regexp.QuoteMeta(fpClient+" has expired: run `certctl renew front-proxy-client` on the node") + ".*" +
				regexp.QuoteMeta("if its CA front-proxy-ca has expired too, renew refuses: rotate the CA first, `certctl ca rotate front-proxy-ca`")),
		`KubernetesCertificateFileMissing{instance="cp-vanished:9100", name="apiserver"}`: regexp.MustCompile(
			"^" + regexp.QuoteMeta(filepath.Join(vanished.certDir, "apiserver.crt")+" was there and is missing now")),
		`KubernetesCertificateFileMissing{instance="cp-vanished:9100", name="kubelet.conf"}`: regexp.MustCompile(
			"^" + regexp.QuoteMeta(filepath.Join(vanished.dir, "kubelet.conf")+" was there and is missing now")),
	})
}

// checkAnnotations checks the firing alerts' annotations: every summary
// names the alert's node (its instance label), and the descriptions of
// the alerts keyed `Alert{instance="...", name="..."}` match.
func checkAnnotations(t *testing.T, rules []alertRule, descriptions map[string]*regexp.Regexp) {
	t.Helper()
	for _, r := range rules {
		for _, a := range r.active {
			if !a.firing {
				continue
			}
			if instance := a.labels.Get("instance"); !strings.Contains(a.annotations["summary"], instance) {
				t.Errorf("%s: summary %q does not name the node %s", a.labels, a.annotations["summary"], instance)
			}
			key := fmt.Sprintf("%s{instance=%q, name=%q}", r.rule.Alert, a.labels.Get("instance"), a.labels.Get("name"))
			if re := descriptions[key]; re != nil {
				delete(descriptions, key)
				if !re.MatchString(a.annotations["description"]) {
					t.Errorf("%s: description\n  %s\nwant it to match\n  %s", key, a.annotations["description"], re)
				}
			}
		}
	}
	for key := range descriptions {
		t.Errorf("no firing alert %s", key)
	}
}

// wantFiring is what must fire at t0+m, exactly: each rule with `for:`
// only after it; every check older than 2h (the checks ran in the minute
// before t0: at t0+119m or t0+120m, depending on the second) stale.
func wantFiring(m int, expired, soon, problem, vanished, emptied node, emptiedBefore string, checked []string) []string {
	cert := func(alert, severity, instance, name, file, kind, ca string, more ...string) string {
		l := map[string]string{"instance": instance, "job": job, "severity": severity, "name": name, "file": file, "kind": kind}
		if ca != "" {
			l["ca"] = ca
		}
		for i := 0; i < len(more); i += 2 {
			l[more[i]] = more[i+1]
		}
		return alert + labels.FromMap(l).String()
	}
	target := func(alert string, l map[string]string) string {
		l["job"], l["severity"] = job, "warning"
		return alert + labels.FromMap(l).String()
	}
	fpCA, fpClient := filepath.Join(expired.certDir, "front-proxy-ca.crt"), filepath.Join(expired.certDir, "front-proxy-client.crt")
	w := []string{
		cert("KubernetesCertificateExpired", "critical", "cp-expired:9100", "front-proxy-ca", fpCA, "ca", ""),
		cert("KubernetesCertificateExpired", "critical", "cp-expired:9100", "front-proxy-client", fpClient, "certificate", "front-proxy-ca"),
	}
	if m >= 15 {
		w = append(w,
			cert("KubernetesCertificateProblem", "critical", "cp-problem:9100", "apiserver", filepath.Join(problem.certDir, "apiserver.crt"), "certificate", "ca", "type", "key-mismatch"),
			cert("KubernetesCertificateProblem", "critical", "cp-problem:9100", "apiserver-kubelet-client", filepath.Join(problem.certDir, "apiserver-kubelet-client.crt"), "certificate", "ca", "type", "key-permissions"))
	}
	if m >= vanishAt {
		w = append(w,
			cert("KubernetesCertificateFileMissing", "critical", "cp-vanished:9100", "apiserver", filepath.Join(vanished.certDir, "apiserver.crt"), "certificate", "ca"),
			cert("KubernetesCertificateFileMissing", "critical", "cp-vanished:9100", "kubelet.conf", filepath.Join(vanished.dir, "kubelet.conf"), "certificate", "ca"))
	}
	if m >= vanishAt {
		// Every file it had, but super-admin.conf (monitoring.md).
		for _, line := range regexp.MustCompile(`(?m)^certctl_certificate_expiration_timestamp_seconds\{ca="(.*?)",file="(.*?)",kind="(.*?)",name="(.*?)"\}`).FindAllStringSubmatch(emptiedBefore, -1) {
			if line[4] != "super-admin.conf" {
				w = append(w, cert("KubernetesCertificateFileMissing", "critical", "cp-emptied:9100", line[4], line[2], line[3], line[1]))
			}
		}
	}
	if m >= vanishAt+15 {
		// and the check's error, from the first check of the wrong
		// folders on too
		w = append(w, cert("KubernetesCertificateProblem", "critical", "cp-emptied:9100", "cert-dir", emptied.certDir, "folder", "", "type", "no-files"))
	}
	if m >= 30 {
		w = append(w, target("KubernetesControlPlaneRestartOwed", map[string]string{"instance": "cp-owed:9100", "component": "kube-apiserver"}))
	}
	if m >= 60 {
		w = append(w,
			cert("KubernetesCertificateExpiresSoon", "warning", "cp-soon:9100", "apiserver", filepath.Join(soon.certDir, "apiserver.crt"), "certificate", "ca"),
			// an expired certificate also expires within 14 days:
			// the warning stays with the critical alert (no
			// "resolved" for it the moment it expires)
			cert("KubernetesCertificateExpiresSoon", "warning", "cp-expired:9100", "front-proxy-ca", fpCA, "ca", ""),
			cert("KubernetesCertificateExpiresSoon", "warning", "cp-expired:9100", "front-proxy-client", fpClient, "certificate", "front-proxy-ca"),
			target("CertctlCheckMissing", map[string]string{"instance": "cp-never:9100"}))
	}
	if m > 120 {
		for _, instance := range checked {
			w = append(w, target("CertctlCheckStale", map[string]string{"instance": instance}))
		}
	}
	slices.Sort(w)
	return w
}

// check runs `certctl check-expiration -o prometheus` on n, which must
// exit with status code, and returns the metrics.
func check(t *testing.T, bin string, n node, code int) string {
	t.Helper()
	return run(t, bin, code, append([]string{"check-expiration", "-o", "prometheus"}, n.flags()...)...)
}

func copyFile(t *testing.T, from, to string) {
	t.Helper()
	data, err := os.ReadFile(from)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(to, data, 0o600); err != nil {
		t.Fatal(err)
	}
}
