package renew

import (
	"fmt"
	"path/filepath"
	"strings"

	"github.com/certctl/certctl/pki"
)

// warnDropIns warns of each drop-in of t.UnitDir (NAME.d/*.conf, what
// `systemctl edit NAME` writes, as docs/cron.md suggests for other renew
// flags) that sets the line install-timer writes from its flags: the
// service's ExecStart (--config, --cert-dir, --kubeconfig-dir,
// --certctl-path) or the timer's OnCalendar (--schedule, --stagger,
// --offset). systemd applies the drop-in after the unit
// (systemd.unit(5), "drop-in"), so the units written here would change
// nothing there, and a second install-timer with new flags would seem to
// work and not. A drop-in is the user's: it is named, not changed.
func (t Timer) warnDropIns() {
	for _, u := range []struct{ unit, key, flags string }{
		{ServiceName, "ExecStart", "--config, --cert-dir, --kubeconfig-dir and --certctl-path"},
		{TimerName, "OnCalendar", "--schedule and the node's offset"},
	} {
		confs, _ := filepath.Glob(filepath.Join(t.UnitDir, u.unit+".d", "*.conf"))
		for _, p := range confs {
			data, err := pki.ReadFile(p) // a FIFO is refused, not waited on
			if err != nil || !setsKey(string(data), u.key) {
				continue
			}
			fmt.Fprintf(t.ErrOut, "[warning] %s sets %s=, which systemd applies over the one of %s: %s are not used while it does; change it there (systemctl edit %s) or remove it\n", p, u.key, filepath.Join(t.UnitDir, u.unit), u.flags, u.unit)
		}
	}
}

// setsKey reports whether the unit file text has a line that sets key,
// as systemd reads it: whitespace around, "#" and ";" start comments.
func setsKey(text, key string) bool {
	for _, l := range strings.Split(text, "\n") {
		l = strings.TrimSpace(l)
		if k, _, ok := strings.Cut(l, "="); ok && !strings.HasPrefix(l, "#") && !strings.HasPrefix(l, ";") && strings.TrimSpace(k) == key {
			return true
		}
	}
	return false
}
