package e2e

import (
	"strings"
	"sync"
	"testing"
	"time"
)

// installs records, through inotify, the instant of each rename of a
// certificate, key or kubeconfig (NAME.crt, NAME.key, NAME.conf) into
// one of dirs, as certctl's transaction installs them, until the test
// ends.
type installs struct {
	mu   sync.Mutex
	last time.Time
	n    int
}

func watchInstalls(t *testing.T, dirs ...string) *installs {
	t.Helper()
	in := &installs{}
	watchMoves(t, func(name string, at time.Time) bool {
		if !strings.HasPrefix(name, ".") && (strings.HasSuffix(name, ".crt") || strings.HasSuffix(name, ".key") || strings.HasSuffix(name, ".conf")) {
			in.mu.Lock()
			in.last, in.n = at, in.n+1
			in.mu.Unlock()
		}
		return false
	}, dirs...)
	return in
}

// settle waits until no file has been installed for a second and
// returns how many were and the instant of the last.
func (in *installs) settle() (int, time.Time) {
	for {
		in.mu.Lock()
		n, last := in.n, in.last
		in.mu.Unlock()
		time.Sleep(time.Second)
		in.mu.Lock()
		same := in.n == n
		in.mu.Unlock()
		if same {
			return n, last
		}
	}
}
