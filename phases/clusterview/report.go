package clusterview

import (
	"context"
	"fmt"
	"io"
	"strings"

	"github.com/certctl/certctl/internal/exitcode"
	"github.com/certctl/certctl/phases/expiration"
)

// Report is `certctl check-expiration --cluster`: it checks the cluster as
// o says, writes the report in format to out, and returns the problems,
// then the expiries, as the node view's exit statuses (exitcode.Problems,
// exitcode.ExpiringSoon).
func Report(ctx context.Context, o Options, format string, out io.Writer) error {
	info, err := Check(ctx, o)
	if err != nil {
		return err
	}
	if err := Write(out, info, format); err != nil {
		return err
	}
	if err := expiration.ProblemsError(info.Problems(), format); err != nil {
		return err
	}
	if soon := info.ExpiringSoon(); len(soon) > 0 {
		when := "have expired"
		if o.WarnWithin > 0 {
			when = fmt.Sprintf("expire within %v or have expired", o.WarnWithin)
		}
		return &exitcode.Error{Code: exitcode.ExpiringSoon, Err: fmt.Errorf("%d served certificate(s) %s: %s; renew them on their nodes with `certctl renew` and restart the components (docs/ha.md)", len(soon), when, strings.Join(soon, ", "))}
	}
	return nil
}

// Problems lists every problem, each prefixed with its node and component.
func (info *Info) Problems() []string {
	var out []string
	each(info, func(node string, e Endpoint) {
		for _, p := range e.Problems {
			out = append(out, fmt.Sprintf("%s %s: %s", node, e.Component, p.Message))
		}
	})
	return out
}

// ExpiringSoon names the endpoints whose certificate is marked
// ExpiringSoon, as "NODE COMPONENT (ADDRESS)".
func (info *Info) ExpiringSoon() []string {
	var out []string
	each(info, func(node string, e Endpoint) {
		if e.ExpiringSoon {
			out = append(out, fmt.Sprintf("%s %s (%s)", node, e.Component, e.Address))
		}
	})
	return out
}

func each(info *Info, f func(node string, e Endpoint)) {
	for _, n := range info.Nodes {
		for _, e := range n.Endpoints {
			f(n.Name, e)
		}
	}
	if e := info.ControlPlaneEndpoint; e != nil {
		f(endpointRow, *e)
	}
}
