package phases

import "fmt"

// errJoinNeeds is the error for a CA or the service-account key pair
// missing on a node that joins (config.Cluster.Joining): it must have the
// cluster's, the very files every other node has, so certctl makes none.
func errJoinNeeds(env *Env, path, name string) error {
	return fmt.Errorf("%s is missing: a joining control-plane node uses the cluster's %s, never a new one: run `%s` first (after `certctl certs upload` on a control-plane node; docs/ha.md), or copy it from a control-plane node", path, name, env.downloadCommand())
}

// downloadCommand is the `certctl certs download` that gets the cluster's
// CAs and key pair on a joining node, with the flags of env.Download (the
// run's --config: without it, the download of an external etcd's files
// is refused), else the folders'.
func (env *Env) downloadCommand() string {
	flags := env.Download
	if flags == "" {
		flags = env.folderFlags()
	}
	return "certctl certs download --certificate-key KEY" + flags
}
