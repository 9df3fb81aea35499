package cmd

import "errors"

// ExitError carries a specific exit status (for example check-expiration's
// "expires soon") with its error. An ExitError without Err is a status, not
// a failure (renew's "nothing to do"): its message is empty, and main
// prints nothing for it.
type ExitError struct {
	Code int
	Err  error
}

func (e *ExitError) Error() string {
	if e.Err == nil {
		return ""
	}
	return e.Err.Error()
}
func (e *ExitError) Unwrap() error { return e.Err }

// ExitCode is the process exit status for an error returned by a command:
// an ExitError's code, otherwise 1.
func ExitCode(err error) int {
	var e *ExitError
	if errors.As(err, &e) {
		return e.Code
	}
	return 1
}
