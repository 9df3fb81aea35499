package testcluster

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/certctl/certctl/internal/freeport"
)

// etcdPeer keys etcd's peer port in Cluster.port, so c.URL(etcdPeer) is etcd's peer URL; the
// other keys are component names.
const etcdPeer = "etcd-peer"

// Cluster is a control plane on certctl's PKI. Create it with New (or the testing wrapper
// Start), then Start it; Stop ends every process it started. Its methods are safe for concurrent
// use, but Start, Stop, Restart, StartComponent and StopComponent should not overlap.
type Cluster struct {
	opts   Options
	binDir string
	port   map[string]int // component name or etcdPeer -> port on host

	// One node's identity: NodeName and Host for New; cp-I and 127.0.0.I for node I of NewHA.
	nodeName, host string
	// etcdCluster is etcd's --initial-cluster (NAME=PEERURL,...); empty means this node alone.
	etcdCluster string
	// etcdServers is kube-apiserver's --etcd-servers; empty means this node's etcd.
	etcdServers string

	pki        *PKISpec
	pkiWritten bool

	mu    sync.Mutex
	procs map[string]*process // running (or exited, not yet stopped) components
	// manifestArgs are the flags of the manifest the Kubelet last ran, per component; they
	// replace args(name) at every later start.
	manifestArgs map[string][]string
	// startFlags are appended to a component's flags at every later start (SetStartFlags).
	startFlags map[string][]string
	kubelets   []*Kubelet // started by StartKubelet; Stop stops them first
}

// New checks opts, finds the binaries and chooses free ports. It starts nothing.
func New(opts Options) (*Cluster, error) {
	return newNode(opts, NodeName, Host)
}

func newNode(opts Options, nodeName, host string) (*Cluster, error) {
	opts = opts.withDefaults()
	if err := opts.validate(); err != nil {
		return nil, err
	}
	dir, err := filepath.Abs(opts.Dir)
	if err != nil {
		return nil, fmt.Errorf("resolve cluster folder: %w", err)
	}
	opts.Dir = dir
	binDir, err := BinDir(opts.BinDir, opts.Components...)
	if err != nil {
		return nil, err
	}
	// Ports below the ephemeral range, never two the same in this process (freeport).
	ports, err := freeport.Ports(5)
	if err != nil {
		return nil, err
	}
	c := &Cluster{
		opts:         opts,
		binDir:       binDir,
		port:         map[string]int{Etcd: ports[0], etcdPeer: ports[1], APIServer: ports[2], ControllerManager: ports[3], Scheduler: ports[4]},
		nodeName:     nodeName,
		host:         host,
		procs:        map[string]*process{},
		manifestArgs: map[string][]string{},
		startFlags:   map[string][]string{},
	}
	c.pki = &PKISpec{
		CertDir:              c.PKIDir(),
		KubeconfigDir:        c.KubeconfigDir(),
		NodeName:             c.nodeName,
		AdvertiseAddress:     c.host,
		BindPort:             c.port[APIServer],
		ControlPlaneEndpoint: c.Addr(APIServer),
		ServiceCIDR:          ServiceCIDR,
		DNSDomain:            DNSDomain,
		ExtraArgs:            c.opts.CertctlArgs,
		Log:                  fileAppender(filepath.Join(c.LogDir(), "certctl.log")),
		certctl:              func() (string, error) { return certctlBinary(c.opts.Certctl) },
	}
	return c, nil
}

// Start writes the PKI and kubeconfigs unless WritePKI did already, starts the components in
// order and waits for each to be healthy, then creates the ClusterRoleBinding kubeadm:cluster-admins
// so that admin.conf is cluster-admin. On error the components already started keep running; call
// Stop.
func (c *Cluster) Start(ctx context.Context) error {
	if !c.pkiWritten {
		if err := c.WritePKI(ctx); err != nil {
			return err
		}
	}
	for _, name := range c.opts.Components {
		if err := c.StartComponent(ctx, name); err != nil {
			return err
		}
	}
	if slices.Contains(c.opts.Components, APIServer) {
		if err := c.bootstrapRBAC(ctx); err != nil {
			return err
		}
	}
	return nil
}

