package cli

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// TestExternalCAIntermediateChain: an organisation's root CA (the ca.crt,
// front-proxy-ca.crt and etcd/ca.crt of the node) and, under it, the
// issuing CAs that sign, all made and operated with the openssl command
// line. A first installation's requests are signed by the issuing CA and
// handed back leaf then issuing CA; apiserver's comes back root first, as
// `openssl pkcs7 -print_certs` lists a Windows CA's bundle; the
// apiserver-kubelet-client one is signed by an issuing CA whose
// certificate allows server auth only, which every TLS stack refuses for a
// client certificate. The import installs the others, leaf first, each
// verified by openssl as the components verify it, and refuses that one,
// naming the CA, with exit 2.
func TestExternalCAIntermediateChain(t *testing.T) {
	bin := certctlBin(t)
	dir := t.TempDir()
	certDir, csrDir, ca := filepath.Join(dir, "pki"), filepath.Join(dir, "csr"), filepath.Join(dir, "ca")
	sh := func(script string) {
		t.Helper()
		cmd := exec.Command("bash", "-euo", "pipefail", "-c", script)
		cmd.Dir = ca
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("%s: %v\n%s", script, err, out)
		}
	}
	if err := os.MkdirAll(ca, 0o755); err != nil {
		t.Fatal(err)
	}
	sh(`openssl genrsa -out root.key 2048 2>/dev/null
openssl req -x509 -new -key root.key -subj "/CN=Corp Root" -days 3650 -out root.crt -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign"
for c in issuing:"Corp Kube Issuing CA": server:"Corp TLS Server CA":"extendedKeyUsage=serverAuth"; do
  IFS=: read -r name cn eku <<<"$c"
  openssl genrsa -out $name.key 2048 2>/dev/null
  openssl req -new -key $name.key -subj "/CN=$cn" -out $name.csr
  printf "basicConstraints=critical,CA:TRUE\nkeyUsage=critical,keyCertSign,cRLSign\n$eku\n" > $name.ext
  openssl x509 -req -in $name.csr -CA root.crt -CAkey root.key -set_serial 0x$(openssl rand -hex 8) -days 3000 -extfile $name.ext -out $name.crt 2>/dev/null
done
mkdir -p ` + certDir + `/etcd
for f in ca.crt front-proxy-ca.crt etcd/ca.crt; do cp root.crt ` + certDir + `/$f; done`)
	run(t, bin, "init-phase", "certs", "all", "--use-csr", "--csr-dir", csrDir, "--cert-dir", certDir,
		"--node-name", "cp-1", "--apiserver-advertise-address", "198.51.100.10")
	sh(`find ` + csrDir + ` -name '*.request.json' | while read -r req; do
  d=$(dirname "$req"); issuer=issuing
  [[ $(jq -r .name "$req") == apiserver-kubelet-client ]] && issuer=server
  {
    echo "basicConstraints = critical, CA:FALSE"
    echo "keyUsage = critical, $(jq -r '.keyUsage | join(", ")' "$req")"
    echo "extendedKeyUsage = $(jq -r '.extKeyUsage | join(", ")' "$req")"
    san=$(jq -r '[(.dnsNames[] | "DNS:" + .), (.ipAddresses[] | "IP:" + .)] | join(", ")' "$req")
    if [[ -n $san ]]; then echo "subjectAltName = $san"; fi
  } > ext.cnf
  crt=$d/$(jq -r .certificate "$req")
  openssl x509 -req -in "$d/$(jq -r .csr "$req")" -CA $issuer.crt -CAkey $issuer.key -set_serial 0x$(openssl rand -hex 8) -days 365 -extfile ext.cnf -out leaf.pem 2>/dev/null
  if [[ $(jq -r .name "$req") == apiserver ]]; then
    openssl crl2pkcs7 -nocrl -certfile root.crt -certfile $issuer.crt -certfile leaf.pem | openssl pkcs7 -print_certs -out "$crt"
  else
    cat leaf.pem $issuer.crt > "$crt"
  fi
done`)

	r := runCode(t, bin, "certs", "import", "--csr-dir", csrDir, "--cert-dir", certDir, "--kubeconfig-dir", dir)
	if r.code != 2 {
		t.Fatalf("import: exit %d, want 2\n%s%s", r.code, r.out, r.errOut)
	}
	for _, want := range []string{"REFUSED apiserver-kubelet-client", `the CA "Corp TLS Server CA" allows only the extended key usages server auth`, "apiserver installed", "holds the certificate of its key, but not first"} {
		if !strings.Contains(r.out, want) {
			t.Errorf("import does not say %q:\n%s", want, r.out)
		}
	}
	if _, err := os.Stat(filepath.Join(certDir, "apiserver-kubelet-client.crt")); err == nil {
		t.Error("apiserver-kubelet-client.crt was installed")
	}
	for _, c := range []struct{ base, purpose string }{{"apiserver", "sslserver"}, {"front-proxy-client", "sslclient"}, {"etcd/peer", "sslclient"}, {"etcd/server", "sslserver"}, {"apiserver-etcd-client", "sslclient"}} {
		crt, key := filepath.Join(certDir, c.base+".crt"), filepath.Join(certDir, c.base+".key")
		// As a TLS peer sends it: the file's first certificate, with the rest as intermediates.
		if out, err := exec.Command("openssl", "verify", "-purpose", c.purpose, "-CAfile", filepath.Join(ca, "root.crt"), "-untrusted", crt, crt).CombinedOutput(); err != nil {
			t.Errorf("openssl verify %s: %v\n%s", crt, err, out)
		}
		certPub, err1 := exec.Command("openssl", "x509", "-in", crt, "-noout", "-pubkey").Output()
		keyPub, err2 := exec.Command("openssl", "pkey", "-in", key, "-pubout").Output()
		if err1 != nil || err2 != nil || string(certPub) != string(keyPub) {
			t.Errorf("%s does not start with the certificate of %s (%v, %v)", crt, key, err1, err2)
		}
	}
}
