package bounded_test

import (
	"context"
	"errors"
	"path/filepath"
	"strings"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/certctl/certctl/internal/bounded"
	"github.com/certctl/certctl/internal/kubeclient"
	"github.com/certctl/certctl/internal/pkitest"
)

// TestCallExecPluginHangs: a request of a real client whose kubeconfig's
// exec credential plugin hangs returns at its context's deadline through
// bounded.Call, with an error that says what may not have answered; client-go
// alone waits for the plugin (30 s here).
func TestCallExecPluginHangs(t *testing.T) {
	path := filepath.Join(t.TempDir(), "plugin.conf")
	pkitest.HangingExecPluginKubeconfig(t, path)
	c, err := kubeclient.New(kubeclient.Options{Kubeconfig: path})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	start := time.Now()
	_, err = bounded.Call(ctx, func(ctx context.Context) (any, error) {
		return c.CoreV1().ConfigMaps("kube-system").Get(ctx, "kubeadm-config", metav1.GetOptions{})
	})
	if took := time.Since(start); took > 5*time.Second {
		t.Errorf("the Get took %v, want about 1 s (its context's deadline)", took.Round(time.Second))
	}
	if err == nil || !errors.Is(err, context.DeadlineExceeded) || !strings.Contains(err.Error(), "exec credential plugin") {
		t.Errorf("error %v, want one that says the plugin may not have answered, wrapping the deadline", err)
	}
}

// TestCallReturnsTheAnswer: a call that returns in time gives its own
// result and error, with a context that is never done too.
func TestCallReturnsTheAnswer(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	mine := errors.New("mine")
	for _, ctx := range []context.Context{ctx, context.Background()} {
		v, err := bounded.Call(ctx, func(context.Context) (int, error) { return 7, mine })
		if v != 7 || err != mine {
			t.Errorf("Call = %d, %v; want 7, mine", v, err)
		}
	}
}