// WritePKI creates the cluster's folders and runs the PKI step: Options.WritePKI if set, else
// PKISpec.WriteDefault (certctl). It starts nothing.
func (c *Cluster) WritePKI(ctx context.Context) error {
	for _, d := range []string{c.PKIDir(), c.LogDir(), c.runDir(APIServer), c.runDir(ControllerManager), c.runDir(Scheduler)} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			return fmt.Errorf("create cluster folder: %w", err)
		}
	}
	if err := os.MkdirAll(filepath.Join(c.opts.Dir, "var", "lib", "etcd"), 0o700); err != nil {
		return fmt.Errorf("create etcd data folder: %w", err)
	}
	start := time.Now()
	write := c.opts.WritePKI
	if write == nil {
		write = func(ctx context.Context, s *PKISpec) error { return s.WriteDefault(ctx) }
	}
	if err := write(ctx, c.pki); err != nil {
		return fmt.Errorf("write PKI: %w", err)
	}
	c.pkiWritten = true
	c.opts.Logf("testcluster: wrote PKI and kubeconfigs in %s (%v)", c.KubeconfigDir(), time.Since(start).Round(time.Millisecond))
	return nil
}

// PKI returns the PKI step's description, to run certctl again on this cluster's folders (for
// example to renew a certificate before Restart).
func (c *Cluster) PKI() *PKISpec { return c.pki }

// StartComponent starts component name, which must not be running, and waits until it is healthy
// (bounded by Options.ReadyTimeout and ctx). It reads the certificate files anew, so after a
// renewal it serves the renewed certificates.
func (c *Cluster) StartComponent(ctx context.Context, name string) error {
	if !slices.Contains(c.opts.Components, name) {
		return fmt.Errorf("start %s: not one of this cluster's components %q", name, c.opts.Components)
	}
	if p := c.proc(name); p != nil {
		return fmt.Errorf("start %s: already started (pid %d); stop it first", name, p.PID)
	}
	start := time.Now()
	p, err := startProcess(name, filepath.Join(c.binDir, name), c.cmdline(name), c.LogPath(name), c.opts.Detached)
	if err != nil {
		return err
	}
	c.mu.Lock()
	c.procs[name] = p
	c.mu.Unlock()
	ctx, cancel := context.WithTimeout(ctx, c.opts.ReadyTimeout)
	defer cancel()
	if err := c.waitReady(ctx, name, p); err != nil {
		return err
	}
	c.opts.Logf("testcluster: %s ready at %s, pid %d (%v)", name, c.URL(name), p.PID, time.Since(start).Round(time.Millisecond))
	return nil
}

// StopComponent stops component name (SIGTERM, then SIGKILL after Options.StopGrace) and waits
// for its process to exit. Stopping a component that is not running does nothing. It returns an
// error if the process had exited by itself before.
func (c *Cluster) StopComponent(ctx context.Context, name string) error {
	start := time.Now()
	pid, err := c.stopComponent(ctx, name)
	if pid != 0 {
		c.opts.Logf("testcluster: %s pid %d stopped (%v)", name, pid, time.Since(start).Round(time.Millisecond))
	}
	return err
}

// stopComponent is StopComponent without its log line; pid is the process stopped, 0 if none ran.
func (c *Cluster) stopComponent(ctx context.Context, name string) (pid int, err error) {
	p := c.proc(name)
	if p == nil {
		return 0, nil
	}
	err = p.stop(ctx, c.opts.StopGrace)
	c.mu.Lock()
	delete(c.procs, name)
	c.mu.Unlock()
	return p.PID, err
}

