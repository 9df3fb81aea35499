package promrules

import (
	"os"
	"path/filepath"
	"testing"
)

// TestMain removes the certctl that certctlBin built, if it built one.
func TestMain(m *testing.M) {
	code := m.Run()
	if built.bin != "" {
		os.RemoveAll(filepath.Dir(built.bin))
	}
	os.Exit(code)
}
