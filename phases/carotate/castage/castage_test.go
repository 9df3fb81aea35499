package castage

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/certctl/certctl/manifests"
	"github.com/certctl/certctl/pki"
)

// TestFilesOf: a CA's rotation has a bundle and the two CAs alone beside
// it, the sa key pair's has sa.pub as its trust file and no certificate;
// the record is a dot-file of the certificate folder named after the
// entry, and a CA under etcd/ keeps its files there.
func TestFilesOf(t *testing.T) {
	inv := pki.Kubeadm()
	find := func(name string) pki.Entry {
		e, ok := inv.Find(name)
		if !ok {
			t.Fatalf("no %s in the inventory", name)
		}
		return e
	}
	for _, tc := range []struct {
		entry pki.Entry
		want  Files
	}{
		{find(pki.CAName), Files{Trust: "/p/ca.crt", Key: "/p/ca.key", OldCert: "/p/ca.old.crt", NewCert: "/p/ca.new.crt",
			OldKey: "/p/ca.old.key", NewKey: "/p/ca.new.key", Record: "/p/.certctl-rotation-ca.json"}},
		{find("etcd-ca"), Files{Trust: "/p/etcd/ca.crt", Key: "/p/etcd/ca.key", OldCert: "/p/etcd/ca.old.crt", NewCert: "/p/etcd/ca.new.crt",
			OldKey: "/p/etcd/ca.old.key", NewKey: "/p/etcd/ca.new.key", Record: "/p/.certctl-rotation-etcd-ca.json"}},
		{find(pki.SAName), Files{Trust: "/p/sa.pub", Key: "/p/sa.key", OldKey: "/p/sa.old.key", NewKey: "/p/sa.new.key",
			Record: "/p/.certctl-rotation-sa.json"}},
	} {
		if got := FilesOf("/p", tc.entry); got != tc.want {
			t.Errorf("FilesOf(%s) = %+v, want %+v", tc.entry.Name, got, tc.want)
		}
	}
}

