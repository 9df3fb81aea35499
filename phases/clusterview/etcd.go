package clusterview

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"time"

	"github.com/certctl/certctl/manifests/staticpods"
)

// Member is one etcd member as etcd's member list gives it.
type Member = staticpods.EtcdMember

// memberList asks endpoints (etcd client URLs) for etcd's member list
// (staticpods.ListEtcdMembers, which renew's restarts of etcd share): it
// returns the members and the endpoint that answered. Each member is
// verified against every CA of cas, once: during a CA rotation a member
// may serve either CA's certificate, and asking again for the other CA
// cost a second timeout when a member hangs.
func memberList(ctx context.Context, cas []*x509.Certificate, cert *tls.Certificate, endpoints []string, timeout time.Duration) ([]Member, string, error) {
	list, err := staticpods.ListEtcdMembers(ctx, cas, cert, endpoints, timeout)
	if err != nil {
		return nil, "", err
	}
	return list.Members, list.From, nil
}

// isTimeout says whether err is a timeout (staticpods.IsTimeout).
func isTimeout(err error) bool { return staticpods.IsTimeout(err) }
