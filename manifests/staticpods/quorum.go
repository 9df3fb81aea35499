package staticpods

import (
	"cmp"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"
)

// EtcdQuorum is how Restart makes sure, before it restarts this node's
// etcd member, that the other members keep etcd's quorum without it: the
// Lease that serialises the restarts (phases/renew) keeps two nodes from
// restarting at once, not a node from restarting while another node's
// member is already down, which with three members leaves one and the
// cluster without a quorum.
//
// Restart asks this node's member (its manifest's https
// --listen-client-urls) for the member list (ListEtcdMembers), then GETs
// /health of every other voting member's client URLs. If fewer than a
// quorum (n/2+1 of the n voting members) would be healthy with this member
// down, it checks again every Poll, for up to Wait by Options.Clock and
// Sleep; still short, it does not restart etcd and fails it with one line
// naming the unhealthy members.
//
// Not gated, each said in one line on Options.Out:
//   - one member: there is no other to keep a quorum; two members: a
//     quorum needs both, so every restart of either loses it for a moment,
//     and a gate would leave the restart owed forever;
//   - a member list this node's member does not give (down, hung, its
//     certificate refused): a member that does not answer cannot be taken
//     down; the restart, with the renewed files, is what may bring it
//     back, and refusing it would leave a node whose etcd is down (or whose
//     certificates expired) without its fix. The same holds when etcd has
//     no quorum already, as this member's own /health says (not healthy):
//     restarting cannot lose what is lost, and may restore it (peer
//     certificates renewed on every node after they expired). Too few
//     others seen healthy while this member is healthy is no such proof:
//     its /health needs a quorum, so that restart is waited for. A
//     member whose client URL cannot be reached from this node (port 2379
//     closed between the nodes) counts as healthy when this member is
//     connected to it by its peer URL (connectedPeers).
//   - this member a learner, which does not vote.
type EtcdQuorum struct {
	// Roots verifies the members' serving certificates: the node's etcd CA.
	Roots *x509.CertPool
	// Client is presented to the members, which ask for a client
	// certificate: etcd/healthcheck-client or apiserver-etcd-client.
	Client *tls.Certificate
	// Unchecked, when not "", says why the members cannot be asked (no
	// etcd CA or client certificate on the node): the restart is then not
	// gated, and Restart says why.
	Unchecked string
	// Wait bounds the wait for the other members to be healthy (the
	// Lease's wait in phases/renew); 0: checked once.
	Wait time.Duration
	// Poll is the time between two checks; 5 s when 0.
	Poll time.Duration
	// Timeout bounds each request to a member; 5 s when 0.
	Timeout time.Duration

	// onWait, when set, is called once, before the first wait: Restart
	// hands the restart Lease on then (gated), so that the node
	// whose member is down can take it and restart that member, which is
	// what this node waits for.
	onWait func()
}

// memberHealth is one voting member other than this node's, and why it
// is not healthy ("" when it is).
type memberHealth struct {
	member EtcdMember
	url    string
	why    string
	// reached: the member answered over HTTP (its why, if any, is its
	// own answer), rather than not at all from this node.
	reached bool
}

// check returns nil when this node's etcd member, which serves at local
// (https://HOST:PORT), may restart; else why not, as one line. A run
// interrupted (ctx ended) while it checks is an error: the failures it
// causes must not read as members that do not answer.
func (q *EtcdQuorum) check(ctx context.Context, local string, o Options) error {
	timeout, poll := cmp.Or(q.Timeout, 5*time.Second), cmp.Or(q.Poll, 5*time.Second)
	client := etcdHTTPClient(q.Roots, q.Client, timeout)
	defer client.CloseIdleConnections()
	self, others, n, err := q.members(ctx, client, local, timeout, o.Out)
	if err != nil || self == nil {
		return err
	}
	quorum := n/2 + 1
	start := o.Clock()
	next := start
	for {
		health := etcdHealth(ctx, client, others, timeout)
		why, _ := askHealth(ctx, client, local, timeout)
		if err := ctx.Err(); err != nil {
			return fmt.Errorf("check etcd's other members: %w", err)
		}
		viaPeers := ""
		if why == "" {
			viaPeers = connectedPeers(ctx, client, local, timeout, health)
		}
		var bad []string
		for _, h := range health {
			if h.why != "" {
				bad = append(bad, fmt.Sprintf("%s (%s: %s)", name(h.member), h.url, h.why))
			}
		}
		healthy := len(others) - len(bad)
		switch {
		case healthy >= quorum:
			say(o.Out, "%d of the other %d etcd members are healthy%s: the quorum (%d of %d) holds while this one restarts", healthy, len(others), viaPeers, quorum, n)
			return nil
		case why != "":
			// Only this member's own answer says that the quorum is lost:
			// its /health is true only with a leader and a linearizable
			// read, that is with a quorum, so while it is healthy some of
			// the members seen as unhealthy (slow, or unreachable from
			// here) still vote, and the restart must wait as for any.
			say(o.Out, "etcd has no quorum now (this member %s: %s; unhealthy: %s): not gated, as restarting this member cannot lose a quorum that is lost, and may be what restores it",
				self.Name, cmp.Or(why, "healthy"), strings.Join(bad, ", "))
			return nil
		}
		waited := o.Clock().Sub(start)
		if waited >= q.Wait {
			return fmt.Errorf("not restarted, as etcd would lose its quorum: unhealthy: %s, so with this node's member %s down only %d of %d members would be healthy, fewer than the quorum of %d (waited %s): bring %s back, then run certctl again",
				strings.Join(bad, ", "), self.Name, healthy, n, quorum, waited.Round(time.Second), backList(health))
		}
		if now := o.Clock(); !now.Before(next) {
			say(o.Out, "waiting up to %s for etcd member%s %s to be healthy: with this member down, only %d of %d members would be, fewer than the quorum of %d",
				q.Wait, plural(len(bad)), strings.Join(bad, ", "), healthy, n, quorum)
			next = now.Add(o.ProgressEvery)
		}
		if q.onWait != nil {
			q.onWait()
			q.onWait = nil
		}
		if err := o.Sleep(ctx, min(poll, q.Wait-waited)); err != nil {
			return fmt.Errorf("wait for etcd's other members to be healthy: %w", err)
		}
	}
}

