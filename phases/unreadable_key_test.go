package phases

import (
	"strings"
	"testing"

	"github.com/certctl/certctl/internal/treetest"
)

// TestUnreadableKeySaysWhatToDo: a private key, CA key, sa key or sa.pub
// that cannot be parsed (a truncated or emptied file) stops the command
// with one line naming the file and what to do, as a corrupt certificate
// does, and writes nothing. A CA key is never to be made again (every
// certificate it signed would have to be), so its fix is a backup.
func TestUnreadableKeySaysWhatToDo(t *testing.T) {
	const junk = "-----BEGIN PRIVATE KEY-----\nnot base64\n-----END PRIVATE KEY-----\n"
	tests := []struct {
		name    string
		prepare func(t *testing.T, e *testEnv)
		phase   string
		want    []string
	}{
		{
			name: "CA key, with its certificate",
			prepare: func(t *testing.T, e *testEnv) {
				e.mustRun(t, "certs", "all")
				writeFile(t, e.pki("front-proxy-ca.key"), junk)
			},
			phase: "all",
			want:  []string{"front-proxy-ca.key", "restore it from a backup"},
		},
		{
			name: "CA key without its certificate",
			prepare: func(t *testing.T, e *testEnv) {
				e.mustRun(t, "certs", "all")
				removeAll(t, e.pki("etcd/ca.crt"))
				writeFile(t, e.pki("etcd/ca.key"), "")
			},
			phase: "etcd-ca",
			want:  []string{"etcd/ca.key", "restore it from a backup"},
		},
		{
			name: "leaf key without its certificate",
			prepare: func(t *testing.T, e *testEnv) {
				e.mustRun(t, "certs", "all")
				removeAll(t, e.pki("apiserver.crt"))
				writeFile(t, e.pki("apiserver.key"), "")
			},
			phase: "all",
			want:  []string{"apiserver.key", "remove it to make a new pair"},
		},
		{
			name: "CA key a leaf phase signs with",
			prepare: func(t *testing.T, e *testEnv) {
				e.mustRun(t, "certs", "all")
				removeAll(t, e.pki("front-proxy-client.crt"), e.pki("front-proxy-client.key"))
				writeFile(t, e.pki("front-proxy-ca.key"), junk)
			},
			phase: "front-proxy-client",
			want:  []string{"front-proxy-ca.key", "restore it from a backup"},
		},
		{
			name: "CA key a kubeconfig phase signs with",
			prepare: func(t *testing.T, e *testEnv) {
				e.mustRun(t, "certs", "all")
				writeFile(t, e.pki("ca.key"), junk)
			},
			phase: "kubeconfig/admin",
			want:  []string{"ca.key", "restore it from a backup"},
		},
		{
			name: "sa.key",
			prepare: func(t *testing.T, e *testEnv) {
				e.mustRun(t, "certs", "all")
				writeFile(t, e.pki("sa.key"), junk)
			},
			phase: "sa",
			want:  []string{"sa.key", "restore it from a backup"},
		},
		{
			name: "sa.pub",
			prepare: func(t *testing.T, e *testEnv) {
				e.mustRun(t, "certs", "all")
				writeFile(t, e.pki("sa.pub"), "garbage")
			},
			phase: "sa",
			want:  []string{"sa.pub", "remove it", "sa.key"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newTestEnv(t)
			tt.prepare(t, e)
			before := snapshot(t, e.dir)
			var err error
			if g, n, ok := strings.Cut(tt.phase, "/"); ok {
				err = e.run(t, g, n)
			} else {
				err = e.run(t, "certs", tt.phase)
			}
			treetest.ErrMentions(t, err, tt.want...)
			if err != nil && strings.Contains(err.Error(), "\n") {
				t.Errorf("error is not one line: %q", err)
			}
			assertSameTree(t, before, snapshot(t, e.dir))
		})
	}
}
