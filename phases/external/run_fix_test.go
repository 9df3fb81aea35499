package external

import (
	"bytes"
	"context"
	"strings"
	"testing"

	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"

	"github.com/certctl/certctl/internal/output"
	"github.com/certctl/certctl/internal/pkitest"
)

// TestRunImportRefusedFixIsEachReason: a certificate refused for where it
// goes (admin.conf's current context switched to a token user), not for
// what it holds, is not to be signed again: the error's last words send
// the operator to each reason, not to the CA.
func TestRunImportRefusedFixIsEachReason(t *testing.T) {
	n := newExtNode(t)
	n.writeCSRs(t, "admin.conf")
	n.signAll(t)
	pkitest.SwitchContext(t, n.Path("admin.conf"), &clientcmdapi.AuthInfo{Token: "t"})
	text, err := output.Parse("text")
	if err != nil {
		t.Fatal(err)
	}
	var out, errOut bytes.Buffer
	err = RunImport(context.Background(), n.importOptions(), text, 0, &out, &errOut)
	if err == nil || strings.Contains(err.Error(), "have them signed again") || !strings.Contains(err.Error(), "fix each as its reason says") {
		t.Errorf("import into admin.conf whose context was switched: %v, want the fix of each reason, not only signing again", err)
	}
	if !strings.Contains(out.String()+errOut.String(), "config use-context") {
		t.Errorf("the refusal does not give the use-context that switches back:\n%s%s", out.String(), errOut.String())
	}
}