// members reads etcd's member list from this node's member at local and
// returns that member, the other voting members, and how many vote; a nil
// member, after saying why on out, when the restart is not gated.
func (q *EtcdQuorum) members(ctx context.Context, client *http.Client, local string, timeout time.Duration, out io.Writer) (self *EtcdMember, others []EtcdMember, n int, err error) {
	if q.Unchecked != "" {
		say(out, "the other etcd members' health is not checked before the restart (%s): not gated on etcd's quorum", q.Unchecked)
		return nil, nil, 0, nil
	}
	if local == "" {
		say(out, "its manifest names no https client URL to read etcd's member list from: not gated on etcd's quorum")
		return nil, nil, 0, nil
	}
	list, err := listEtcdMembers(ctx, client, []string{local}, timeout)
	if ctx.Err() != nil {
		return nil, nil, 0, fmt.Errorf("read etcd's member list: %w", ctx.Err())
	}
	if err != nil {
		say(out, "cannot read etcd's member list from this node's member (%v): not gated on etcd's quorum, as a member that does not answer cannot be taken down, and the restart may be what brings it back", err)
		return nil, nil, 0, nil
	}
	self, others, n = splitMembers(list, local)
	switch {
	case self == nil:
		say(out, "this node's member %s (ID %s) is not in etcd's member list: not gated on etcd's quorum", local, list.MemberID)
	case self.IsLearner:
		say(out, "this node's member %s is a learner, which does not vote: not gated on etcd's quorum", self.Name)
	case n == 1:
		say(out, "a single member (%s): not gated on etcd's quorum, there is no other member to keep it", self.Name)
	case n == 2:
		say(out, "2 members: a quorum needs both, so etcd has none while this one restarts, whatever certctl does: not gated")
	default:
		return self, others, n, nil
	}
	return nil, nil, 0, nil
}

// say prints one line of the check on out.
func say(out io.Writer, format string, args ...any) {
	fmt.Fprintf(out, "[restart] etcd: "+format+"\n", args...)
}

// splitMembers finds this node's member in list (the one that answered,
// by the header's member ID; else the one with local as a client URL)
// and returns it, the other voting members, and how many members vote.
func splitMembers(list *EtcdMemberList, local string) (self *EtcdMember, others []EtcdMember, voting int) {
	for i, m := range list.Members {
		if self == nil && (list.MemberID != "" && m.ID == list.MemberID || list.MemberID == "" && hasURL(m.ClientURLs, local)) {
			self = &list.Members[i]
			continue
		}
		if !m.IsLearner {
			others = append(others, m)
		}
	}
	voting = len(others)
	if self != nil && !self.IsLearner {
		voting++
	}
	return self, others, voting
}

func hasURL(urls []string, u string) bool {
	for _, v := range urls {
		if strings.TrimSuffix(v, "/") == strings.TrimSuffix(u, "/") {
			return true
		}
	}
	return false
}

// etcdHealth asks every member at once: members that hang cost one timeout.
func etcdHealth(ctx context.Context, client *http.Client, members []EtcdMember, timeout time.Duration) []memberHealth {
	out := make([]memberHealth, len(members))
	var wg sync.WaitGroup
	for i, m := range members {
		out[i] = memberHealth{member: m, why: "no client URL (a member added that never started)"}
		if len(m.ClientURLs) > 0 {
			out[i].url = m.ClientURLs[0]
		}
		wg.Go(func() {
			// Healthy at any of its client URLs; else the first one's answer.
			for j, u := range m.ClientURLs {
				why, reached := askHealth(ctx, client, u, timeout)
				if j == 0 || why == "" {
					out[i].url, out[i].why, out[i].reached = u, why, reached
				}
				if why == "" {
					return
				}
			}
		})
	}
	wg.Wait()
	return out
}

