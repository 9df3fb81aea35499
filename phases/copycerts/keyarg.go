package copycerts

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"golang.org/x/term"
)

// FromStdin is the value of --certificate-key that reads the key from
// standard input (KeyArg).
const FromStdin = "-"

// KeyPrompt is what KeyArg asks on a terminal.
const KeyPrompt = "Certificate key (not shown): "

// KeyArg is the certificate key that --certificate-key value gives: value
// itself, or, for FromStdin, the first line of stdin, so that the key is
// not on the command line, where every local user reads it (ps,
// /proc/PID/cmdline) while the command runs, minutes for a CA rotation
// that restarts the control plane.
//
// When stdin is a terminal, a person is typing: KeyArg asks for the key on
// prompt (standard error, so that stdout stays the command's) and reads it
// without echo, as ssh and sudo ask for a password, rather than waiting
// silently; piped, it asks nothing. An interruption (ctx) while it waits
// gives the terminal its echo back.
func KeyArg(ctx context.Context, value string, stdin io.Reader, prompt io.Writer) (string, error) {
	if value != FromStdin {
		return value, nil
	}
	var line string
	var err error
	if f, ok := stdin.(*os.File); ok && term.IsTerminal(int(f.Fd())) {
		line, err = readHidden(ctx, f, prompt)
	} else {
		line, err = bufio.NewReader(stdin).ReadString('\n')
	}
	if err != nil && !errors.Is(err, io.EOF) {
		return "", fmt.Errorf("--certificate-key -: read the key from standard input: %w", err)
	}
	if line = strings.TrimSpace(line); line == "" {
		return "", errors.New("--certificate-key -: standard input holds no key: give it the key, e.g. printf '%s\\n' \"$KEY\" | sudo certctl ... --certificate-key -")
	}
	return line, nil
}

// readHidden asks for the key on prompt and reads a line from the terminal
// tty without echo; when ctx ends first, it gives the terminal back its
// state (echo on) and returns ctx's error: certctl then exits, which would
// otherwise leave the shell without echo.
func readHidden(ctx context.Context, tty *os.File, prompt io.Writer) (string, error) {
	fd := int(tty.Fd())
	state, err := term.GetState(fd)
	if err != nil {
		return "", err
	}
	fmt.Fprint(prompt, KeyPrompt)
	type read struct {
		b   []byte
		err error
	}
	done := make(chan read, 1)
	go func() {
		b, err := term.ReadPassword(fd)
		done <- read{b, err}
	}()
	select {
	case r := <-done:
		fmt.Fprintln(prompt) // the newline typed was not echoed
		return string(r.b), r.err
	case <-ctx.Done():
		_ = term.Restore(fd, state)
		fmt.Fprintln(prompt)
		return "", ctx.Err()
	}
}
