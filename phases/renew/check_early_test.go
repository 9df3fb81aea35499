package renew

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/certctl/certctl/phases/config"
)

// TestMainRefusesBeforeSettings: a flag that would do nothing is refused by
// Check, in one line, before the node's settings are read (which can wait
// for an API server: the kubeadm-config ConfigMap). --drop-sans without
// --update-sans was refused only after the settings, once the certificates
// were selected.
func TestMainRefusesBeforeSettings(t *testing.T) {
	for _, tc := range []struct {
		name string
		opts Options
		want string
	}{
		{"drop-sans alone", Options{DropSANs: true}, "--drop-sans does nothing without --update-sans: add it, or drop --drop-sans"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tc.opts.Args = []string{"all"}
			tc.opts.Restart.Timeout = time.Minute
			r := Request{Options: tc.opts, Output: "text", Settings: func() (*config.Cluster, config.Source, error) {
				t.Error("the settings were read before the flags were checked")
				return nil, 0, errors.New("settings read")
			}}
			err := r.Main(context.Background())
			if err == nil || err.Error() != tc.want {
				t.Errorf("error %v, want %q", err, tc.want)
			}
			if err != nil && strings.Contains(err.Error(), "\n") {
				t.Errorf("error of several lines: %q", err)
			}
		})
	}
}
