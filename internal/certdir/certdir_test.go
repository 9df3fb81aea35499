package certdir

import (
	"os"
	"path/filepath"
	"testing"
)

func TestBeside(t *testing.T) {
	wd, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct{ certDir, want string }{
		{"/etc/kubernetes/pki", "/etc/kubernetes/x"},
		{"/etc/kubernetes/pki/", "/etc/kubernetes/x"},
		{"/etc/kubernetes/./pki", "/etc/kubernetes/x"},
		{"pki", filepath.Join(wd, "x")},
	} {
		got, err := Beside(tt.certDir, "x")
		if err != nil || got != tt.want {
			t.Errorf("Beside(%q) = %q, %v; want %q", tt.certDir, got, err, tt.want)
		}
	}
}
