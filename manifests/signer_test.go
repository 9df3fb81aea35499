package manifests

import (
	"bytes"
	"errors"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"sigs.k8s.io/yaml"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/golden")

const (
	caCrt = "/etc/kubernetes/pki/ca.crt"
	caKey = "/etc/kubernetes/pki/ca.key"
)

func readFixture(t *testing.T, name string) []byte {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return data
}

// checkGolden compares got with testdata/golden/NAME, or rewrites it with -update.
func checkGolden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", "golden", name)
	if *update {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test ./manifests -update to create it)", err)
	}
	if !bytes.Equal(got, want) {
		d, _ := UnifiedDiff(path, "got", want, got)
		t.Errorf("%s differs from the golden file (go test ./manifests -update rewrites it):\n%s", name, d)
	}
}

var general = SignerOptions{CertFile: caCrt, KeyFile: caKey}

func TestEnableSignerGolden(t *testing.T) {
	for _, tc := range []struct {
		golden  string
		fixture string
		opts    SignerOptions
		changes int // number of changes reported
	}{
		{"kubeadm.per-signer.yaml", "kubeadm.yaml", SignerOptions{CertFile: caCrt, KeyFile: caKey, PerSigner: true}, 8},
		{"kubeadm-external-ca.duration.yaml", "kubeadm-external-ca.yaml", SignerOptions{CertFile: caCrt, KeyFile: caKey, Duration: 720 * time.Hour}, 3},
		{"hand-edited.enable.yaml", "hand-edited.yaml", general, 4},
		{"hand-no-flags.enable.yaml", "hand-no-flags.yaml", general, 2},
		{"hand-no-flags.other-dir.yaml", "hand-no-flags.yaml", SignerOptions{CertFile: "/srv/kubernetes/pki/ca.crt", KeyFile: "/srv/kubernetes/pki/ca.key"}, 3},
		{"per-signer.enable.yaml", "per-signer.yaml", general, 8},
	} {
		t.Run(tc.golden, func(t *testing.T) {
			in := readFixture(t, tc.fixture)
			out, changes, err := EnableSigner(in, tc.opts)
			if err != nil {
				t.Fatal(err)
			}
			if len(changes) != tc.changes {
				t.Errorf("changes = %d %q, want %d", len(changes), changes, tc.changes)
			}
			checkGolden(t, tc.golden, out)
			again, changes, err := EnableSigner(out, tc.opts)
			if err != nil || !bytes.Equal(again, out) || len(changes) != 0 {
				t.Errorf("second EnableSigner changed the manifest (err %v, changes %q)", err, changes)
			}
			flags, err := SignerFlags(out)
			if err != nil {
				t.Fatal(err)
			}
			if tc.opts.PerSigner {
				if flags[flagCertFile] != "" || flags[flagKeyFile] != "" {
					t.Errorf("per-signer manifest still sets --%s or --%s", flagCertFile, flagKeyFile)
				}
				for _, p := range perSignerFlags {
					if flags[p[0]] != tc.opts.CertFile || flags[p[1]] != tc.opts.KeyFile {
						t.Errorf("--%s=%q --%s=%q, want %s %s", p[0], flags[p[0]], p[1], flags[p[1]], tc.opts.CertFile, tc.opts.KeyFile)
					}
				}
			} else if flags[flagCertFile] != tc.opts.CertFile || flags[flagKeyFile] != tc.opts.KeyFile || len(flags) != 2+boolInt(tc.opts.Duration > 0) {
				t.Errorf("signing flags = %v, want only the general pair", flags)
			}
		})
	}
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}

