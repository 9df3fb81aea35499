package debuglog

import (
	"testing"

	"k8s.io/klog/v2"
)

func TestLevel(t *testing.T) {
	for _, tc := range []struct {
		in, err string
		on      bool // klog.V(Files) enabled after
	}{
		{in: "4", on: true},
		{in: "0"},
		{in: "-1", err: `"-1" is not a verbosity level: use a number from 0 (the default) to 10`},
		{in: "lots", err: `"lots" is not a verbosity level: use a number from 0 (the default) to 10`},
	} {
		t.Run(tc.in, func(t *testing.T) {
			l := NewLevel()
			t.Cleanup(func() { _ = l.Set("0") })
			err := l.Set(tc.in)
			if tc.err != "" {
				if err == nil || err.Error() != tc.err {
					t.Fatalf("Set(%q) = %v, want %q", tc.in, err, tc.err)
				}
				return
			}
			if err != nil || l.String() != tc.in || bool(klog.V(Files).Enabled()) != tc.on {
				t.Errorf("Set(%q): %v, String %q, V(%d) enabled %v", tc.in, err, l.String(), Files, klog.V(Files).Enabled())
			}
		})
	}
}
