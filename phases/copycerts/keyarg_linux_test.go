package copycerts

import (
	"bytes"
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/certctl/certctl/internal/ptytest"
)

// TestKeyArgOnTerminal: --certificate-key - on a terminal asks for the key
// on the prompt writer (standard error) and reads it without echo, as
// sudo asks for a password, rather than waiting silently; interrupted
// while it waits, it gives the terminal its echo back.
func TestKeyArgOnTerminal(t *testing.T) {
	key := strings.Repeat("ab", KeySize)
	t.Run("typed", func(t *testing.T) {
		ptmx, tty := ptytest.Open(t, 80)
		var prompt bytes.Buffer
		type result struct {
			key string
			err error
		}
		done := make(chan result, 1)
		go func() {
			k, err := KeyArg(context.Background(), FromStdin, tty, &prompt)
			done <- result{k, err}
		}()
		waitEcho(t, tty, false) // the key typed is not shown
		if _, err := ptmx.WriteString(key + "\n"); err != nil {
			t.Fatal(err)
		}
		var r result
		select {
		case r = <-done:
		case <-time.After(10 * time.Second):
			t.Fatal("KeyArg did not return the typed key")
		}
		if r.err != nil || r.key != key {
			t.Errorf("KeyArg = %q, %v; want the key typed", r.key, r.err)
		}
		if prompt.String() != KeyPrompt+"\n" {
			t.Errorf("prompt %q, want %q and a newline", prompt.String(), KeyPrompt)
		}
		if !echo(t, tty) {
			t.Error("echo still off after the key was read")
		}
	})
	t.Run("interrupted", func(t *testing.T) {
		_, tty := ptytest.Open(t, 80)
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan error, 1)
		go func() {
			_, err := KeyArg(ctx, FromStdin, tty, &bytes.Buffer{})
			done <- err
		}()
		waitEcho(t, tty, false)
		cancel()
		if err := <-done; !errors.Is(err, context.Canceled) {
			t.Errorf("KeyArg interrupted: %v, want context.Canceled", err)
		}
		if !echo(t, tty) {
			t.Error("echo left off after the interruption: the shell would not show what is typed")
		}
	})
}

// echo reports whether the terminal echoes what is typed.
func echo(t *testing.T, tty interface{ Fd() uintptr }) bool {
	t.Helper()
	tio, err := unix.IoctlGetTermios(int(tty.Fd()), unix.TCGETS)
	if err != nil {
		t.Fatal(err)
	}
	return tio.Lflag&unix.ECHO != 0
}

// waitEcho waits until the terminal's echo is on (want) or off.
func waitEcho(t *testing.T, tty interface{ Fd() uintptr }, want bool) {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); echo(t, tty) != want; time.Sleep(5 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("the terminal's echo is not %v", want)
		}
	}
}
