package cmd

import (
	"strings"
	"testing"
)

// TestAPIRateFlagsRange: a rate that client-go would ignore (qps <= 0
// turns rate limiting off) or refuse with its own text (burst 0) is
// refused at flag parsing, on one line naming the flag and the range.
func TestAPIRateFlagsRange(t *testing.T) {
	for _, tc := range []struct {
		flag, value, want string
	}{
		{"--kube-api-qps", "-5", "greater than 0"},
		{"--kube-api-qps", "0", "greater than 0"},
		{"--kube-api-qps", "NaN", "greater than 0"},
		{"--kube-api-qps", "+Inf", "greater than 0"},
		{"--kube-api-burst", "0", "1 or more"},
		{"--kube-api-burst", "-3", "1 or more"},
	} {
		t.Run(tc.flag+"="+tc.value, func(t *testing.T) {
			_, _, err := runCertctl(t, "signer", "run", "--cert-dir", t.TempDir(), tc.flag, tc.value)
			if err == nil {
				t.Fatalf("%s %s accepted", tc.flag, tc.value)
			}
			msg := err.Error()
			if !strings.Contains(msg, tc.flag) || !strings.Contains(msg, tc.want) || strings.Contains(msg, "\n") {
				t.Errorf("%s %s: error %q should be one line naming the flag and %q", tc.flag, tc.value, msg, tc.want)
			}
		})
	}
	// In range: parsing passes (the command then fails later, not on these flags).
	_, _, err := runCertctl(t, "signer", "run", "--cert-dir", t.TempDir(), "--kubeconfig", "/nonexistent/kubeconfig", "--kube-api-qps", "0.5", "--kube-api-burst", "1")
	if err != nil && (strings.Contains(err.Error(), "--kube-api-qps") || strings.Contains(err.Error(), "--kube-api-burst")) {
		t.Errorf("in-range rates refused: %v", err)
	}
}