// TestKubeadmRoundTrip: kubeadm's two shapes of the manifest are each
// other's enable and disable, byte for byte, and re-encoding kubeadm's
// manifest gives it back unchanged.
func TestKubeadmRoundTrip(t *testing.T) {
	on, off := readFixture(t, "kubeadm.yaml"), readFixture(t, "kubeadm-external-ca.yaml")
	for name, in := range map[string][]byte{"kubeadm.yaml": on, "kubeadm-external-ca.yaml": off} {
		pod, err := Parse(in)
		if err != nil {
			t.Fatal(err)
		}
		out, err := yaml.Marshal(pod)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(out, in) {
			d, _ := UnifiedDiff(name, "re-encoded", in, out)
			t.Errorf("re-encoding %s changes it:\n%s", name, d)
		}
	}
	got, changes, err := EnableSigner(off, general)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, on) {
		d, _ := UnifiedDiff("kubeadm.yaml", "enabled", on, got)
		t.Errorf("enable(external CA) != kubeadm.yaml:\n%s", d)
	}
	want := []string{"set --cluster-signing-cert-file=" + caCrt + " (was empty)", "set --cluster-signing-key-file=" + caKey + " (was empty)"}
	if strings.Join(changes, "\n") != strings.Join(want, "\n") {
		t.Errorf("changes = %q, want %q", changes, want)
	}
	got, changes, err = DisableSigner(on)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, off) {
		d, _ := UnifiedDiff("kubeadm-external-ca.yaml", "disabled", off, got)
		t.Errorf("disable(kubeadm) != kubeadm-external-ca.yaml:\n%s", d)
	}
	if len(changes) != 2 {
		t.Errorf("disable changes = %q, want 2", changes)
	}
	// Already in the wanted state: the very same bytes, no change reported.
	for _, tc := range []struct {
		name string
		f    func([]byte) ([]byte, []string, error)
		in   []byte
	}{
		{"enable kubeadm.yaml", func(b []byte) ([]byte, []string, error) { return EnableSigner(b, general) }, on},
		{"disable kubeadm-external-ca.yaml", DisableSigner, off},
	} {
		got, changes, err := tc.f(tc.in)
		if err != nil || !bytes.Equal(got, tc.in) || len(changes) != 0 {
			t.Errorf("%s: changed it (err %v, changes %q)", tc.name, err, changes)
		}
	}
}

// TestKubeadmPerSignerRoundTrip: enable --per-signer then disable gives
// kubeadm's external-CA manifest back byte for byte, as the documents say
// of enable and disable. Enable removed the empty general pair, which
// disable, writing kubeadm's shape where the flags are, did not put back;
// kube-controller-manager takes the empty pair beside the per-signer ones.
func TestKubeadmPerSignerRoundTrip(t *testing.T) {
	off := readFixture(t, "kubeadm-external-ca.yaml")
	on, _, err := EnableSigner(off, SignerOptions{CertFile: caCrt, KeyFile: caKey, PerSigner: true})
	if err != nil {
		t.Fatal(err)
	}
	flags, err := SignerFlags(on)
	if err != nil {
		t.Fatal(err)
	}
	if v, ok := flags[flagCertFile]; !ok || v != "" || flags[flagKeyFile] != "" {
		t.Errorf("--per-signer: general pair %q %q, want kubeadm's empty pair kept", flags[flagCertFile], flags[flagKeyFile])
	}
	got, _, err := DisableSigner(on)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, off) {
		d, _ := UnifiedDiff("kubeadm-external-ca.yaml", "enabled per signer, disabled", off, got)
		t.Errorf("disable(enable --per-signer(external CA)) != kubeadm-external-ca.yaml:\n%s", d)
	}
}

func TestDisableSignerGolden(t *testing.T) {
	for _, tc := range []struct{ golden, fixture string }{
		{"hand-edited.disable.yaml", "hand-edited.yaml"},
		{"per-signer.disable.yaml", "per-signer.yaml"},
	} {
		t.Run(tc.golden, func(t *testing.T) {
			out, _, err := DisableSigner(readFixture(t, tc.fixture))
			if err != nil {
				t.Fatal(err)
			}
			checkGolden(t, tc.golden, out)
			flags, err := SignerFlags(out)
			if err != nil {
				t.Fatal(err)
			}
			for f, v := range flags {
				if v != "" && f != flagDuration {
					t.Errorf("disabled manifest has --%s=%s", f, v)
				}
			}
		})
	}
	// Enable into a folder that needs a volume, then disable: the volume goes too.
	in := readFixture(t, "hand-no-flags.yaml")
	on, _, err := EnableSigner(in, SignerOptions{CertFile: "/srv/pki/ca.crt", KeyFile: "/srv/pki/ca.key"})
	if err != nil {
		t.Fatal(err)
	}
	off, _, err := DisableSigner(on)
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(off, []byte(VolumePrefix)) {
		t.Errorf("disable left the volume %s:\n%s", VolumePrefix, off)
	}
}