// TestSigningCert: the old CA alone signs at trust, the new alone at
// reissue, the trust file (one CA again) once finished or aborted, and
// SigningFiles spells them in the folder of the flag's current value when
// that is the certificate folder through a symbolic link.
func TestSigningCert(t *testing.T) {
	dir := t.TempDir()
	pkiDir := filepath.Join(dir, "pki")
	link := filepath.Join(dir, "link")
	if err := os.Mkdir(pkiDir, 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(pkiDir, link); err != nil {
		t.Fatal(err)
	}
	ca, _ := pki.Kubeadm().Find(pki.CAName)
	f := FilesOf(pkiDir, ca)
	for _, name := range []string{"ca.crt", "ca.old.crt", "ca.new.crt", "other.crt"} {
		if err := os.WriteFile(filepath.Join(pkiDir, name), []byte("x"), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	for _, tc := range []struct {
		stage, current string
		cert, key      string
	}{
		{StageTrust, "", f.OldCert, f.Key},
		{StageReissue, "", f.NewCert, f.Key},
		{StageFinished, "", f.Trust, f.Key},
		{StageAborted, "", f.Trust, f.Key},
		// The manifest names the folder as the certificate folder: kept.
		{StageTrust, f.Trust, f.OldCert, f.Key},
		// Through a link: its hostPath volumes mount that spelling.
		{StageTrust, filepath.Join(link, "ca.crt"), filepath.Join(link, "ca.old.crt"), filepath.Join(link, "ca.key")},
		{StageReissue, filepath.Join(link, "ca.old.crt"), filepath.Join(link, "ca.new.crt"), filepath.Join(link, "ca.key")},
		// Another certificate altogether: the stage's own files.
		{StageTrust, filepath.Join(link, "other.crt"), f.OldCert, f.Key},
	} {
		cert, key := f.SigningFiles(tc.stage, tc.current)
		if cert != tc.cert || key != tc.key {
			t.Errorf("SigningFiles(%s, %q) = %s, %s; want %s, %s", tc.stage, tc.current, cert, key, tc.cert, tc.key)
		}
	}
	for path, want := range map[string]bool{
		f.Trust: true, f.OldCert: true, f.NewCert: true, filepath.Join(link, "ca.new.crt"): true, pkiDir + "/./ca.crt": true,
		f.Key: false, filepath.Join(pkiDir, "other.crt"): false, filepath.Join(link, "other.crt"): false, filepath.Join(dir, "ca.crt"): false,
	} {
		if got := f.IsCert(path); got != want {
			t.Errorf("IsCert(%s) = %v, want %v", path, got, want)
		}
	}
}

// TestSigningCertFiles: the general flag wins over the per-signer flags,
// as kube-controller-manager reads them; without it, the per-signer flags
// that are set, and those left unset named as flags.
func TestSigningCertFiles(t *testing.T) {
	per := manifests.PerSignerCertFlags
	all := map[string]string{}
	for i, f := range per {
		all[f] = "/p/" + strings.Repeat("x", i+1) + ".crt"
	}
	first := map[string]string{per[0]: "/p/a.crt"}
	var restUnset []string
	for _, f := range per[1:] {
		restUnset = append(restUnset, "--"+f)
	}
	general := map[string]string{"cluster-signing-cert-file": "/p/ca.crt"}
	for f, v := range all {
		general[f] = v
	}
	for _, tc := range []struct {
		name      string
		flags     map[string]string
		files     []string
		perSigner bool
		unset     []string
	}{
		{"none", map[string]string{}, nil, false, nil},
		{"general", map[string]string{"cluster-signing-cert-file": "/p/ca.crt"}, []string{"/p/ca.crt"}, false, nil},
		{"general beside per-signer", general, []string{"/p/ca.crt"}, false, nil},
		{"every per-signer", all, func() (fs []string) {
			for _, f := range per {
				fs = append(fs, all[f])
			}
			return fs
		}(), true, nil},
		{"one per-signer", first, []string{"/p/a.crt"}, true, restUnset},
		{"empty general", map[string]string{"cluster-signing-cert-file": ""}, nil, false, nil},
	} {
		files, perSigner, unset := SigningCertFiles(tc.flags)
		if !slices.Equal(files, tc.files) || perSigner != tc.perSigner || !slices.Equal(unset, tc.unset) {
			t.Errorf("%s: SigningCertFiles = %v, %v, %v; want %v, %v, %v", tc.name, files, perSigner, unset, tc.files, tc.perSigner, tc.unset)
		}
	}
}

// TestRecordTrusted: the trust file's CAs at each stage, the CA that signs
// first; nothing without a record, and only trust and reissue are a
// rotation in progress.
func TestRecordTrusted(t *testing.T) {
	for _, tc := range []struct {
		stage  string
		want   []string
		active bool
	}{
		{StageTrust, []string{"old", "new"}, true},
		{StageReissue, []string{"new", "old"}, true},
		{StageFinished, []string{"new"}, false},
		{StageAborted, []string{"old"}, false},
		{"unknown", nil, false},
	} {
		r := &Record{Stage: tc.stage, OldCA: "old", NewCA: "new"}
		if got := r.Trusted(); !slices.Equal(got, tc.want) || r.Active() != tc.active {
			t.Errorf("stage %s: Trusted() = %v, Active() = %v; want %v, %v", tc.stage, got, r.Active(), tc.want, tc.active)
		}
	}
	var none *Record
	if none.Trusted() != nil || none.Active() {
		t.Error("a nil record trusts something or is active")
	}
}

// TestReadRecord: none is no rotation; a damaged record or one of another
// version is an error that names the file and what to do.
func TestReadRecord(t *testing.T) {
	dir := t.TempDir()
	for _, tc := range []struct {
		name, data string // data "" : no file
		stage      string
		errWants   []string
	}{
		{"missing", "", "", nil},
		{"good", `{"version":1,"ca":"ca","stage":"reissue","oldCA":"a","newCA":"b","history":[],"restarted":false}`, StageReissue, nil},
		{"damaged", `{"version":1,"stage":`, "", []string{"parse rotation record", "docs/ca-rotation.md", "A damaged record"}},
		{"version", `{"version":2,"ca":"ca","stage":"trust"}`, "", []string{"has version 2", "reads 1", "use the certctl that started the rotation"}},
	} {
		path := filepath.Join(dir, tc.name+".json")
		if tc.data != "" {
			if err := os.WriteFile(path, []byte(tc.data), 0o600); err != nil {
				t.Fatal(err)
			}
		}
		rec, err := ReadRecord(path)
		if len(tc.errWants) > 0 {
			if err == nil {
				t.Errorf("%s: no error", tc.name)
				continue
			}
			for _, w := range append([]string{path}, tc.errWants...) {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("%s: error %q does not mention %q", tc.name, err, w)
				}
			}
			continue
		}
		if err != nil {
			t.Errorf("%s: %v", tc.name, err)
		}
		if got := ""; rec != nil {
			got = rec.Stage
			if got != tc.stage {
				t.Errorf("%s: stage %q, want %q", tc.name, got, tc.stage)
			}
		} else if tc.stage != "" {
			t.Errorf("%s: no record, want stage %s", tc.name, tc.stage)
		}
	}
}

// TestCADataProblem: a kubeconfig that trusts what the stage says is
// fine; one that trusts another list is named with both lists, with the
// renew command when it embeds its client certificate, and with kubeadm's
// part when it holds the first CA alone, as `kubeadm certs renew` writes it.
func TestCADataProblem(t *testing.T) {
	old, nw := strings.Repeat("a", 64), strings.Repeat("b", 64)
	trust := &Record{Stage: StageTrust, OldCA: old, NewCA: nw}
	for _, tc := range []struct {
		name     string
		got      []string
		rec      *Record
		embedded bool
		wants    []string
		not      []string
	}{
		{"same", []string{old, nw}, trust, true, nil, nil},
		{"no record", []string{old}, nil, true, nil, nil},
		{"kubeadm's renewal", []string{old}, trust, true, []string{"admin.conf trusts aaaaaaaaaaaa, stage trust says aaaaaaaaaaaa, bbbbbbbbbbbb", "kubeadm certs renew", "`certctl renew admin.conf --cert-dir /p` writes the stage's CA data"}, nil},
		{"another CA", []string{nw}, trust, true, []string{"trusts bbbbbbbbbbbb", "`certctl renew admin.conf --cert-dir /p`"}, []string{"kubeadm certs renew"}},
		{"no embedded certificate", []string{old}, trust, false, []string{"trusts aaaaaaaaaaaa"}, []string{"certctl renew", "kubeadm certs renew"}},
	} {
		msg := CADataProblem("admin.conf", tc.got, tc.rec, "/p/ca.crt", tc.embedded, "certctl renew admin.conf --cert-dir /p")
		if (msg == "") != (len(tc.wants) == 0) {
			t.Errorf("%s: CADataProblem = %q", tc.name, msg)
		}
		for _, w := range tc.wants {
			if !strings.Contains(msg, w) {
				t.Errorf("%s: %q does not mention %q", tc.name, msg, w)
			}
		}
		for _, w := range tc.not {
			if strings.Contains(msg, w) {
				t.Errorf("%s: %q mentions %q", tc.name, msg, w)
			}
		}
	}
}

// TestEnableCommand: the printed `certctl signer enable` names the
// manifest and the certificate folder only when they are not kubeadm's,
// quoted for a shell, with --per-signer for a manifest that sets the
// per-signer flags.
func TestEnableCommand(t *testing.T) {
	for _, tc := range []struct {
		path, certDir string
		perSigner     bool
		want          string
	}{
		{"/etc/kubernetes/manifests/kube-controller-manager.yaml", "/etc/kubernetes/pki", false, "certctl signer enable"},
		{"/etc/kubernetes/manifests/kube-controller-manager.yaml", "/etc/kubernetes/pki", true, "certctl signer enable --per-signer"},
		{"/srv/my manifests/kcm.yaml", "/srv/pki", false, "certctl signer enable --manifest '/srv/my manifests/kcm.yaml' --cert-dir /srv/pki"},
	} {
		if got := EnableCommand(tc.path, tc.certDir, tc.perSigner); got != tc.want {
			t.Errorf("EnableCommand(%q, %q, %v) = %q, want %q", tc.path, tc.certDir, tc.perSigner, got, tc.want)
		}
	}
}

// TestShort: fingerprints print as themselves, a list as "a, b": Go's
// "[a b]" of a slice read as part of the fingerprint ("sha256 [b275b21dc923]").
func TestShort(t *testing.T) {
	for _, tc := range []struct {
		ids  []string
		want string
	}{
		{[]string{"b275b21dc923aaaaaaaa"}, "b275b21dc923"},
		{[]string{"b275b21dc923aaaaaaaa", "0f1e2d3c4b5abbbb"}, "b275b21dc923, 0f1e2d3c4b5a"},
		{[]string{"abc"}, "abc"},
		{nil, ""},
	} {
		if got := Short(tc.ids); got != tc.want {
			t.Errorf("Short(%q) = %q, want %q", tc.ids, got, tc.want)
		}
	}
}
