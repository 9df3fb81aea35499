package compat

import (
	"os"
	"testing"

	"github.com/certctl/certctl/internal/treetest"
)

// TestMain fails the run if a test wrote into the machine's
// /etc/kubernetes or /etc/systemd/system (treetest.RunGuarded).
func TestMain(m *testing.M) { os.Exit(treetest.RunGuarded(m)) }