func TestPatchErrors(t *testing.T) {
	kubeadm := string(readFixture(t, "kubeadm.yaml"))
	for _, tc := range []struct {
		name, in, want string
		opts           SignerOptions
	}{
		{"empty", "", "empty manifest", general},
		{"malformed", "apiVersion: v1\nkind: Pod\nspec: [\n", "fix the manifest by hand; the kubelet cannot read it either", general},
		{"not a pod", strings.Replace(kubeadm, "kind: Pod", "kind: Deployment", 1), "not a static pod", general},
		{"unknown field", strings.Replace(kubeadm, "  hostNetwork: true", "  hostNetwork: true\n  hostNetwrk: true", 1), `unknown field "hostNetwrk": a field a v1 Pod does not have (misspelled?)`, general},
		{"key twice", strings.Replace(kubeadm, "  hostNetwork: true", "  hostNetwork: true\n  hostNetwork: false", 1), "given twice", general},
		{"two documents", kubeadm + "---\n" + kubeadm, "more than one YAML document", general},
		{"a document after an empty one", kubeadm + "---\n# nothing\n---\nkind: Pod\n", "more than one YAML document", general},
		{"a document on the separator's line", kubeadm + "--- {kind: Pod}\n", "more than one YAML document", general},
		{"no controller-manager", strings.ReplaceAll(kubeadm, "kube-controller-manager", "kube-scheduler"), "no container", general},
		{"shell wrapper", strings.Replace(kubeadm, "    - kube-controller-manager\n", "    - /bin/sh\n    - -c\n", 1), "runs \"/bin/sh\"", general},
		{"flag without value", strings.Replace(kubeadm, "    - --use-service-account-credentials=true\n", "    - --cluster-signing-key-file\n", 1), "has no value", general},
		{"relative path", kubeadm, "absolute", SignerOptions{CertFile: "ca.crt", KeyFile: "ca.key"}},
		{"no key", kubeadm, "both required", SignerOptions{CertFile: caCrt}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			out, _, err := EnableSigner([]byte(tc.in), tc.opts)
			if err == nil || !strings.Contains(err.Error(), tc.want) || strings.Contains(err.Error(), "\n") {
				t.Fatalf("err = %q, want one line containing %q", err, tc.want)
			}
			if out != nil {
				t.Errorf("returned a manifest with the error")
			}
		})
	}
	if _, _, err := DisableSigner([]byte(strings.ReplaceAll(kubeadm, "kube-controller-manager", "etcd"))); !errors.Is(err, ErrNoContainer) {
		t.Errorf("disable without the container: err = %v, want ErrNoContainer", err)
	}
}

// TestTrailingSeparator: an empty document after the Pod (a trailing
// "---", with or without a comment), or a document end marker, is read past
// as the kubelet reads past it, and kept as it was by enable and disable.
func TestTrailingSeparator(t *testing.T) {
	kubeadm := string(readFixture(t, "kubeadm.yaml"))
	on, _, err := EnableSigner([]byte(kubeadm), general)
	if err != nil {
		t.Fatal(err)
	}
	off, _, err := DisableSigner(on)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct{ name, before, after string }{
		{"trailing separator", "", "---\n"},
		{"leading and trailing separators, a comment", "---\n", "---\n# end\n"},
		{"separator with a comment", "", "--- # end\n"},
		{"document end marker", "", "...\n"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, _, err := EnableSigner([]byte(tc.before+kubeadm+tc.after), general)
			if err != nil {
				t.Fatalf("enable: %v", err)
			}
			if want := tc.before + string(on) + tc.after; string(got) != want {
				t.Errorf("enable wrote\n%s\nwant\n%s", got, want)
			}
			if got, _, err = DisableSigner(got); err != nil {
				t.Fatalf("disable: %v", err)
			}
			if want := tc.before + string(off) + tc.after; string(got) != want {
				t.Errorf("disable wrote\n%s\nwant\n%s", got, want)
			}
		})
	}
}

