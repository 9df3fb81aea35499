package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/certctl/certctl/internal/testcluster"
)

// TestUpRefusesNamingItsDown: `up -dir DIR` over a cluster of DIR that
// still runs is refused, and says how to stop that cluster: `make
// cluster-down` stops only the default folder's, so with -dir it named a
// command that left DIR's cluster running (and so did the hint printed
// after up). Nothing is started or stopped: the recorded process is this
// test's own.
func TestUpRefusesNamingItsDown(t *testing.T) {
	dir := t.TempDir()
	st := testcluster.State{Dir: dir, Processes: []testcluster.ProcessState{{Name: "etcd", PID: os.Getpid()}}}
	if err := testcluster.WriteState(filepath.Join(dir, "state.json"), st); err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	err := run([]string{"up", "-dir", dir}, &out)
	if err == nil {
		t.Fatalf("up over a running cluster was not refused:\n%s", out.String())
	}
	if want := "run `go run ./test/cmd/testcluster down -dir " + dir + "` first"; !strings.Contains(err.Error(), want) {
		t.Errorf("up -dir over a running cluster: %v\nwant it to say %q", err, want)
	}
	if _, err := os.Stat(filepath.Join(dir, "state.json")); err != nil {
		t.Errorf("the refused up touched the cluster folder: %v", err)
	}
}
