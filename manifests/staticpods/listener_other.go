//go:build !linux

package staticpods

import "errors"

// listenerPID cannot tell a restarted process where there is no /proc: the
// served certificate is then the only check.
func listenerPID(host string, port int) (int, error) {
	return 0, errors.New("finding the process on a port needs Linux's /proc")
}

// processesRunning cannot list the processes where there is no /proc.
func processesRunning(argv []string) ([]int, error) {
	return nil, errors.New("listing the processes needs Linux's /proc")
}
