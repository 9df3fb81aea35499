package output

import (
	"bytes"
	"testing"
)

// TestJSONPathNumbers: -o jsonpath= reads numbers as kubectl does (an
// integer stays an integer): check-expiration's residualTime of a year
// printed as 3.1535831e+07, and a filter such as
// ?(@.residualTime<2592000) failed with "incompatible types for
// comparison", because the JSON form was decoded into float64s.
func TestJSONPathNumbers(t *testing.T) {
	type cert struct {
		Name     string  `json:"name"`
		Residual int64   `json:"residualTime"`
		Ratio    float64 `json:"ratio"`
	}
	obj := struct {
		Warn  int64  `json:"warnWithinSeconds"`
		Certs []cert `json:"certificates"`
	}{2592000, []cert{{"apiserver", 31535831, 0.5}, {"etcd-peer", -3600, 1.5}, {"ca", 9223372036854775807, 2.5e-7}}}
	for template, want := range map[string]string{
		"{.warnWithinSeconds}":                             "2592000\n",
		"{.certificates[*].residualTime}":                  "31535831 -3600 9223372036854775807\n",
		"{.certificates[?(@.residualTime<2592000)].name}":  "etcd-peer\n",
		"{.certificates[?(@.residualTime>=2592000)].name}": "apiserver ca\n",
		"{.certificates[*].ratio}":                         "0.5 1.5 2.5e-07\n",
		"{.certificates[?(@.ratio<0.75)].name}":            "apiserver ca\n",
		"{range .certificates[*]}{.residualTime},{end}":    "31535831,-3600,9223372036854775807,\n",
	} {
		f, err := Parse("jsonpath=" + template)
		if err != nil {
			t.Fatal(err)
		}
		var b bytes.Buffer
		if err := f.Print(&b, obj, nil); err != nil {
			t.Errorf("%s: %v", template, err)
			continue
		}
		if b.String() != want {
			t.Errorf("%s printed %q, want %q", template, b.String(), want)
		}
	}
}
