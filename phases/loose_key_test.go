package phases

import (
	"os"
	"strings"
	"testing"
)

// TestLooseKeyWarned: init-phase certs reusing an existing private key
// that group or others may read (mode 0644) says so, as renew does and
// check-expiration's key-permissions problem, with the chmod to run; it
// kept such a key silently. A key at 0600 gets no warning.
func TestLooseKeyWarned(t *testing.T) {
	for _, tc := range []struct{ name, phase, key string }{
		{"CA key", "ca", "ca.key"},
		{"leaf key with its certificate", "apiserver", "apiserver.key"},
		{"leaf key left without its certificate", "front-proxy-client", "front-proxy-client.key"},
		{"service-account key", "sa", "sa.key"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := newTestEnv(t)
			e.mustRun(t, "certs", "all")
			if tc.name == "leaf key left without its certificate" {
				removeAll(t, e.pki("front-proxy-client.crt"))
			}
			key := e.pki(tc.key)
			if err := os.Chmod(key, 0o644); err != nil {
				t.Fatal(err)
			}
			e.out.Reset()
			e.mustRun(t, "certs", tc.phase)
			want := "[warning] " + key + " holds a private key but is mode 0644"
			if !strings.Contains(e.out.String(), want) || !strings.Contains(e.out.String(), "chmod 600 "+key) {
				t.Errorf("no warning %q with the chmod to run:\n%s", want, e.out)
			}
			if err := os.Chmod(key, 0o600); err != nil {
				t.Fatal(err)
			}
			e.out.Reset()
			e.mustRun(t, "certs", tc.phase)
			if strings.Contains(e.out.String(), "holds a private key") {
				t.Errorf("a warning for a key at 0600:\n%s", e.out)
			}
		})
	}
}
