package renew

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/certctl/certctl/internal/pkitest"
	"github.com/certctl/certctl/phases/clusterview"
	"github.com/certctl/certctl/pki"
)

// TestRestartGatesOneClient: a run's restarts make one API client, the
// Leases' (RestartGates), and the check of the other kube-apiservers lists
// their mirror pods with it: APIServers made a second one from the
// kubeconfig at its first check, so the kubeconfig was parsed twice. Once
// RestartGates has made its client, the kubeconfig is not read again: the
// list succeeds with the file gone, and its error names the kubeconfig the
// client came from, as the Lease refusals do.
func TestRestartGatesOneClient(t *testing.T) {
	yes := true
	pod := corev1.Pod{TypeMeta: metav1.TypeMeta{Kind: "Pod", APIVersion: "v1"}, ObjectMeta: metav1.ObjectMeta{Name: "kube-apiserver-cp-2", Namespace: "kube-system",
		Annotations:     map[string]string{clusterview.MirrorPodAnnotation: "0123abcd", clusterview.APIServerEndpointAnnotation: "10.0.0.2:6443"},
		OwnerReferences: []metav1.OwnerReference{{APIVersion: "v1", Kind: "Node", Name: "cp-2", Controller: &yes}},
		Labels:          map[string]string{"component": "kube-apiserver", "tier": "control-plane"}}, Spec: corev1.PodSpec{NodeName: "cp-2"}}
	pods, err := json.Marshal(corev1.PodList{TypeMeta: metav1.TypeMeta{Kind: "PodList", APIVersion: "v1"}, Items: []corev1.Pod{pod}})
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name      string
		forbidden bool
		want      string
	}{
		{"listed", false, "[{cp-2 10.0.0.2:6443}]"},
		{"forbidden", true, "list the kube-apiserver mirror pods in kube-system with kubeconfig "},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Content-Type", "application/json")
				switch {
				case r.URL.Path == "/apis/coordination.k8s.io/v1/namespaces/kube-system/leases":
					fmt.Fprint(w, `{"kind":"LeaseList","apiVersion":"coordination.k8s.io/v1","metadata":{},"items":[]}`)
				case r.URL.Path == "/api/v1/namespaces/kube-system/pods" && tc.forbidden:
					w.WriteHeader(http.StatusForbidden)
					fmt.Fprint(w, `{"kind":"Status","apiVersion":"v1","status":"Failure","reason":"Forbidden","code":403,"message":"pods is forbidden"}`)
				case r.URL.Path == "/api/v1/namespaces/kube-system/pods":
					w.Write(pods)
				default:
					http.NotFound(w, r)
				}
			}))
			defer srv.Close()
			n := pkitest.NewNode(t, nil)
			kubeconfig := n.APIKubeconfig(t, srv.URL, pki.NewValidity(time.Now(), time.Hour, time.Hour))
			var out bytes.Buffer
			coordinate, apiServers := RestartGates(t.Context(), Coordination{Kubeconfig: kubeconfig, NodeName: "cp-1"}, &out)
			if coordinate == nil || apiServers == nil {
				t.Fatalf("the node restarts alone: %q", out.String())
			}
			if err := os.Remove(kubeconfig); err != nil {
				t.Fatal(err)
			}
			peers, err := apiServers.Others(t.Context())
			if tc.forbidden {
				if err == nil || !strings.Contains(err.Error(), tc.want+kubeconfig+": pods is forbidden") {
					t.Errorf("err %v; want %q with the kubeconfig", err, tc.want)
				}
				return
			}
			if got := fmt.Sprint(peers); err != nil || got != tc.want {
				t.Errorf("peers %s, %v; want %s, listed with the Leases' client", got, err, tc.want)
			}
		})
	}
}
