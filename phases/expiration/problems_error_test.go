package expiration

import (
	"bytes"
	"os"
	"strings"
	"testing"

	"github.com/certctl/certctl/internal/exitcode"
	"github.com/certctl/certctl/internal/pkitest"
)

// TestProblemsErrorSaysWhere: the last line of a check that found several
// problems says where the others are. The text tables list them above it;
// -o json and -o yaml have them in the report's problems fields, and
// -o jsonpath and -o prometheus print no list of them: "listed above" is
// true only of the text formats.
func TestProblemsErrorSaysWhere(t *testing.T) {
	n := pkitest.NewNode(t, nil)
	os.Remove(n.Path("pki/front-proxy-client.key"))
	os.Remove(n.Path("pki/apiserver.key"))
	for format, want := range map[string]string{
		"text":                             "listed above",
		"wide":                             "listed above",
		"json":                             "in the problems fields of the output",
		"yaml":                             "in the problems fields of the output",
		"prometheus":                       "certctl check-expiration (without -o) lists them",
		"jsonpath={.certificates[*].name}": "certctl check-expiration (without -o) lists them",
	} {
		var out, errOut bytes.Buffer
		err := Report(t.Context(), Options{CertDir: n.CertDir(), KubeconfigDir: n.Dir, Now: checkAt}, format, &out, &errOut)
		if exitcode.Of(err) != exitcode.Problems {
			t.Fatalf("-o %s: exit %d: %v", format, exitcode.Of(err), err)
		}
		if !strings.Contains(err.Error(), "and 1 more problem(s)") || !strings.Contains(err.Error(), want) {
			t.Errorf("-o %s: the error does not say %q: %v", format, want, err)
		}
		if want != "listed above" && strings.Contains(err.Error(), "listed above") {
			t.Errorf("-o %s: the error says listed above: %v", format, err)
		}
	}
}
