package manifests

import (
	"bytes"
	"strings"
	"testing"
)

// TestEnableSignerMounts: how the folder of the CA files reaches
// kube-controller-manager's container decides whether EnableSigner adds a
// volume. A container that sees another folder, a Secret or an emptyDir at
// that path is refused: EnableSigner added a second mount of the same
// path, which makes the pod invalid ("mountPath: must be unique"), so the
// kubelet dropped kube-controller-manager, or a mount under another folder's
// that hid its files from the component.
func TestEnableSignerMounts(t *testing.T) {
	kubeadm := readFixture(t, "kubeadm-external-ca.yaml")
	const (
		volume = "  - hostPath:\n      path: /etc/kubernetes/pki\n      type: DirectoryOrCreate\n    name: k8s-certs\n"
		mount  = "    - mountPath: /etc/kubernetes/pki\n      name: k8s-certs\n      readOnly: true\n"
	)
	if !bytes.Contains(kubeadm, []byte(volume)) || !bytes.Contains(kubeadm, []byte(mount)) {
		t.Fatal("kubeadm-external-ca.yaml has no k8s-certs volume and mount of /etc/kubernetes/pki")
	}
	// replace swaps kubeadm's k8s-certs volume and mount for others.
	replace := func(v, m string) []byte {
		return bytes.Replace(bytes.Replace(kubeadm, []byte(volume), []byte(v), 1), []byte(mount), []byte(m), 1)
	}
	for _, tc := range []struct {
		name     string
		manifest []byte
		// refused: the error names this; else whether a volume is added
		refused string
		added   bool
	}{
		{name: "kubeadm", manifest: kubeadm},
		{name: "parent folder", manifest: replace("  - hostPath:\n      path: /etc/kubernetes\n    name: k8s-certs\n", "    - mountPath: /etc/kubernetes\n      name: k8s-certs\n")},
		{name: "writable", manifest: replace("  - hostPath:\n      path: /etc/kubernetes/pki\n    name: k8s-certs\n", "    - mountPath: /etc/kubernetes/pki\n      name: k8s-certs\n      readOnly: false\n")},
		{name: "subPath to itself", manifest: replace("  - hostPath:\n      path: /etc/kubernetes\n    name: k8s-certs\n", "    - mountPath: /etc/kubernetes/pki\n      name: k8s-certs\n      subPath: pki\n")},
		{name: "no mount", manifest: replace("", ""), added: true},
		{name: "another folder", manifest: replace("  - hostPath:\n      path: /tmp/other\n    name: other\n", "    - mountPath: /etc/kubernetes/pki/other\n      name: other\n"), added: true},
		{name: "other host folder", manifest: replace("  - hostPath:\n      path: /srv/pki\n    name: k8s-certs\n", "    - mountPath: /etc/kubernetes/pki\n      name: k8s-certs\n"), refused: "from the host's /srv/pki"},
		{name: "other host parent", manifest: replace("  - hostPath:\n      path: /srv/kubernetes\n    name: k8s-certs\n", "    - mountPath: /etc/kubernetes\n      name: k8s-certs\n"), refused: "mounts /etc/kubernetes (volume \"k8s-certs\") from the host's /srv/kubernetes"},
		{name: "secret", manifest: replace("  - name: k8s-certs\n    secret:\n      secretName: pki\n", "    - mountPath: /etc/kubernetes/pki\n      name: k8s-certs\n"), refused: "a volume that is not a hostPath"},
		{name: "other subPath", manifest: replace("  - hostPath:\n      path: /etc/kubernetes\n    name: k8s-certs\n", "    - mountPath: /etc/kubernetes/pki\n      name: k8s-certs\n      subPath: pki-old\n"), refused: "/etc/kubernetes/pki-old"},
		{name: "key file hidden", manifest: replace("  - hostPath:\n      path: /etc/kubernetes/pki\n    name: k8s-certs\n  - hostPath:\n      path: /srv/ca.key\n    name: key\n", "    - mountPath: /etc/kubernetes/pki\n      name: k8s-certs\n    - mountPath: /etc/kubernetes/pki/ca.key\n      name: key\n"), refused: "from the host's /srv/ca.key"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := Parse(tc.manifest); err != nil {
				t.Fatal(err)
			}
			out, changes, err := EnableSigner(tc.manifest, SignerOptions{CertFile: "/etc/kubernetes/pki/ca.crt", KeyFile: "/etc/kubernetes/pki/ca.key"})
			if tc.refused != "" {
				if err == nil || !strings.Contains(err.Error(), tc.refused) || !strings.Contains(err.Error(), "--cert-dir") {
					t.Errorf("err = %v, want a refusal naming %q and --cert-dir; changes %q", err, tc.refused, changes)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if added := bytes.Contains(out, []byte(VolumePrefix)); added != tc.added {
				t.Errorf("volume added: %v, want %v:\n%s", added, tc.added, out)
			}
			pod, err := Parse(out)
			if err != nil {
				t.Fatal(err)
			}
			seen := map[string]bool{}
			for _, m := range pod.Spec.Containers[0].VolumeMounts {
				if seen[m.MountPath] {
					t.Errorf("mountPath %s twice: the kubelet refuses the pod", m.MountPath)
				}
				seen[m.MountPath] = true
			}
		})
	}
}

// TestEnableSignerVolumeNameClash: a volume of the pod's owner that only
// shares certctl's name (another folder, or mounted at another path) is
// theirs. Enable removed it with its mount as one of its own no longer
// needed, and so did disable; one that hid the CA folder was ignored, and
// enable mounted the folder a second time.
func TestEnableSignerVolumeNameClash(t *testing.T) {
	kubeadm := readFixture(t, "kubeadm-external-ca.yaml")
	const (
		volumes = "  volumes:\n"
		mounts  = "    volumeMounts:\n"
	)
	with := func(v, m string) []byte {
		out := bytes.Replace(kubeadm, []byte(volumes), []byte(volumes+v), 1)
		return bytes.Replace(out, []byte(mounts), []byte(mounts+m), 1)
	}
	theirs := with("  - hostPath:\n      path: /srv/plugins\n    name: "+VolumePrefix+"\n", "    - mountPath: /plugins\n      name: "+VolumePrefix+"\n")
	if bytes.Equal(theirs, kubeadm) {
		t.Fatal("kubeadm-external-ca.yaml has no volumes or volumeMounts")
	}
	on, changes, err := EnableSigner(theirs, general)
	if err != nil {
		t.Fatal(err)
	}
	if len(changes) != 2 || !bytes.Contains(on, []byte("/srv/plugins")) || !bytes.Contains(on, []byte("mountPath: /plugins")) {
		t.Errorf("enable changed the pod owner's volume %s: %q\n%s", VolumePrefix, changes, on)
	}
	off, _, err := DisableSigner(on)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(off, theirs) {
		d, _ := UnifiedDiff("before", "after enable, disable", theirs, off)
		t.Errorf("enable then disable is not the manifest:\n%s", d)
	}
	// Under certctl's name, another host folder at the CA folder's path.
	hides := bytes.Replace(kubeadm, []byte("      path: /etc/kubernetes/pki\n      type: DirectoryOrCreate\n    name: k8s-certs\n"), []byte("      path: /srv/pki\n    name: "+VolumePrefix+"\n"), 1)
	hides = bytes.Replace(hides, []byte("      name: k8s-certs\n"), []byte("      name: "+VolumePrefix+"\n"), 1)
	if _, err := Parse(hides); err != nil {
		t.Fatal(err)
	}
	if _, _, err := EnableSigner(hides, general); err == nil || !strings.Contains(err.Error(), "from the host's /srv/pki") {
		t.Errorf("err = %v, want a refusal of the volume of /srv/pki at /etc/kubernetes/pki", err)
	}
}
