package pki

import (
	"context"
	"crypto/rand"
	"runtime"
	"testing"
	"time"
)

// BenchmarkKeyPool11RSA2048 measures what parallel key generation alone
// can give `init-phase certs all` and `renew all` (11 RSA-2048 keys each):
// every iteration generates 11 keys one after another, as kubeadm does,
// then 11 through a KeyPool with GOMAXPROCS workers, and the benchmark
// reports the ratio of the pool's total time to the serial total
// (pool/serial). The runs alternate, so that load from elsewhere weighs on
// both alike. With n cores and keys of equal cost the floor is 1/n; RSA
// key generation time varies widely from key to key (a random prime
// search), so run it for many iterations (-benchtime 40x or more).
func BenchmarkKeyPool11RSA2048(b *testing.B) {
	const n = 11
	workers := runtime.GOMAXPROCS(0)
	var serial, pool time.Duration
	runSerial := func() {
		start := time.Now()
		for k := 0; k < n; k++ {
			if _, err := GenerateKey(rand.Reader, RSA2048); err != nil {
				b.Fatal(err)
			}
		}
		serial += time.Since(start)
	}
	runPool := func() {
		start := time.Now()
		p := NewKeyPool(rand.Reader, RSA2048, n, workers)
		for k := 0; k < n; k++ {
			if _, err := p.Get(context.Background()); err != nil {
				b.Fatal(err)
			}
		}
		pool += time.Since(start)
		// A worker that lost the race for the last key is still busy: let
		// it finish outside the timings, so that it slows neither.
		p.Close()
		p.workers.Wait()
	}
	for i := 0; i < b.N; i++ {
		// Alternate the order, so that neither always runs first.
		if i%2 == 0 {
			runSerial()
			runPool()
		} else {
			runPool()
			runSerial()
		}
	}
	b.ReportMetric(float64(serial.Milliseconds())/float64(b.N), "serial-ms/op")
	b.ReportMetric(float64(pool.Milliseconds())/float64(b.N), "pool-ms/op")
	b.ReportMetric(float64(pool)/float64(serial), "pool/serial")
	b.ReportMetric(float64(workers), "workers")
}
