package buildinfo

import (
	"bytes"
	"encoding/json"
	"runtime"
	"strings"
	"syscall"
	"testing"
)

func TestPrint(t *testing.T) {
	for _, tc := range []struct{ format, want, err string }{
		{format: "", want: "certctl v1.2.3 (" + runtime.Version() + ", " + runtime.GOOS + "/" + runtime.GOARCH + ")\n"},
		{format: "text", want: "certctl v1.2.3 (" + runtime.Version() + ", " + runtime.GOOS + "/" + runtime.GOARCH + ")\n"},
		{format: "short", want: "v1.2.3\n"},
		// the -o every printing command takes (internal/output), as
		// kubectl version's -o yaml
		{format: "yaml", want: "goVersion: " + runtime.Version() + "\nplatform: " + runtime.GOOS + "/" + runtime.GOARCH + "\nversion: v1.2.3\n"},
		{format: "jsonpath={.version}", want: "v1.2.3\n"},
		{format: "xml", err: `unknown output format "xml": use text, wide, json, yaml, jsonpath=TEMPLATE, short`},
	} {
		t.Run(tc.format, func(t *testing.T) {
			var b bytes.Buffer
			err := Print(&b, "v1.2.3", tc.format)
			if tc.err != "" {
				if err == nil || err.Error() != tc.err {
					t.Fatalf("error %v, want %q", err, tc.err)
				}
				return
			}
			if err != nil || b.String() != tc.want {
				t.Errorf("got %q, %v; want %q", b.String(), err, tc.want)
			}
		})
	}
	var b bytes.Buffer
	if err := Print(&b, "v1.2.3", "json"); err != nil {
		t.Fatal(err)
	}
	var got map[string]string
	if err := json.Unmarshal(b.Bytes(), &got); err != nil || got["version"] != "v1.2.3" || !strings.Contains(got["platform"], "/") {
		t.Errorf("json %q (%v)", b.String(), err)
	}
}

func TestVersionKeepsTheStampedOne(t *testing.T) {
	if v := Version("v9.9.9"); v != "v9.9.9" {
		t.Errorf("Version(v9.9.9) = %q", v)
	}
	if v := Version("dev"); v == "" {
		t.Error("Version(dev) is empty")
	}
}

type failingWriter struct{}

func (failingWriter) Write([]byte) (int, error) { return 0, syscall.ENOSPC }

// TestPrintWriteFails: `certctl version >/dev/full` exited 0 with nothing
// written; every format now reports the failed write.
func TestPrintWriteFails(t *testing.T) {
	for _, format := range []string{"", "short", "json"} {
		if err := Print(failingWriter{}, "v1.2.3", format); err == nil || !strings.Contains(err.Error(), "no space left on device") {
			t.Errorf("format %q: error %v, want the failed write", format, err)
		}
	}
}
