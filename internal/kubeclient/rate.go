package kubeclient

import (
	"fmt"
	"math"
	"strconv"
)

// QPS is the value of a --kube-api-qps flag (a pflag.Value), refused at
// parsing unless greater than 0: client-go turns its rate limiter off for
// a negative QPS, which a typo must not do to a shared API server, and
// silently uses 5 for 0 (rest.DefaultQPS), which is not what was asked.
type QPS float32

func (v *QPS) String() string { return strconv.FormatFloat(float64(*v), 'g', -1, 32) }
func (v *QPS) Type() string   { return "float32" }
func (v *QPS) Set(s string) error {
	q, err := strconv.ParseFloat(s, 32)
	if err != nil || !(q > 0) || math.IsInf(q, 0) {
		return fmt.Errorf("pass a number of requests per second greater than 0")
	}
	*v = QPS(q)
	return nil
}

// Burst is the value of a --kube-api-burst flag, refused at parsing
// unless 1 or more: client-go refuses a burst of 0 with a QPS, in its own
// words.
type Burst int

func (v *Burst) String() string { return strconv.Itoa(int(*v)) }
func (v *Burst) Type() string   { return "int" }
func (v *Burst) Set(s string) error {
	b, err := strconv.Atoi(s)
	if err != nil || b < 1 {
		return fmt.Errorf("pass a whole number of requests, 1 or more")
	}
	*v = Burst(b)
	return nil
}
