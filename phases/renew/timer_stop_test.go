package renew

import (
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/certctl/certctl/internal/exitcode"
)

// TestUnitStopIsNoFailure: the service counts a stop systemd asks for
// (`systemctl stop certctl-renew.service`, a shutdown: SIGTERM, which
// certctl exits 143 for, or a death by SIGTERM before certctl handles it)
// as a success, as it does nothing to do (2) and partly done (5); a
// Ctrl-C (130) and an error (1) still fail it. Before, the unit listed
// only 2 and 5, so a stop left it failed and fired OnFailure= alerts.
func TestUnitStopIsNoFailure(t *testing.T) {
	service, _, err := Timer{CertctlPath: DefaultCertctlPath, NodeName: "cp-1", Stagger: DefaultStagger}.Units()
	if err != nil {
		t.Fatal(err)
	}
	var success []string
	for _, l := range strings.Split(service, "\n") {
		if v, ok := strings.CutPrefix(l, "SuccessExitStatus="); ok {
			success = append(success, strings.Fields(v)...)
		}
	}
	for _, want := range []string{strconv.Itoa(exitcode.NothingToDo), strconv.Itoa(exitcode.ExternalCA), strconv.Itoa(exitcode.Terminated), "SIGTERM"} {
		if !slices.Contains(success, want) {
			t.Errorf("SuccessExitStatus %q lacks %s:\n%s", success, want, service)
		}
	}
	for _, failure := range []string{strconv.Itoa(exitcode.Failure), strconv.Itoa(exitcode.Interrupted), "SIGINT"} {
		if slices.Contains(success, failure) {
			t.Errorf("SuccessExitStatus %q counts %s as a success", success, failure)
		}
	}
}