// Restart stops component name, waits for the old process to exit (an old one could still answer
// the health check), starts it again on the same ports and files, and waits until it is healthy.
func (c *Cluster) Restart(ctx context.Context, name string) error {
	if err := c.StopComponent(ctx, name); err != nil {
		return fmt.Errorf("restart %s: %w", name, err)
	}
	return c.StartComponent(ctx, name)
}

// Stop stops the Kubelets started by StartKubelet, then every running component in reverse
// start order. It returns the errors of all components (for example one that had crashed) joined.
//
// It logs one line for them all, so that a failed test's own last lines stay at the end of its
// output, where a truncated CI log shows them.
func (c *Cluster) Stop(ctx context.Context) error {
	c.stopKubelets()
	start := time.Now()
	var errs []error
	var stopped []string
	for _, name := range slices.Backward(c.opts.Components) {
		if err := c.stopInto(ctx, name, &stopped); err != nil {
			errs = append(errs, err)
		}
	}
	c.logStopped(stopped, start)
	return errors.Join(errs...)
}

// stopInto stops component name and adds "NAME (pid N)" to stopped if it ran.
func (c *Cluster) stopInto(ctx context.Context, name string, stopped *[]string) error {
	pid, err := c.stopComponent(ctx, name)
	if pid != 0 {
		*stopped = append(*stopped, fmt.Sprintf("%s (pid %d)", name, pid))
	}
	return err
}

// logStopped logs the components stopped since start in one line, if any.
func (c *Cluster) logStopped(stopped []string, start time.Time) {
	if len(stopped) > 0 {
		c.opts.Logf("testcluster: stopped %s in %v", strings.Join(stopped, ", "), time.Since(start).Round(time.Millisecond))
	}
}

// PID returns the process ID of component name, or 0 if it is not running.
func (c *Cluster) PID(name string) int {
	if p := c.proc(name); p != nil {
		return p.PID
	}
	return 0
}

// proc returns the process of component name, or nil if it is not running.
func (c *Cluster) proc(name string) *process {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.procs[name]
}

// Dir returns Options.Dir, made absolute.
func (c *Cluster) Dir() string { return c.opts.Dir }

// KubeconfigDir returns the folder of the kubeconfig files, DIR/etc/kubernetes.
func (c *Cluster) KubeconfigDir() string { return filepath.Join(c.opts.Dir, "etc", "kubernetes") }

// PKIDir returns the certificate folder, DIR/etc/kubernetes/pki.
func (c *Cluster) PKIDir() string { return filepath.Join(c.KubeconfigDir(), "pki") }

// Kubeconfig returns the path of the kubeconfig file name, e.g. "admin.conf".
func (c *Cluster) Kubeconfig(name string) string { return filepath.Join(c.KubeconfigDir(), name) }

// LogDir returns the folder of the logs, DIR/logs.
func (c *Cluster) LogDir() string { return filepath.Join(c.opts.Dir, "logs") }

// LogPath returns the log file of component name, DIR/logs/NAME.log.
func (c *Cluster) LogPath(name string) string { return filepath.Join(c.LogDir(), name+".log") }

func (c *Cluster) runDir(name string) string { return filepath.Join(c.opts.Dir, "var", "run", name) }

// Port returns the port of component name (for etcd its client port), chosen by New.
func (c *Cluster) Port(name string) int { return c.port[name] }

// EtcdPeerPort returns etcd's peer port.
func (c *Cluster) EtcdPeerPort() int { return c.port[etcdPeer] }

// Addr returns HOST:PORT of component name.
func (c *Cluster) Addr(name string) string { return net.JoinHostPort(c.host, fmt.Sprint(c.port[name])) }

// NodeName returns the node's name: NodeName for New, cp-I for node I of NewHA.
func (c *Cluster) NodeName() string { return c.nodeName }

// Host returns the address the node's components listen on: Host for New, 127.0.0.I for node I
// of NewHA.
func (c *Cluster) Host() string { return c.host }

// URL returns https://HOST:PORT of component name.
func (c *Cluster) URL(name string) string { return "https://" + c.Addr(name) }