func TestCommand(t *testing.T) {
	_, c, _, err := controllerManager(readFixture(t, "hand-edited.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	args := append(append([]string{}, c.Command...), c.Args...)
	if args[0] != "kube-controller-manager" || args[1] != "--kubeconfig=/etc/kubernetes/controller-manager.conf" || len(args) != 8 {
		t.Errorf("Command = %q", args)
	}
}

// TestEnableController: --controllers as kube-controller-manager v1.37
// reads it. It knows the CSR signing controller by its name,
// certificatesigningrequest-signing-controller (the one its --help lists),
// and by the alias csrsigning; "--controllers=" is the empty list, which
// runs nothing; the first entry naming the controller decides. A manifest
// that turned the signer off by its name was left off ("nothing to do"),
// and "--controllers=" became "--controllers=,csrsigning", which
// kube-controller-manager refuses to start with ("\"\" is not in the list of
// known controllers").
func TestEnableController(t *testing.T) {
	for in, want := range map[string]string{
		"":                                   "csrsigning",
		"*":                                  "*",
		"*,bootstrapsigner,tokencleaner":     "*,bootstrapsigner,tokencleaner",
		"*,-csrsigning":                      "*",
		"-csrsigning":                        "csrsigning",
		"csrapproving,csrcleaner":            "csrapproving,csrcleaner,csrsigning",
		"-csrsigning,csrapproving":           "csrapproving,csrsigning",
		"csrsigning,csrapproving,csrcleaner": "csrsigning,csrapproving,csrcleaner",
		"*,-certificatesigningrequest-signing-controller":          "*",
		"-certificatesigningrequest-signing-controller,*":          "*",
		"certificatesigningrequest-signing-controller":             "certificatesigningrequest-signing-controller",
		"csrsigning,-csrsigning":                                   "csrsigning",
		"certificatesigningrequest-approving-controller":           "certificatesigningrequest-approving-controller,csrsigning",
		"-certificatesigningrequest-signing-controller,csrsigning": "csrsigning",
	} {
		got := enableCSRSigning(in)
		if got != want {
			t.Errorf("enableCSRSigning(%q) = %q, want %q", in, got, want)
		}
		if !CSRSigningEnabled(got, true) {
			t.Errorf("CSRSigningEnabled(%q) = false after enableCSRSigning(%q)", got, in)
		}
	}
}

func TestCSRSigningEnabled(t *testing.T) {
	for _, tc := range []struct {
		controllers string
		set, want   bool
	}{
		{"", false, true},
		{"", true, false}, // --controllers= runs no controller
		{"*", true, true},
		{"*,bootstrapsigner,tokencleaner", true, true},
		{"*,-csrsigning", true, false},
		{"*,-certificatesigningrequest-signing-controller", true, false},
		{"-csrsigning", true, false},
		{"csrsigning,garbagecollector", true, true},
		{"certificatesigningrequest-signing-controller", true, true},
		{"garbagecollector", true, false},
		{"csrsigning,-csrsigning", true, true}, // the first wins
		{"-csrsigning,csrsigning,*", true, false},
		{"* ,csrsigning", true, true},
	} {
		if got := CSRSigningEnabled(tc.controllers, tc.set); got != tc.want {
			t.Errorf("--controllers=%q (set %v): %v, want %v", tc.controllers, tc.set, got, tc.want)
		}
	}
}

// TestEnableSignerDuration: --cluster-signing-duration as
// kube-controller-manager reads it (time.ParseDuration). The same duration
// in the manifest's spelling (8760h for 8760h0m0s) was rewritten, which
// restarts kube-controller-manager for nothing; a value it cannot read
// ("1y": it prints its usage and does not start) was kept while the signer
// was turned on, and the output said the kubelet restarts it with it.
func TestEnableSignerDuration(t *testing.T) {
	kubeadm := readFixture(t, "kubeadm.yaml")
	const at = "    - --controllers="
	if !bytes.Contains(kubeadm, []byte(at)) {
		t.Fatalf("kubeadm.yaml has no %q", at)
	}
	withDuration := func(v string) []byte {
		return bytes.Replace(kubeadm, []byte(at), []byte("    - --cluster-signing-duration="+v+"\n"+at), 1)
	}
	ca := SignerOptions{CertFile: "/etc/kubernetes/pki/ca.crt", KeyFile: "/etc/kubernetes/pki/ca.key"}
	for _, tc := range []struct {
		name, in string
		duration time.Duration
		want     string // the flag's value after, "" for a refusal
	}{
		{"same, other spelling", "8760h", 8760 * time.Hour, "8760h"},
		{"same, in minutes", "525600m", 8760 * time.Hour, "525600m"},
		{"other", "8760h", 720 * time.Hour, "720h0m0s"},
		{"kept", "8760h0m0s", 0, "8760h0m0s"},
		{"invalid, replaced", "1y", 720 * time.Hour, "720h0m0s"},
		{"invalid, kept", "1y", 0, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			in := withDuration(tc.in)
			o := ca
			o.Duration = tc.duration
			out, changes, err := EnableSigner(in, o)
			if tc.want == "" {
				if err == nil || !strings.Contains(err.Error(), "--cluster-signing-duration=1y") || !strings.Contains(err.Error(), "pass --cluster-signing-duration") {
					t.Errorf("err = %v, changes %q; want a refusal of 1y", err, changes)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(out, withDuration(tc.want)) {
				t.Errorf("changes %q, manifest:\n%s", changes, out)
			}
			if tc.want == tc.in && (len(changes) > 0 || !bytes.Equal(out, in)) {
				t.Errorf("the same duration changed the manifest: %q", changes)
			}
		})
	}
}

// TestEnableSignerControllersTwice: --controllers is a string slice in
// kube-controller-manager: given twice, the values add up. Enable took the
// last one for the whole list, and "--controllers=*" then
// "--controllers=-csrsigning" became "--controllers=csrsigning": every
// other controller of the cluster off.
func TestEnableSignerControllersTwice(t *testing.T) {
	kubeadm := readFixture(t, "kubeadm.yaml")
	const line = "    - --controllers=*,bootstrapsigner,tokencleaner\n"
	if !bytes.Contains(kubeadm, []byte(line)) {
		t.Fatalf("kubeadm.yaml has no %q", line)
	}
	for _, tc := range []struct{ in, want string }{
		{"    - --controllers=*,bootstrapsigner\n    - --controllers=-csrsigning\n", "    - --controllers=*,bootstrapsigner\n"},
		{"    - --controllers=\n    - --controllers=*\n", "    - --controllers=\n    - --controllers=*\n"},                         // on: kept
		{"    - --controllers=*\n    - --controllers=\n", "    - --controllers=*\n    - --controllers=\n"},                         // on: kept
		{"    - --controllers=*\n    - --controllers=tokencleaner\n", "    - --controllers=*\n    - --controllers=tokencleaner\n"}, // on: kept
	} {
		in := bytes.Replace(kubeadm, []byte(line), []byte(tc.in), 1)
		out, changes, err := EnableSigner(in, general)
		if err != nil {
			t.Fatal(err)
		}
		if want := bytes.Replace(kubeadm, []byte(line), []byte(tc.want), 1); !bytes.Equal(out, want) {
			d, _ := UnifiedDiff("want", "got", want, out)
			t.Errorf("%q: changes %q:\n%s", tc.in, changes, d)
		}
		_, c, _, err := controllerManager(in)
		if err != nil {
			t.Fatal(err)
		}
		v, _ := Controllers(c)
		if got, want := CSRSigningEnabled(v, true), !strings.Contains(tc.in, "-csrsigning"); got != want {
			t.Errorf("%q: CSRSigningEnabled(%q) = %v, want %v", tc.in, v, got, want)
		}
	}
}
