package kubeclient

import (
	"path/filepath"
	"testing"

	"github.com/certctl/certctl/internal/treetest"
)

// TestKubeconfigFIFO: a FIFO given as --kubeconfig, in place of
// KUBECONFIG-DIR/admin.conf or named by $KUBECONFIG is refused at once,
// naming it, rather than blocking the command that connects.
func TestKubeconfigFIFO(t *testing.T) {
	dir := t.TempDir()
	fifo := filepath.Join(dir, "admin.conf")
	treetest.FIFO(t, fifo)
	t.Setenv("KUBERNETES_SERVICE_HOST", "")
	t.Setenv("HOME", t.TempDir())
	for name, o := range map[string]struct {
		opts Options
		env  string
	}{
		"--kubeconfig":  {Options{Kubeconfig: fifo}, ""},
		"admin.conf":    {Options{KubeconfigDir: dir}, ""},
		"$KUBECONFIG":   {Options{}, fifo},
		"ConfigMaps of": {Options{Kubeconfig: fifo}, ""},
	} {
		t.Run(name, func(t *testing.T) {
			t.Setenv("KUBECONFIG", o.env)
			err := treetest.Unblocked(t, "New", func() error {
				if name == "ConfigMaps of" {
					_, err := ConfigMaps(o.opts, "kube-system")
					return err
				}
				_, err := New(o.opts)
				return err
			})
			treetest.ErrMentions(t, err, fifo+" is not a regular file but a FIFO", "pass --kubeconfig")
		})
	}
}
