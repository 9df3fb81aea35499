package config

import (
	"path/filepath"
	"testing"

	"github.com/certctl/certctl/internal/treetest"
)

// TestLoadFileMissing: a --config that names no file (a typo, the file on
// another node) names the file and says what --config wants.
func TestLoadFileMissing(t *testing.T) {
	path := filepath.Join(t.TempDir(), "kubeadm.yaml")
	_, err := LoadFile(path, Default())
	treetest.ErrMentions(t, err, "read config file "+path, "no such file", "give --config the path of kubeadm's configuration file")
}