// askHealth GETs /health of the member at the client URL member: "" when it answers
// {"health":"true"}, else why it is not healthy. A NOSPACE alarm is
// excluded, as kubeadm's liveness probe of etcd excludes it: it makes
// every member answer false while each still votes, which would read as
// a quorum lost and let the restart take one more member down.
// reached reports whether the member answered over HTTP at all.
func askHealth(ctx context.Context, client *http.Client, member string, timeout time.Duration) (why string, reached bool) {
	body, status, err := askMember(ctx, client, member, "/health?exclude=NOSPACE", timeout)
	if err != nil {
		return err.Error(), false
	}
	var h struct {
		Health string `json:"health"`
		Reason string `json:"reason"`
	}
	if err := json.Unmarshal(body, &h); err != nil {
		return fmt.Sprintf("/health: %s %s", status, strings.TrimSpace(string(body))), true
	}
	if h.Health != "true" {
		if h.Reason != "" {
			return fmt.Sprintf("health %s: %s", h.Health, h.Reason), true
		}
		return "health " + h.Health, true
	}
	return "", true
}

// askMember GETs path of the member at the client URL member, and
// returns the start of its body (limit bytes) and status; err, one short
// line, when no answer came.
func askMember(ctx context.Context, client *http.Client, member, path string, timeout time.Duration, limit ...int64) ([]byte, string, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, strings.TrimSuffix(member, "/")+path, nil)
	if err != nil {
		return nil, "", err
	}
	resp, err := client.Do(req)
	if err != nil {
		if IsTimeout(err) {
			return nil, "", fmt.Errorf("no answer within %v", timeout)
		}
		// "dial tcp ...: connection refused", not the request again.
		if ue := (*url.Error)(nil); errors.As(err, &ue) {
			return nil, "", ue.Err
		}
		return nil, "", err
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, cmp.Or(append(limit, 4096)...)))
	return body, resp.Status, nil
}

// connectedPeers counts as healthy, in health, the members whose client
// URL this node cannot reach (port 2379 closed between the nodes, which
// kubeadm's stacked etcd does not need: each kube-apiserver asks its own
// member) but that this node's member, healthy, is connected to by their
// peer URL: its etcd_network_active_peers{Remote="ID in hex"} is 1 (its
// /metrics, on the client URL too). It returns what the line that lets the
// restart go on says of them, "" when none. Without the metric (another
// etcd, /metrics refused) nothing is counted: the restart then waits, as
// for members that do not answer.
func connectedPeers(ctx context.Context, client *http.Client, local string, timeout time.Duration, health []memberHealth) string {
	var unreached []int
	for i, h := range health {
		if h.why != "" && !h.reached {
			unreached = append(unreached, i)
		}
	}
	if len(unreached) == 0 {
		return ""
	}
	body, status, err := askMember(ctx, client, local, "/metrics", timeout, 4<<20)
	if err != nil || !strings.HasPrefix(status, "200") {
		return ""
	}
	active := map[string]bool{}
	for line := range strings.Lines(string(body)) {
		rest, ok := strings.CutPrefix(line, "etcd_network_active_peers{")
		labels, value, found := strings.Cut(rest, "} ")
		if !ok || !found || strings.TrimSpace(value) == "0" {
			continue
		}
		for l := range strings.SplitSeq(labels, ",") {
			if id, ok := strings.CutPrefix(l, `Remote="`); ok {
				active[strings.TrimSuffix(id, `"`)] = true
			}
		}
	}
	var names []string
	for _, i := range unreached {
		id, err := strconv.ParseUint(health[i].member.ID, 10, 64)
		if err != nil || !active[strconv.FormatUint(id, 16)] {
			continue
		}
		names = append(names, fmt.Sprintf("%s (%s: %s)", name(health[i].member), health[i].url, health[i].why))
		health[i].why = ""
	}
	if len(names) == 0 {
		return ""
	}
	return fmt.Sprintf(" (%s not reached from this node, but connected to this member by the peer URL, as its etcd_network_active_peers says)", strings.Join(names, ", "))
}

func name(m EtcdMember) string {
	if m.Name != "" {
		return m.Name
	}
	return "ID " + m.ID
}

func plural(n int) string {
	if n == 1 {
		return ""
	}
	return "s"
}

// backList says which members to bring back: "cp-2's etcd", "cp-2's and
// cp-3's etcd".
func backList(health []memberHealth) string {
	var names []string
	for _, h := range health {
		if h.why != "" {
			names = append(names, name(h.member)+"'s")
		}
	}
	return strings.Join(names, " and ") + " etcd"
}
