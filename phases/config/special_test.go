package config

import (
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/certctl/certctl/internal/treetest"
)

// TestLoadFileFIFO: --config naming a FIFO that nothing writes to is
// refused at once as an empty configuration naming the file, rather than
// blocking certctl; a FIFO or pipe with a writer (`--config <(...)`, which
// the shell passes as /dev/fd/N) is read as a file is.
func TestLoadFileFIFO(t *testing.T) {
	doc := clusterDoc("v1beta4", "clusterName: piped")

	fifo := filepath.Join(t.TempDir(), "kubeadm.yaml")
	treetest.FIFO(t, fifo)
	err := treetest.Unblocked(t, "LoadFile of a FIFO with no writer", func() error {
		_, err := LoadFile(fifo, Default())
		return err
	})
	treetest.ErrMentions(t, err, "config file "+fifo, "no InitConfiguration or ClusterConfiguration")

	// A pipe with a writer, as bash's process substitution gives it.
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	go func() { w.WriteString(doc); w.Close() }()
	path := fmt.Sprintf("/proc/self/fd/%d", r.Fd())
	var f *File
	err = treetest.Unblocked(t, "LoadFile of a pipe", func() (err error) {
		f, err = LoadFile(path, Default())
		return err
	})
	if err != nil || f.Cluster.ClusterName != "piped" {
		t.Fatalf("LoadFile(%s) = %+v, %v; want clusterName piped", path, f, err)
	}
}

// TestLoadFileFolder: --config naming a folder says so and what to pass.
func TestLoadFileFolder(t *testing.T) {
	dir := t.TempDir()
	_, err := LoadFile(dir, Default())
	treetest.ErrMentions(t, err, dir, "a folder", "pass --config a kubeadm configuration file")
}
